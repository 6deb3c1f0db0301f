// The two statements of a purchase, each committing on its own: the one that records it before
// PurchaseServices is sent (the order, its lock, key, attempt and event, and the checks that must
// hold, failing inside PostgreSQL: migration purchase_in_one_statement), and the one that confirms
// it from eNom's answer. Part of the order repository (db/order-repository.ts).
import { AsyncResource } from 'node:async_hooks'
import type pg from 'pg'
import { fromCents, toCents } from '../domain/money.js'
import { createGatherer, type Pending } from '../lib/gather.js'
import { aloneIfRefused } from './batched.js'
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

/** What insertPurchase records. */
export interface PurchaseInput {
  order: NewOrder
  attempt: NewAttempt
  idempotencyKeyId?: string
  spend?: SpendLimits
  /** More WITH items of the statement, their names starting with `name`; parameters are appended to the values given. */
  also?: (values: unknown[], name: string) => string
}

export interface RecordedPurchase { order: OrderRow, attempt: AttemptRow }

/**
 * How many purchases one statement records: its text depends on the number, and each text is a
 * statement prepared on every connection that sends it, so only these.
 */
export const BATCH_SIZES = [1, 2, 4, 8]

/**
 * The most statements recording one lane's purchases at a time. They wait for each other only
 * for the spend lock, which each takes once its rows are written, until it commits.
 */
const SENDING = 4

/**
 * The statement that records `inputs` (one caller's, the same day's and limits): each order's
 * rows, then the checks — every key still held, the day's spend with all of them within the
 * limits. Its rows are the orders and attempts as stored, with "i", their place in `inputs`.
 */
function purchaseStatement (inputs: PurchaseInput[]): { text: string, values: unknown[] } {
  const values: unknown[] = []
  const slot = (value: unknown, type: string) => {
    values.push(value)
    return `$${values.length}::${type}`
  }
  const items: string[] = []
  const branches: string[] = []
  const checks: string[] = []
  inputs.forEach((input, i) => {
    const order = insertion('certificate_order', ORDER_COLUMNS, input.order, values.length)
    values.push(...order.values)
    const attempt = insertion('order_attempt', ATTEMPT_COLUMNS, input.attempt, values.length)
    values.push(...attempt.values)
    const orderId = slot(input.order.id, 'uuid')
    items.push(
      `o${i} AS (${order.text} RETURNING *)`,
      `l${i} AS (INSERT INTO service_lock (service_id, order_id, created_at) VALUES (${slot(input.order.serviceId, 'text')}, ${orderId}, now()) RETURNING 1)`,
      `a${i} AS (${attempt.text} RETURNING *)`)
    if (input.idempotencyKeyId) {
      items.push(`k${i} AS (UPDATE idempotency_key SET order_id = ${orderId} WHERE id = ${slot(input.idempotencyKeyId, 'uuid')} RETURNING 1)`)
      // The key row is the request's claim: if it is gone, nothing may be bought under it.
      checks.push(`must_hold((SELECT count(*) FROM k${i}) = 1, ${slot(`idempotency key ${input.idempotencyKeyId} is gone; the purchase is not recorded`, 'text')}) AS "keyHeld${i}"`)
    }
    if (input.also) items.push(input.also(values, `ev${i}`))
    branches.push(`SELECT ${i} AS "i", ${selectList(ORDER_SHAPE, `o${i}`, 'o.')}, ${selectList(ATTEMPT_SHAPE, `a${i}`, 'a.')} FROM o${i}, a${i}, l${i}`)
  })
  const first = inputs[0] as PurchaseInput
  if (first.spend) {
    const amount = inputs.reduce((sum, input) => sum + toCents(input.order.amount), 0n)
    checks.push(`spend_check_batch(${slot(first.order.caller, 'text')}, ${slot(dayOf(first), 'timestamptz')}, ${slot(inputs.map((input) => input.order.id), 'uuid[]')}, ` +
      `${slot(fromCents(amount), 'numeric')}, ${slot(first.spend.maxCount, 'bigint')}, ${slot(first.spend.maxAmount, 'numeric')}) AS "spendChecked"`)
  }
  // The checks come once every order's rows are written (counting r writes them all); a check
  // that fails fails the statement.
  return {
    text: `
        WITH ${items.join(',\n          ')},
          r AS (${branches.join('\n          UNION ALL ')}),
          c AS (SELECT (SELECT count(*) FROM r) AS "written"${checks.map((c) => `, ${c}`).join('')})
        SELECT r.* FROM c, r ORDER BY r."i"`,
    values
  }
}

function recordedPurchase (row: Record<string, unknown>): RecordedPurchase {
  return { order: toOrder(prefixed(row, 'o.')), attempt: toAttempt(prefixed(row, 'a.')) }
}

/** The start of the UTC day of the order: the day the spend limits count. */
function dayOf (input: PurchaseInput): Date {
  const since = new Date(input.order.createdAt ?? Date.now())
  since.setUTCHours(0, 0, 0, 0)
  return since
}

/**
 * Purchases that may share a statement: one caller's, on one day, under the same limits, of the
 * same shape (with a key or not, with more items or not: the statement's text depends on it).
 */
function laneOf (input: PurchaseInput): string {
  return [input.order.caller, dayOf(input).toISOString(), input.spend ? `${input.spend.maxCount}/${input.spend.maxAmount}` : '-',
    input.idempotencyKeyId ? 'k' : '-', input.also ? 'e' : '-'].join('\n')
}

export function createPurchaseStatements (pool: pg.Pool) {
  /** Purchases waiting for their statement, by lane. */
  const purchases = createGatherer<PurchaseInput, RecordedPurchase>({ send, max: BATCH_SIZES[BATCH_SIZES.length - 1] as number, sizes: BATCH_SIZES, sending: SENDING, laneOf })

  /** Records a batch; one PostgreSQL refuses is recorded purchase by purchase (db/batched.ts). */
  function send (batch: Array<Pending<PurchaseInput, RecordedPurchase>>): Promise<void> {
    return aloneIfRefused(batch, async (some) => {
      const { text, values } = purchaseStatement(some.map((q) => q.item))
      const rows = await query<Record<string, unknown>>(pool, text, values)
      for (const row of rows) some[Number(row['i'])]?.resolve(recordedPurchase(row))
    }, (err) => spendLimitError(err) ?? err)
  }

  return {
    /**
     * A purchase about to be sent, in one statement that commits on its own: the order, the
     * service's lock, the idempotency key naming the order, the attempt, what `also` adds (the
     * order's event), and the checks: the key must still be there (the request's claim), and the
     * caller's orders of the day, this one included, must stay within `spend` (migrations
     * purchase_in_one_statement, purchases_in_batches). A check that fails fails the statement:
     * nothing is written. A second open order for the service fails on the lock (a unique
     * violation of service_lock_pkey); a limit with SpendLimitError.
     */
    async insertPurchase (input: PurchaseInput, tx: Sql = pool): Promise<RecordedPurchase> {
      const { text, values } = purchaseStatement([input])
      const rows = await query<Record<string, unknown>>(tx, text, values).catch((err: unknown) => { throw spendLimitError(err) ?? err })
      return recordedPurchase(rows[0] as Record<string, unknown>)
    },

    /**
     * insertPurchase, for purchases sent on the pool. Purchases of one caller that become ready
     * while one of theirs is being recorded are recorded together, by one statement (at most
     * 8): they would otherwise wait for each other's commits one by one on the caller's
     * spend lock, holding a pooled connection each meanwhile. A purchase that finds none of its
     * caller's being recorded is sent at once. When a batch is refused — a limit the orders pass
     * together, a service ordered twice, a key gone — nothing of it is written and each of its
     * purchases is recorded on its own, with the answer it would have had alone.
     */
    recordPurchase (input: PurchaseInput): Promise<RecordedPurchase> {
      // `also` reads the request's context (its id goes into the event): it runs in the context of
      // the request that asked, whichever request's turn builds the statement.
      return purchases.add(input.also ? { ...input, also: AsyncResource.bind(input.also) } : input)
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
