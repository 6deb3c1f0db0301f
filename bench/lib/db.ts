// The bench's PostgreSQL: DATABASE_URL when set (an admin URL that may create databases), else the
// local server on 127.0.0.1:5432 when it answers, else an embedded PostgreSQL 17 of the bench's own
// (src/db/embedded-postgres.ts). The bench migrates one template database and gives each scenario
// a fresh copy; everything it creates carries the run's id and is dropped at the end.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { migrate } from '../../src/db/migrate.js'
import { ensureDir, log, TMP_DIR } from './util.js'

const LOCAL_URL = 'postgresql://postgres@127.0.0.1:5432/postgres'

export interface BenchDatabases {
  /** Where the server came from, for the results. */
  source: 'DATABASE_URL' | 'local PostgreSQL 127.0.0.1:5432' | 'embedded PostgreSQL (bench)'
  serverVersion: string
  /** A new migrated database for one scenario. */
  create: (label: string) => Promise<string>
  /** Process ids of the server backends serving this run's databases (when the server is local). */
  backendPids: () => Promise<number[]>
  /** Drops every database of this run and stops an embedded server. */
  close: () => Promise<void>
}

export function databaseUrlFor (serverUrl: string, database: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

async function withClient<T> (url: string, fn: (client: pg.Client) => Promise<T>, connectTimeoutMs = 5000): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function reachable (url: string): Promise<boolean> {
  try {
    await withClient(url, (c) => c.query('SELECT 1'), 1500)
    return true
  } catch {
    return false
  }
}

const quiet = { info: () => {}, debug: () => {}, warn: (o: object, m: string) => log(`embedded PostgreSQL: ${m} ${JSON.stringify(o)}`) }

export async function openBenchDatabases (runId: string, options: { embedded?: boolean } = {}): Promise<BenchDatabases> {
  let source: BenchDatabases['source']
  let adminUrl: string
  let embedded: EmbeddedPostgres | undefined
  let embeddedDir: string | undefined
  if (process.env.DATABASE_URL && !options.embedded) {
    source = 'DATABASE_URL'
    adminUrl = process.env.DATABASE_URL
  } else if (!options.embedded && await reachable(LOCAL_URL)) {
    source = 'local PostgreSQL 127.0.0.1:5432'
    adminUrl = LOCAL_URL
  } else {
    source = 'embedded PostgreSQL (bench)'
    // Not created here: the launcher makes it (mode 0700) and, as root, keeps the cluster where the postgres user can reach it.
    embeddedDir = join(ensureDir(TMP_DIR), `pg-server-${runId}`)
    log(options.embedded ? '--embedded-db: starting an embedded PostgreSQL' : 'no PostgreSQL at DATABASE_URL or 127.0.0.1:5432: starting an embedded one')
    embedded = await startEmbeddedPostgres({ dataDir: embeddedDir, log: quiet })
    adminUrl = embedded.adminUrl
  }
  const prefix = `enom_bench_${runId}_`
  const template = `${prefix}template`
  const serverVersion = await withClient(adminUrl, async (c) => {
    await c.query(`CREATE DATABASE "${template}"`)
    return (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown'
  })
  await migrate(databaseUrlFor(adminUrl, template))
  let counter = 0
  return {
    source,
    serverVersion,
    async create (label) {
      const name = `${prefix}${++counter}_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`))
      return databaseUrlFor(adminUrl, name)
    },
    async backendPids () {
      return withClient(adminUrl, async (c) => (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE starts_with(datname, $1)', [prefix])).rows.map((r) => r.pid))
        .catch(() => [])
    },
    async close () {
      await withClient(adminUrl, async (c) => {
        const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])
        rows.sort((a, b) => Number(a.datname === template) - Number(b.datname === template))
        for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
      }).catch((err: Error) => log(`could not drop the bench databases: ${err.message}`))
      if (embedded) await embedded.stop({ remove: true })
      if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true })
    }
  }
}
