// The two statements of a purchase, each committing on its own: the one that records it before
// PurchaseServices is sent (the order, its lock, key, attempt and event, and the checks that must
// hold, failing inside PostgreSQL: migration purchase_in_one_statement), and the one that confirms
// it from eNom's answer. Part of the order repository (db/order-repository.ts).
import type pg from 'pg'
import { FINAL_STATUSES, type OrderStatus } from '../domain/orders/status.js'
import { ATTEMPT_COLUMNS, ATTEMPT_SHAPE, ORDER_COLUMNS, ORDER_SHAPE, toAttempt, toOrder } from './order-columns.js'
import type { AttemptChanges, AttemptRow, NewAttempt, NewOrder, OrderChanges, OrderRow } from './order-repository.js'
import { assignments, insertion, prefixed, query, selectList, type Sql } from './sql.js'

/** The daily limits a caller's orders must stay within (SPEND_LIMIT_DAILY_COUNT and _AMOUNT). */
export interface SpendLimits { maxCount: number, maxAmount: string }

/** A purchase refused by the daily limits; `count` and `amount` are the caller's day before this order. */
export class SpendLimitError extends Error {
  override name = 'SpendLimitError'
  constructor (readonly limit: 'count' | 'amount', readonly count: number, readonly amount: string) {
    super(`daily ${limit} limit reached`)
  }
}

/** changeWithAttempt found the order in another status than expected (or the attempt gone): nothing was written. */
export class StatusMovedError extends Error {
  override name = 'StatusMovedError'
  constructor (readonly orderId: string, readonly expected: string) {
    super(`order ${orderId} is no longer ${expected}`)
  }
}

/** spend_check's refusal (SQLSTATE SL001 or SL002) as a SpendLimitError. */
function spendLimitError (err: unknown): SpendLimitError | undefined {
  const e = err as { code?: unknown, detail?: unknown }
  if ((e?.code !== 'SL001' && e?.code !== 'SL002') || typeof e.detail !== 'string') return undefined
  const day = JSON.parse(e.detail) as { count: number, amount: string }
  return new SpendLimitError(e.code === 'SL001' ? 'count' : 'amount', Number(day.count), day.amount)
}

export function createPurchaseStatements (pool: pg.Pool) {
  return {
    /**
     * A purchase about to be sent, in one statement that commits on its own: the order, the
     * service's lock, the idempotency key naming the order, the attempt, what `also` adds (the
     * order's event), and — last, once every row is written — the checks: the key must still be
     * there (the request's claim), and the caller's orders of the day, this one included, must stay
     * within `spend` (migration purchase_in_one_statement). A check that fails fails the statement:
     * nothing is written. A second open order for the service fails on the lock (a unique
     * violation of service_lock_pkey); a limit with SpendLimitError.
     */
    async insertPurchase (input: {
      order: NewOrder
      attempt: NewAttempt
      idempotencyKeyId?: string
      spend?: SpendLimits
      /** More WITH items of the statement; parameters are appended to the values given. */
      also?: (values: unknown[]) => string
    }, tx: Sql = pool): Promise<{ order: OrderRow, attempt: AttemptRow }> {
      const order = insertion('certificate_order', ORDER_COLUMNS, input.order)
      const values = [...order.values]
      const attempt = insertion('order_attempt', ATTEMPT_COLUMNS, input.attempt, values.length)
      values.push(...attempt.values)
      const slot = (value: unknown, type: string) => {
        values.push(value)
        return `$${values.length}::${type}`
      }
      const orderId = slot(input.order.id, 'uuid')
      const items = [
        `o AS (${order.text} RETURNING *)`,
        `l AS (INSERT INTO service_lock (service_id, order_id, created_at) VALUES (${slot(input.order.serviceId, 'text')}, ${orderId}, now()) RETURNING 1)`,
        `a AS (${attempt.text} RETURNING *)`
      ]
      const checks: string[] = []
      if (input.idempotencyKeyId) {
        items.push(`k AS (UPDATE idempotency_key SET order_id = ${orderId} WHERE id = ${slot(input.idempotencyKeyId, 'uuid')} RETURNING 1)`)
        // The key row is the request's claim: if it is gone, nothing may be bought under it.
        checks.push(`must_hold((SELECT count(*) FROM k) = 1, ${slot(`idempotency key ${input.idempotencyKeyId} is gone; the purchase is not recorded`, 'text')}) AS "keyHeld"`)
      }
      if (input.also) items.push(input.also(values))
      if (input.spend) {
        const since = new Date(input.order.createdAt ?? Date.now())
        since.setUTCHours(0, 0, 0, 0)
        checks.push(`spend_check(${slot(input.order.caller, 'text')}, ${slot(since, 'timestamptz')}, ${orderId}, ${slot(input.order.amount, 'numeric')}, ` +
          `${slot(input.spend.maxCount, 'bigint')}, ${slot(input.spend.maxAmount, 'numeric')}) AS "spendChecked"`)
      }
      // The checks are evaluated for the one row the join of the inserts gives, so after them.
      const rows = await query<Record<string, unknown>>(tx, `
        WITH ${items.join(',\n          ')}
        SELECT ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(ATTEMPT_SHAPE, 'a', 'a.')}${checks.map((c) => `, ${c}`).join('')}
        FROM o, a, l`, values).catch((err: unknown) => { throw spendLimitError(err) ?? err })
      const row = rows[0] as Record<string, unknown>
      return { order: toOrder(prefixed(row, 'o.')), attempt: toAttempt(prefixed(row, 'a.')) }
    },

    /**
     * An order's change and its attempt's end in one statement that commits on its own, with what
     * `also` adds (its event, its sync job) — only if the order is still in status `expected`:
     * otherwise nothing is written and StatusMovedError is thrown (the caller takes the general
     * path, which reads the status it changes from). The row returned is the order as changed.
     */
    async changeWithAttempt (orderId: string, expected: OrderStatus, changes: OrderChanges, attempt: { id: string, changes: AttemptChanges },
      also?: (values: unknown[]) => string): Promise<{ order: OrderRow, attempt: AttemptRow }> {
      const values: unknown[] = [orderId]
      const orderSets = assignments(ORDER_COLUMNS, { ...changes, updatedAt: new Date() }, values)
      const attemptSets = assignments(ATTEMPT_COLUMNS, { finishedAt: new Date(), ...attempt.changes }, values)
      values.push(expected, attempt.id)
      const [status, attemptId] = [`$${values.length - 1}::"OrderStatus"`, `$${values.length}::uuid`]
      const items = [
        `b AS (SELECT id FROM certificate_order WHERE id = $1::uuid AND status = ${status} FOR UPDATE)`,
        `o AS (UPDATE certificate_order o SET ${orderSets.join(', ')}, version = o.version + 1 FROM b WHERE o.id = b.id RETURNING o.*)`,
        `a AS (UPDATE order_attempt SET ${attemptSets.join(', ')} WHERE id = ${attemptId} RETURNING *)`
      ]
      if (changes.status !== undefined && FINAL_STATUSES.includes(changes.status)) {
        items.push('released AS (DELETE FROM service_lock WHERE order_id = (SELECT id FROM o))')
      }
      if (also) items.push(also(values))
      values.push(`order ${orderId} is no longer ${expected}, or its attempt ${attempt.id} is gone`)
      const rows = await query<Record<string, unknown>>(pool, `
        WITH ${items.join(',\n          ')}
        SELECT must_hold((SELECT count(*) FROM o) = 1 AND (SELECT count(*) FROM a) = 1, $${values.length}::text) AS "held",
          ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(ATTEMPT_SHAPE, 'a', 'a.')}
        FROM (SELECT 1) AS one LEFT JOIN o ON true LEFT JOIN a ON true`, values).catch((err: unknown) => {
        throw (err as { code?: unknown }).code === 'SL003' ? new StatusMovedError(orderId, expected) : err
      })
      const row = rows[0] as Record<string, unknown>
      return { order: toOrder(prefixed(row, 'o.')), attempt: toAttempt(prefixed(row, 'a.')) }
    },
  }
}
