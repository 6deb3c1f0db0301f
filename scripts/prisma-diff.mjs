// Prints the SQL that takes one Prisma schema to another, computed offline by Prisma 6's wasm
// schema engine: the same DDL `prisma migrate dev` would write.
//
//   DATABASE_URL=postgresql://... node scripts/prisma-diff.mjs [--from <old schema.prisma>] [--to <schema.prisma>]
//
// Without --from the diff starts from an empty database (the whole schema). To add a migration:
//   git show HEAD:prisma/schema.prisma > /tmp/old.prisma
//   node scripts/prisma-diff.mjs --from /tmp/old.prisma > prisma/migrations/<timestamp>_<name>/migration.sql
// The engine needs a reachable PostgreSQL to start, although it reads nothing from it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Rewrites a Prisma 7 schema into what Prisma 6 accepts: a datasource url and the client engine. */
export function toPrisma6Schema (source) {
  return source
    .replace(/^(\s*provider\s*=\s*"postgresql")/m, '$1\n  url      = env("DATABASE_URL")')
    .replace(/^(\s*provider\s*=\s*"prisma-client")/m, '$1\n  engineType = "client"')
}

/** Returns the SQL from `fromFile` (or an empty database) to `toFile`. */
export async function diffSql ({ fromFile, toFile, databaseUrl }) {
  const dir = mkdtempSync(join(tmpdir(), 'prisma-diff-'))
  try {
    const to = join(dir, 'to.prisma')
    writeFileSync(to, toPrisma6Schema(readFileSync(toFile, 'utf8')))
    const args = [join(root, 'node_modules/prisma6/build/index.js'), 'migrate', 'diff',
      '--config', join(root, 'prisma/tooling/diff.config.ts')]
    if (fromFile) {
      const from = join(dir, 'from.prisma')
      writeFileSync(from, toPrisma6Schema(readFileSync(fromFile, 'utf8')))
      args.push('--from-schema-datamodel', from)
    } else {
      args.push('--from-empty')
    }
    args.push('--to-schema-datamodel', to, '--script')
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PRISMA6_SCHEMA: to,
      CHECKPOINT_DISABLE: '1',
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      NODE_OPTIONS: '' // loaders of a parent process (vitest, tsx) have no business in the CLI
    }
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    const code = await new Promise((resolve) => child.on('close', resolve))
    // An empty script with exit 0 is what the CLI prints when its engine did not run at all.
    if (code !== 0 || (!/\S/.test(out) && !/This is an empty migration/.test(out))) {
      throw new Error(`prisma6 migrate diff failed (exit ${code}): ${err.trim() || out.trim()}`)
    }
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
  const databaseUrl = process.env.DATABASE_URL
  if (!databaseUrl) {
    console.error('DATABASE_URL must point at a reachable PostgreSQL (nothing is written to it)')
    process.exit(2)
  }
  const sql = await diffSql({ fromFile: opt('--from'), toFile: opt('--to') ?? join(root, 'prisma/schema.prisma'), databaseUrl })
  process.stdout.write(sql)
}
