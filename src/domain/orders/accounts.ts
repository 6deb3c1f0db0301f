// Money-spending eNom calls are serialised per eNom account, across instances, so that when a
// purchase ends with an unknown outcome, the certificates that appeared on the account since the
// snapshot can only be that purchase's (or made outside the service, which reconciliation
// recognises as ambiguous rather than guessing).
//
// The lock is a lease row, not a held connection: the service never keeps a database connection
// open across an eNom call. The lease outlives the purchase timeout, so a holder that is still
// calling eNom never loses it; one that crashed frees the account when the lease expires.
import { createHash } from 'node:crypto'
import type { Prisma as PrismaClient } from '../../db/database.js'
import { serviceUnavailable } from '../errors.js'

/** The eNom account a module's credentials reach: the same origin and login id are the same account. */
export function accountKey (apiUrl: string, username: string): string {
  let origin = apiUrl
  try {
    origin = new URL(apiUrl).origin
  } catch { /* keep the text */ }
  return createHash('sha256').update(`${origin.toLowerCase()}\n${username.toLowerCase()}`).digest('hex').slice(0, 40)
}

export interface AccountLeases {
  /** Runs `fn` holding the account's lease; waits for it up to waitMs, else 503 ACCOUNT_BUSY. */
  withLease: <T>(key: string, fn: () => Promise<T>) => Promise<T>
}

export function createAccountLeases (prisma: PrismaClient, options: { holder: string, leaseMs: number, waitMs: number }): AccountLeases {
  async function tryAcquire (key: string, token: string): Promise<boolean> {
    const until = new Date(Date.now() + options.leaseMs)
    const n = await prisma.$executeRaw`
      INSERT INTO account_lease (account_key, holder, locked_until) VALUES (${key}, ${token}, ${until})
      ON CONFLICT (account_key) DO UPDATE SET holder = EXCLUDED.holder, locked_until = EXCLUDED.locked_until
      WHERE account_lease.locked_until < now()`
    return n > 0
  }

  return {
    async withLease (key, fn) {
      const token = `${options.holder}:${Math.random().toString(36).slice(2)}`
      const deadline = Date.now() + options.waitMs
      let delay = 5
      while (!await tryAcquire(key, token)) {
        if (Date.now() >= deadline) {
          throw serviceUnavailable('ACCOUNT_BUSY', 'another purchase on this eNom account is in progress; retry shortly', 2)
        }
        await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay))
        delay = Math.min(200, delay * 2)
      }
      try {
        return await fn()
      } finally {
        await prisma.$executeRaw`DELETE FROM account_lease WHERE account_key = ${key} AND holder = ${token}`.catch(() => undefined)
      }
    }
  }
}
