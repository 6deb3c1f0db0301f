// Idempotency-Key rows: (caller, key) is unique; the first request inserts and holds the row,
// its completed outcome is stored on it, and later requests with the same key read it. Every
// order request claims and completes a key, so those two statements go to the pool directly.
import type pg from 'pg'
import type { IdempotencyKey } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { newId } from '../domain/ids.js'
import { query, selectList, toModel, type RowShape } from './sql.js'

export type IdempotencyRow = IdempotencyKey

const SHAPE: RowShape<IdempotencyRow> = {
  columns: {
    id: 'id::text',
    caller: 'caller',
    key: 'key',
    method: 'method',
    path: 'path',
    fingerprint: 'fingerprint',
    lockedAt: 'locked_at',
    orderId: 'order_id::text',
    responseStatus: 'response_status',
    responseBody: 'response_body',
    createdAt: 'created_at',
    completedAt: 'completed_at'
  },
  decimals: []
}
const FIELDS = selectList(SHAPE)

// Made once: the text is also its prepared statement's key.
const CLAIM = `
  INSERT INTO idempotency_key (id, caller, key, method, path, fingerprint, locked_at, created_at)
  VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, now(), now())
  ON CONFLICT (caller, key) DO NOTHING
  RETURNING ${FIELDS}`

export function createIdempotencyRepository (prisma: PrismaClient, pool: pg.Pool) {
  return {
    /** Inserts a held key; returns it, or null when (caller, key) exists already. */
    async claim (caller: string, key: string, method: string, path: string, fingerprint: string): Promise<IdempotencyRow | null> {
      const rows = await query<Record<string, unknown>>(pool, CLAIM, [newId(), caller, key, method, path, fingerprint])
      return rows[0] ? toModel(SHAPE, rows[0]) : null
    },

    find: (caller: string, key: string) => prisma.idempotencyKey.findUnique({ where: { caller_key: { caller, key } } }),

    /** Takes over a key whose holder died (its lock is older than the stale limit). */
    async takeOver (id: string, lockedAt: Date): Promise<boolean> {
      const result = await prisma.idempotencyKey.updateMany({ where: { id, lockedAt, completedAt: null }, data: { lockedAt: new Date() } })
      return result.count > 0
    },

    async complete (id: string, status: number, body: unknown): Promise<void> {
      await query(pool, `
        UPDATE idempotency_key SET response_status = $2::int, response_body = $3::jsonb, completed_at = now(), locked_at = NULL
        WHERE id = $1::uuid`, [id, status, body === null || body === undefined ? null : JSON.stringify(body)])
    },

    /**
     * Gives back a key whose request did not complete (validation, shed load) or ended without an
     * answer worth replaying (a 5xx), so that a retry can succeed. Without an
     * order it is forgotten, like a released key. With one, it is left held but open to take-over
     * at once, so the retry answers with that order as it is now.
     */
    async giveBack (id: string): Promise<void> {
      const { count } = await prisma.idempotencyKey.deleteMany({ where: { id, completedAt: null, orderId: null } })
      if (count === 0) await prisma.idempotencyKey.updateMany({ where: { id, completedAt: null }, data: { lockedAt: new Date(0) } })
    },

    /** Deletes keys older than `before` (completed ones, and held ones whose holder is long gone). */
    async reap (before: Date): Promise<number> {
      const result = await prisma.idempotencyKey.deleteMany({ where: { createdAt: { lt: before } } })
      return result.count
    }
  }
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>
