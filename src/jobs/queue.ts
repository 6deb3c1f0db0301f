// Durable jobs on PostgreSQL. A job is claimed with FOR UPDATE SKIP LOCKED and held by a lease:
// an instance that dies holding one is replaced when the lease expires. A claim commits at once,
// so no database connection is held while a job talks to eNom. Each job has a unique key
// (sync:<order>, balance-check:<slot>, ...), which makes enqueueing idempotent across instances.
import type pg from 'pg'
import type { Prisma } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from '../db/database.js'
import { query, type Sql } from '../db/sql.js'
import { newId } from '../domain/ids.js'

export interface JobRow {
  id: string
  kind: string
  key: string
  payload: Record<string, unknown>
  attempts: number
  maxAttempts: number
  runAt: Date
  createdAt: Date
}

export interface NewJob {
  kind: string
  key: string
  payload?: Record<string, unknown>
  runAt?: Date
  maxAttempts?: number
}

interface RawJob {
  id: string
  kind: string
  key: string
  payload: Record<string, unknown>
  attempts: number
  max_attempts: number
  run_at: Date
  created_at: Date
}

const toJob = (r: RawJob): JobRow => ({
  id: r.id, kind: r.kind, key: r.key, payload: r.payload ?? {}, attempts: r.attempts, maxAttempts: r.max_attempts, runAt: r.run_at, createdAt: r.created_at
})

/**
 * What enqueueing a job whose key exists does (the tail of an INSERT INTO job): make sure it runs
 * no later than the new due time, start a finished one again, and ask a running one to run once
 * more. Shared with the statements that enqueue webhook deliveries (domain/events.ts).
 */
export const ENQUEUE_CONFLICT = `ON CONFLICT (key) DO UPDATE SET
    run_at = CASE WHEN job.status IN ('done', 'failed') THEN EXCLUDED.run_at
      -- A running job is asked for once more: its due time moves past the one it was claimed
      -- with, which complete() reads as "run again" instead of "done".
      WHEN job.status = 'running' THEN GREATEST(job.run_at + interval '1 millisecond', EXCLUDED.run_at)
      ELSE LEAST(job.run_at, EXCLUDED.run_at) END,
    payload = EXCLUDED.payload,
    attempts = CASE WHEN job.status IN ('done', 'failed') THEN 0 ELSE job.attempts END,
    max_attempts = EXCLUDED.max_attempts,
    status = CASE WHEN job.status = 'running' THEN job.status ELSE 'pending'::"JobStatus" END,
    updated_at = now()`

/**
 * The INSERT that enqueues `jobs` (see enqueue), its parameters appended to `values`: on its own
 * or as a WITH item of a larger statement that commits the jobs with other writes. Its text does
 * not depend on the number of jobs; of two with one key, the one due first is enqueued.
 */
export function enqueueRowsStatement (jobs: NewJob[], values: unknown[]): string {
  const array = (items: unknown[], type: string) => {
    values.push(items)
    return `$${values.length}::${type}[]`
  }
  const arrays = [
    array(jobs.map(() => newId()), 'uuid'),
    array(jobs.map((j) => j.kind), 'text'),
    array(jobs.map((j) => j.key), 'text'),
    array(jobs.map((j) => JSON.stringify(j.payload ?? {})), 'jsonb'),
    array(jobs.map((j) => j.runAt ?? new Date()), 'timestamptz'),
    array(jobs.map((j) => j.maxAttempts ?? 10), 'int')
  ]
  return `INSERT INTO job (id, kind, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
    SELECT DISTINCT ON (j.key) j.id, j.kind, j.key, j.payload, 'pending'::"JobStatus", j.run_at, 0, j.max_attempts, now(), now()
    FROM unnest(${arrays.join(', ')}) AS j (id, kind, key, payload, run_at, max_attempts) ORDER BY j.key, j.run_at
    ${ENQUEUE_CONFLICT}`
}

/** enqueueRowsStatement of one job. */
export function enqueueStatement (job: NewJob, values: unknown[]): string {
  return enqueueRowsStatement([job], values)
}

/** `pool`: where enqueue outside a transaction writes (Prisma's client when not given). */
export function createJobQueue (prisma: PrismaClient, pool?: pg.Pool) {
  return {
    /**
     * Enqueues a job, or — when its key exists — makes sure it runs no later than `runAt`
     * (a finished job with that key is started again). Usable inside a transaction.
     */
    async enqueue (job: NewJob, tx: Sql = pool ?? prisma): Promise<void> {
      const values: unknown[] = []
      await query(tx, enqueueStatement(job, values), values)
    },

    /** Inserts a job only if its key was never used (slot jobs: one per slot, ever). */
    async enqueueOnce (job: NewJob): Promise<boolean> {
      const inserted = await prisma.$executeRaw`
        INSERT INTO job (id, kind, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
        VALUES (${newId()}::uuid, ${job.kind}, ${job.key}, ${JSON.stringify(job.payload ?? {})}::jsonb, 'pending', ${job.runAt ?? new Date()}, 0, ${job.maxAttempts ?? 10}, now(), now())
        ON CONFLICT (key) DO NOTHING`
      return inserted > 0
    },

    /**
     * Claims up to `limit` due jobs (and jobs whose holder's lease expired) for `worker`, oldest
     * first — except reconciliations of unknown outcomes, which go before everything else: new
     * purchases on their eNom account wait for them, and a backlog of status syncs (eNom slow,
     * say) must not hold them up.
     */
    async claim (worker: string, limit: number, leaseMs: number): Promise<JobRow[]> {
      const rows = await prisma.$queryRaw<RawJob[]>`
        UPDATE job SET status = 'running', locked_by = ${worker}, locked_until = now() + make_interval(secs => ${leaseMs / 1000}),
               attempts = attempts + 1, updated_at = now()
        WHERE id IN (
          SELECT id FROM job
          WHERE (status = 'pending' AND run_at <= now()) OR (status = 'running' AND locked_until < now())
          ORDER BY (kind = 'order.reconcile') DESC, run_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, key, payload, attempts, max_attempts, run_at, created_at`
      return rows.map(toJob)
    },

    /** Extends the lease of a running job; false when the job is no longer this worker's. */
    async heartbeat (id: string, worker: string, leaseMs: number): Promise<boolean> {
      const n = await prisma.$executeRaw`
        UPDATE job SET locked_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
        WHERE id = ${id}::uuid AND locked_by = ${worker} AND status = 'running'`
      return n > 0
    },

    /**
     * Ends a run. `claimedRunAt` is the due time the job was claimed with: if it was enqueued
     * again while it ran (a manual webhook retry, say), it is pending again rather than done.
     */
    async complete (id: string, worker: string, claimedRunAt: Date): Promise<void> {
      await prisma.$executeRaw`
        UPDATE job SET status = CASE WHEN run_at > ${claimedRunAt} THEN 'pending'::"JobStatus" ELSE 'done'::"JobStatus" END,
          attempts = CASE WHEN run_at > ${claimedRunAt} THEN 0 ELSE attempts END,
          locked_by = NULL, locked_until = NULL, last_error = NULL, updated_at = now()
        WHERE id = ${id}::uuid AND locked_by = ${worker}`
    },

    /** Runs the job again at `runAt` (recurring work such as an order's sync). */
    async reschedule (id: string, worker: string, runAt: Date, options: { resetAttempts?: boolean, payload?: Record<string, unknown> } = {}): Promise<void> {
      await prisma.$executeRaw`
        UPDATE job SET status = 'pending', run_at = ${runAt}, locked_by = NULL, locked_until = NULL,
               attempts = CASE WHEN ${options.resetAttempts ?? false} THEN 0 ELSE attempts END,
               payload = COALESCE(${options.payload ? JSON.stringify(options.payload) : null}::jsonb, payload),
               last_error = NULL, updated_at = now()
        WHERE id = ${id}::uuid AND locked_by = ${worker}`
    },

    /** Records a failure: retried at `retryAt`, or marked failed when attempts are spent. */
    async fail (id: string, worker: string, error: string, retryAt: Date | null): Promise<void> {
      await prisma.$executeRaw`
        UPDATE job SET status = CASE WHEN ${retryAt === null} OR attempts >= max_attempts THEN 'failed'::"JobStatus" ELSE 'pending'::"JobStatus" END,
               run_at = COALESCE(${retryAt}, run_at), locked_by = NULL, locked_until = NULL,
               last_error = ${error.slice(0, 2000)}, updated_at = now()
        WHERE id = ${id}::uuid AND locked_by = ${worker}`
    },

    /** Graceful shutdown: gives the worker's running jobs back, to run again at once elsewhere. */
    async release (worker: string, ids?: string[]): Promise<number> {
      if (ids && ids.length === 0) return 0
      const filter = ids ? { id: { in: ids } } : {}
      const result = await prisma.job.updateMany({
        where: { lockedBy: worker, status: 'running', ...filter } as Prisma.JobWhereInput,
        data: { status: 'pending', lockedBy: null, lockedUntil: null, runAt: new Date(), attempts: { decrement: 1 } }
      })
      return result.count
    },

    async depth (): Promise<Array<{ kind: string, status: string, count: number, oldestRunAt: Date | null }>> {
      const rows = await prisma.$queryRaw<Array<{ kind: string, status: string, count: bigint, oldest: Date | null }>>`
        SELECT kind, status::text AS status, count(*) AS count, min(run_at) AS oldest FROM job
        WHERE status IN ('pending', 'running') GROUP BY kind, status`
      return rows.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.count), oldestRunAt: r.oldest }))
    },

    findByKey: (key: string) => prisma.job.findUnique({ where: { key } }),

    /** Deletes finished jobs older than `before` (their keys free again). */
    async purgeFinished (before: Date, kinds?: string[]): Promise<number> {
      const result = await prisma.job.deleteMany({ where: { status: { in: ['done', 'failed'] }, updatedAt: { lt: before }, ...(kinds ? { kind: { in: kinds } } : {}) } })
      return result.count
    }
  }
}

export type JobQueue = ReturnType<typeof createJobQueue>
