// Applies the SQL migrations under prisma/migrations and records them in Prisma's own
// `_prisma_migrations` table (same DDL, checksum = SHA-256 hex of migration.sql), so that
// `prisma migrate deploy` and this runner can take turns on one database. Prisma's migrate engine
// is a binary that cannot be downloaded here; this runner is the part of it the service needs.
//
// Several instances may start at once: the runner holds a session-level advisory lock on one
// dedicated connection for the whole run, so each migration is applied exactly once. The usual
// start-up, with every migration applied already, is proved by one read without the lock.
import { createHash, randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

/**
 * prisma/migrations of the project: one folder up from the bundle in dist/ (`npm run build` puts
 * this code in a file directly under dist/), two from src/db/migrate.ts (tsx, tests). When neither
 * exists, the first is the one named in the error.
 */
export const MIGRATIONS_DIR = findMigrationsDir()

function findMigrationsDir (): string {
  const candidates = ['../prisma/migrations', '../../prisma/migrations'].map((up) => fileURLToPath(new URL(up, import.meta.url)))
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!
}

/** An arbitrary constant that names "the schema migration" among advisory locks. */
export const MIGRATION_LOCK_KEY = 72_707_369_001

// The table exactly as Prisma's schema engine creates it for PostgreSQL.
const PRISMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`

export interface Migration {
  name: string
  sql: string
  checksum: string
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

export interface MigrateLog {
  info: (obj: object, msg: string) => void
}

export function readMigrations (dir: string = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder ${dir} is missing`)
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'migration.sql')))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
}

interface AppliedRow {
  migration_name: string
  checksum: string
  finished_at: Date | null
  rolled_back_at: Date | null
}

const SELECT_APPLIED = 'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"'

/**
 * Whether every migration has been applied, unchanged: one read, without the lock. A migration
 * being applied by another instance is not visible until its transaction commits, so it reads as
 * pending here. Anything but "all applied" (no table yet, a pending, unfinished or edited
 * migration) is left to the locked run, which re-reads, decides and reports.
 */
async function allApplied (client: pg.Client, migrations: Migration[]): Promise<boolean> {
  let rows: AppliedRow[]
  try {
    rows = (await client.query<AppliedRow>(SELECT_APPLIED)).rows
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return false // undefined_table: a new database
    throw err
  }
  const done = new Map<string, string>()
  for (const row of rows) {
    if (row.rolled_back_at) continue
    if (!row.finished_at) return false
    done.set(row.migration_name, row.checksum)
  }
  return migrations.every((m) => done.get(m.name) === m.checksum)
}

/**
 * Applies every pending migration. Returns the names applied by this call (empty when the
 * database was up to date, or another instance applied them while this one waited).
 */
export async function migrate (databaseUrl: string, options: { dir?: string, log?: MigrateLog, lockTimeoutMs?: number } = {}): Promise<string[]> {
  const migrations = readMigrations(options.dir)
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'enom-ssl-service migrate' })
  await client.connect()
  const applied: string[] = []
  try {
    if (await allApplied(client, migrations)) return applied
    await client.query(`SET lock_timeout = ${Math.max(1000, options.lockTimeoutMs ?? 120_000)}`)
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    try {
      await client.query(PRISMA_MIGRATIONS_DDL)
      const { rows } = await client.query<AppliedRow>(SELECT_APPLIED)
      const done = new Map<string, AppliedRow>()
      for (const row of rows) {
        if (row.rolled_back_at) continue
        if (!row.finished_at) {
          throw new MigrationError(`migration ${row.migration_name} was started and did not finish; ` +
            'inspect the database, then mark it with `prisma migrate resolve` before starting again')
        }
        done.set(row.migration_name, row)
      }
      for (const m of migrations) {
        const row = done.get(m.name)
        if (row) {
          if (row.checksum !== m.checksum) {
            throw new MigrationError(`migration ${m.name} was changed after it was applied (checksum differs); ` +
              'add a new migration instead of editing an applied one')
          }
          continue
        }
        // The migration and its record commit together: a failure leaves neither behind.
        await client.query('BEGIN')
        try {
          const id = randomUUID()
          await client.query(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
            [id, m.checksum, m.name])
          await client.query(m.sql)
          await client.query(
            'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id])
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`)
        }
        applied.push(m.name)
        options.log?.info({ migration: m.name }, 'migration applied')
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined)
    }
  } finally {
    await client.end().catch(() => undefined)
  }
  return applied
}
