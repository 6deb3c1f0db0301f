// Idempotency-Key rows: (caller, key) is unique; the first request inserts and holds the row,
// its completed outcome is stored on it, and later requests with the same key read it.
import type { IdempotencyKey } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { newId } from '../domain/ids.js'

export type IdempotencyRow = IdempotencyKey

export function createIdempotencyRepository (prisma: PrismaClient) {
  return {
    /** Inserts a held key; returns it, or null when (caller, key) exists already. */
    async claim (caller: string, key: string, method: string, path: string, fingerprint: string): Promise<IdempotencyRow | null> {
      const id = newId()
      const n = await prisma.$executeRaw`
        INSERT INTO idempotency_key (id, caller, key, method, path, fingerprint, locked_at, created_at)
        VALUES (${id}::uuid, ${caller}, ${key}, ${method}, ${path}, ${fingerprint}, now(), now())
        ON CONFLICT (caller, key) DO NOTHING`
      return n > 0 ? prisma.idempotencyKey.findUnique({ where: { id } }) : null
    },

    find: (caller: string, key: string) => prisma.idempotencyKey.findUnique({ where: { caller_key: { caller, key } } }),

    /** Takes over a key whose holder died (its lock is older than the stale limit). */
    async takeOver (id: string, lockedAt: Date): Promise<boolean> {
      const result = await prisma.idempotencyKey.updateMany({ where: { id, lockedAt, completedAt: null }, data: { lockedAt: new Date() } })
      return result.count > 0
    },

    async complete (id: string, status: number, body: unknown): Promise<void> {
      await prisma.idempotencyKey.update({
        where: { id },
        data: { responseStatus: status, responseBody: (body ?? null) as never, completedAt: new Date(), lockedAt: null }
      })
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
