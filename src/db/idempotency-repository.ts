// Idempotency-Key rows: (caller, key) is unique; the first request inserts and holds the row,
// its completed outcome is stored on it, and later requests with the same key read it. Every
// order request claims and completes a key, so those two statements go to the pool directly.
import type pg from 'pg'
import type { IdempotencyKey } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { newId } from '../domain/ids.js'
import { createGatherer } from '../lib/gather.js'
import { aloneIfRefused } from './batched.js'
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

// Made once: the text is also its prepared statement's key. Both take a batch of keys (each
// column an array): claims and outcomes ready in the same turn of the event loop share one
// statement (lib/gather.ts).
const CLAIM = `
  INSERT INTO idempotency_key (id, caller, key, method, path, fingerprint, locked_at, created_at)
  SELECT v.id, v.caller, v.key, v.method, v.path, v.fingerprint, now(), now()
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v (id, caller, key, method, path, fingerprint)
  ON CONFLICT (caller, key) DO NOTHING
  RETURNING ${FIELDS}`
const COMPLETE = `
  UPDATE idempotency_key k SET response_status = v.status, response_body = v.body::jsonb, completed_at = now(), locked_at = NULL
  FROM unnest($1::uuid[], $2::int[], $3::text[]) AS v (id, status, body)
  WHERE k.id = v.id`

interface Claim { id: string, caller: string, key: string, method: string, path: string, fingerprint: string }
interface Outcome { id: string, status: number, body: string | null }

export function createIdempotencyRepository (prisma: PrismaClient, pool: pg.Pool) {
  const claims = createGatherer<Claim, IdempotencyRow | null>({
    max: 100,
    sending: 4,
    send: (batch) => aloneIfRefused(batch, async (some) => {
      const column = (k: keyof Claim) => some.map((p) => p.item[k])
      const rows = await query<Record<string, unknown>>(pool, CLAIM, [column('id'), column('caller'), column('key'), column('method'), column('path'), column('fingerprint')])
      const inserted = new Map(rows.map((r) => [r['id'] as string, r]))
      // A key not inserted exists already (or came twice in the batch: the first one holds it).
      for (const p of some) {
        const row = inserted.get(p.item.id)
        p.resolve(row ? toModel(SHAPE, row) : null)
      }
    })
  })
  const outcomes = createGatherer<Outcome, void>({
    max: 100,
    sending: 2,
    send: (batch) => aloneIfRefused(batch, async (some) => {
      await query(pool, COMPLETE, [some.map((p) => p.item.id), some.map((p) => p.item.status), some.map((p) => p.item.body)])
      for (const p of some) p.resolve()
    })
  })

  return {
    /** Inserts a held key; returns it, or null when (caller, key) exists already. */
    claim (caller: string, key: string, method: string, path: string, fingerprint: string): Promise<IdempotencyRow | null> {
      return claims.add({ id: newId(), caller, key, method, path, fingerprint })
    },

    find: (caller: string, key: string) => prisma.idempotencyKey.findUnique({ where: { caller_key: { caller, key } } }),

    /** Takes over a key whose holder died (its lock is older than the stale limit). */
    async takeOver (id: string, lockedAt: Date): Promise<boolean> {
      const result = await prisma.idempotencyKey.updateMany({ where: { id, lockedAt, completedAt: null }, data: { lockedAt: new Date() } })
      return result.count > 0
    },

    /** Stores the key's outcome: the answer's status and body (JSON text, or null for none). */
    complete (id: string, status: number, body: string | null): Promise<void> {
      return outcomes.add({ id, status, body })
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
