// Regenerates the typed client's types (clients/typescript/src/schema.ts) from
// openapi/openapi.json with openapi-typescript, or with --check fails when they differ.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const target = join(root, 'clients/typescript/src/schema.ts')
const check = process.argv.includes('--check')
const dir = check ? mkdtempSync(join(tmpdir(), 'client-')) : undefined
const out = dir ? join(dir, 'schema.ts') : target
const run = spawnSync(process.execPath, [join(root, 'node_modules/openapi-typescript/bin/cli.js'), join(root, 'openapi/openapi.json'), '-o', out], { encoding: 'utf8' })
if (run.status !== 0) {
  process.stderr.write(run.stderr || run.stdout)
  process.exit(1)
}
if (dir) {
  const same = readFileSync(out, 'utf8') === readFileSync(target, 'utf8')
  rmSync(dir, { recursive: true, force: true })
  if (!same) {
    process.stderr.write('clients/typescript/src/schema.ts is out of date with openapi/openapi.json: run `npm run client:generate` and commit it\n')
    process.exit(1)
  }
  process.stdout.write('the typed client is up to date\n')
}
