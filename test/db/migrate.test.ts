// The migration runner: Prisma's bookkeeping table, exactly-once application under concurrency,
// refusal of edited or unfinished migrations, and all-or-nothing failures — on each PostgreSQL
// version available to the run (the suite's server, plus an embedded 17 when that server is not 17).
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { MIGRATION_LOCK_KEY, MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate.js'
import { createEmptyDatabase, dropDatabase } from '../support/pg-admin.js'

const quiet = { info: () => {}, warn: () => {}, debug: () => {} }
let extra: EmbeddedPostgres | undefined
let extraDir: string | undefined
const servers: Array<{ label: string, adminUrl: string }> = []

async function serverVersion (adminUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const { rows } = await client.query('SHOW server_version_num')
    return Math.floor(Number(rows[0].server_version_num) / 10000)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  const adminUrl = inject('adminUrl')
  const major = await serverVersion(adminUrl)
  servers.push({ label: `PostgreSQL ${major} (suite server)`, adminUrl })
  if (major !== 17) {
    extraDir = mkdtempSync(join(tmpdir(), 'enom-ssl-migrate-pg17-'))
    extra = await startEmbeddedPostgres({ dataDir: extraDir, log: quiet })
    servers.push({ label: 'PostgreSQL 17 (embedded)', adminUrl: extra.adminUrl })
  }
}, 120_000)

afterAll(async () => {
  await extra?.stop({ remove: true })
  if (extraDir) rmSync(extraDir, { recursive: true, force: true })
})

let n = 0
async function withFreshDatabase (adminUrl: string, fn: (url: string) => Promise<void>) {
  const name = `enom_test_${inject('runId')}_mig_${process.pid}_${++n}`
  const url = await createEmptyDatabase(adminUrl, name)
  try {
    await fn(url)
  } finally {
    await dropDatabase(adminUrl, name)
  }
}

async function query<T extends pg.QueryResultRow> (url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql, params)).rows
  } finally {
    await client.end()
  }
}

function copyMigrations (): string {
  const dir = mkdtempSync(join(tmpdir(), 'enom-ssl-migrations-'))
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  return dir
}

describe('migration runner on each available PostgreSQL version', () => {
  it('applies every migration once, recording it the way Prisma does', async () => {
    expect(servers.map((s) => s.label).join(', ')).toMatch(/17/)
    for (const server of servers) {
      await withFreshDatabase(server.adminUrl, async (url) => {
        const applied = await migrate(url)
        const migrations = readMigrations()
        expect(applied).toEqual(migrations.map((m) => m.name))
        const rows = await query<{ migration_name: string, checksum: string, finished_at: Date | null, applied_steps_count: number }>(url,
          'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name')
        expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name))
        for (const row of rows) {
          const sql = readFileSync(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'))
          expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'))
          expect(row.finished_at).toBeInstanceOf(Date)
          expect(row.applied_steps_count).toBe(1)
        }
        const columns = await query<{ column_name: string, data_type: string, is_nullable: string }>(url,
          "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position")
        expect(columns.map((c) => `${c.column_name}:${c.data_type}:${c.is_nullable}`)).toEqual([
          'id:character varying:NO', 'checksum:character varying:NO', 'finished_at:timestamp with time zone:YES',
          'migration_name:character varying:NO', 'logs:text:YES', 'rolled_back_at:timestamp with time zone:YES',
          'started_at:timestamp with time zone:NO', 'applied_steps_count:integer:NO'
        ])
        expect(await migrate(url)).toEqual([])
      })
    }
  })

  it('applies each migration exactly once when several instances start at the same moment', async () => {
    for (const server of servers) {
      await withFreshDatabase(server.adminUrl, async (url) => {
        const results = await Promise.all(Array.from({ length: 6 }, () => migrate(url)))
        const names = readMigrations().map((m) => m.name)
        expect(results.flat().sort()).toEqual([...names].sort())
        const rows = await query<{ migration_name: string, c: number }>(url, 'SELECT migration_name, count(*)::int AS c FROM "_prisma_migrations" GROUP BY 1')
        expect(rows.every((r) => r.c === 1)).toBe(true)
        expect(rows).toHaveLength(names.length)
      })
    }
  })
})

describe('an up-to-date database', () => {
  it('is proved with one read, without waiting for the lock another instance holds', async () => {
    await withFreshDatabase(servers[0]!.adminUrl, async (url) => {
      await migrate(url)
      const holder = new pg.Client({ connectionString: url })
      await holder.connect()
      try {
        await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
        // Under the lock this would fail after lock_timeout (1 s).
        expect(await migrate(url, { lockTimeoutMs: 1000 })).toEqual([])
        // With a migration pending it waits for the lock, as before.
        const dir = copyMigrations()
        try {
          mkdirSync(join(dir, '99990101000000_later'))
          writeFileSync(join(dir, '99990101000000_later', 'migration.sql'), 'CREATE TABLE later (id int);\n')
          await expect(migrate(url, { dir, lockTimeoutMs: 1000 })).rejects.toThrow(/lock timeout/)
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      } finally {
        await holder.end()
      }
    })
  })
})

describe('refusals', () => {
  it('refuses a migration edited after it was applied', async () => {
    const dir = copyMigrations()
    try {
      await withFreshDatabase(servers[0]!.adminUrl, async (url) => {
        await migrate(url, { dir })
        const first = readMigrations(dir)[0]!
        appendFileSync(join(dir, first.name, 'migration.sql'), '\n-- edited\n')
        await expect(migrate(url, { dir })).rejects.toThrow(/was changed after it was applied/)
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('rolls a failing migration back completely and records nothing', async () => {
    const dir = copyMigrations()
    try {
      mkdirSync(join(dir, '99990101000000_broken'))
      writeFileSync(join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n')
      await withFreshDatabase(servers[0]!.adminUrl, async (url) => {
        await expect(migrate(url, { dir })).rejects.toThrow(/99990101000000_broken failed/)
        expect(await query(url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'")).toHaveLength(0)
        expect(await query(url, 'SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1', ['99990101000000_broken'])).toHaveLength(0)
        // The migrations before it were applied and stay applied.
        expect((await query(url, 'SELECT 1 FROM "_prisma_migrations"')).length).toBe(readMigrations().length)
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses to start over a migration another tool left unfinished', async () => {
    await withFreshDatabase(servers[0]!.adminUrl, async (url) => {
      await migrate(url)
      await query(url, 'INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES (\'x\', \'y\', \'99990101000000_manual\')')
      await expect(migrate(url)).rejects.toThrow(/did not finish/)
    })
  })
})
