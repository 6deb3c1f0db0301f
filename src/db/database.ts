// The database handle: one pg pool, shared by the Prisma client (through @prisma/adapter-pg) and
// by the few raw queries that Prisma cannot express (health probe, advisory locks, SKIP LOCKED).
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import type { Logger } from 'pino'
import { PrismaClient } from '../generated/prisma/client.js'

export type Prisma = InstanceType<typeof PrismaClient>

export interface Database {
  pool: pg.Pool
  prisma: Prisma
  close: () => Promise<void>
}

export interface DatabaseOptions {
  url: string
  max: number
  /** How long a query may wait for a pooled connection (pg's default is forever). */
  acquireTimeoutMs: number
  log: Logger
  applicationName?: string
}

export function openDatabase (options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    connectionTimeoutMillis: options.acquireTimeoutMs,
    idleTimeoutMillis: 10_000,
    application_name: options.applicationName ?? 'enom-ssl-service',
    // A stuck statement or a forgotten transaction must not hold locks or connections for long.
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 60_000,
    // Statements issued together on one connection go out together (sql.ts, transaction()):
    // a transaction of four statements costs two round trips instead of six.
    pipeline: true
  })
  // An idle client losing its connection (database restart) is reported here; pg replaces it.
  pool.on('error', (err) => options.log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'database connection lost'))
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  let closed = false
  return {
    pool,
    prisma,
    async close () {
      if (closed) return
      closed = true
      await prisma.$disconnect().catch(() => undefined)
      await pool.end()
    }
  }
}

/** A database name safe to put in SQL as an identifier. */
export function quoteIdent (name: string): string {
  return '"' + name.replace(/"/g, '""') + '"'
}
