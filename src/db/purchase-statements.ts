// The two statements of a purchase, each committing on its own: the one that records it before
// PurchaseServices is sent (the order, its lock, key, attempt and event, and the checks that must
// hold, failing inside PostgreSQL: migration purchase_in_one_statement), and the one that confirms
// it from eNom's answer. Part of the order repository (db/order-repository.ts).
import type pg from 'pg'
import { fromCents, toCents } from '../domain/money.js'
import { createGatherer, type Pending } from '../lib/gather.js'
import { aloneIfRefused } from './batched.js'
import { FINAL_STATUSES, type OrderStatus } from '../domain/orders/status.js'
import { ATTEMPT_COLUMNS, ATTEMPT_SHAPE, ORDER_COLUMNS, ORDER_SHAPE, toAttempt, toOrder } from './order-columns.js'
import type { AttemptChanges, AttemptRow, NewAttempt, NewOrder, OrderChanges, OrderRow } from './order-repository.js'
import { eventsStatementParts, type NewEvent } from '../domain/events.js'
import { newId } from '../domain/ids.js'
import { enqueueRowsStatement, type NewJob } from '../jobs/queue.js'
import { currentRequestId } from '../request-scope.js'
import { givenFields, prefixed, query, rowsInsertion, rowsOf, selectList, type Sql } from './sql.js'

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
  /** The order's event (order.created), recorded with it; its request is the one that records the purchase. */
  event?: { id: string } & NewEvent
}

export interface RecordedPurchase { order: OrderRow, attempt: AttemptRow }

/** The most purchases (or confirmations) one statement writes. */
const BATCH_MAX = 64

/**
 * The most statements recording one lane's purchases at a time. They wait for each other for the
 * spend lock, which each takes once its rows are written, until it commits: a second one writes
 * its rows meanwhile; more would only queue for the lock, each holding a connection (a burst of
 * 200 orders: with four, the last batches waited 10-25 ms for it; with two, the batches are
 * larger and fewer).
 */
const SENDING = 2

/**
 * The most statements of one lane's changes at a time (changeWithAttempt): they wait for nothing
 * in PostgreSQL, so two keep them flowing while the ones that come meanwhile gather.
 */
const CHANGES_SENDING = 2

/** A purchase as the statement takes it: with the request its event comes from. */
interface Purchase { input: PurchaseInput, requestId: string | null }

/**
 * The statement that records `purchases` (one caller's, the same day's and limits, of one shape):
 * each order's rows, then the checks — every key still held, the day's spend with all of them
 * within the limits. Its rows are the orders and attempts as stored, with "i", their place in
 * `purchases`. The rows travel as arrays, so that its text is the same for any number of them: one
 * statement prepared (and planned) per connection, not one per batch size.
 */
function purchaseStatement (purchases: Purchase[]): { text: string, values: unknown[] } {
  const values: unknown[] = []
  const slot = (value: unknown, type: string) => {
    values.push(value)
    return `$${values.length}::${type}`
  }
  const inputs = purchases.map((p) => p.input)
  const first = inputs[0] as PurchaseInput
  const orders = rowsInsertion('certificate_order', ORDER_COLUMNS, inputs.map((i) => i.order), givenFields(first.order), values, 'vo')
  const attempts = rowsInsertion('order_attempt', ATTEMPT_COLUMNS, inputs.map((i) => i.attempt), givenFields(first.attempt), values, 'va')
  const items = [
    `vo AS (SELECT * FROM ${orders.from})`,
    `va AS (SELECT * FROM ${attempts.from})`,
    `o AS (${orders.insert} RETURNING *)`,
    'l AS (INSERT INTO service_lock (service_id, order_id, created_at) SELECT vo.service_id, vo.id, now() FROM vo ORDER BY vo.n RETURNING 1)',
    `a AS (${attempts.insert} RETURNING *)`
  ]
  const checks: string[] = []
  if (first.idempotencyKeyId) {
    items.push(`k AS (UPDATE idempotency_key k SET order_id = v.order_id FROM unnest(${slot(inputs.map((i) => i.idempotencyKeyId), 'uuid[]')}, ` +
      `${slot(inputs.map((i) => i.order.id), 'uuid[]')}) AS v (key_id, order_id) WHERE k.id = v.key_id RETURNING 1)`)
    // The key rows are the requests' claims: if one is gone, nothing may be bought under it.
    const gone = inputs.length === 1 ? `idempotency key ${first.idempotencyKeyId} is gone; the purchase is not recorded` : `an idempotency key of ${inputs.length} purchases is gone; none is recorded`
    checks.push(`must_hold((SELECT count(*) FROM k) = ${slot(inputs.length, 'int')}, ${slot(gone, 'text')}) AS "keysHeld"`)
  }
  if (first.event) {
    items.push(eventsStatementParts(purchases.map((p) => ({ id: (p.input.event as { id: string }).id, event: p.input.event as NewEvent, requestId: p.requestId })), values, 'ev'))
  }
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
          r AS (SELECT (vo.n - 1)::int AS "i", ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(ATTEMPT_SHAPE, 'a', 'a.')}
            FROM vo JOIN o ON o.id = vo.id JOIN a ON a.order_id = vo.id),
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
 * same shape (the same fields given, with a key or not, with an event or not: the statement's
 * text depends on it).
 */
function laneOf ({ input }: Purchase): string {
  return [input.order.caller, dayOf(input).toISOString(), input.spend ? `${input.spend.maxCount}/${input.spend.maxAmount}` : '-',
    input.idempotencyKeyId ? 'k' : '-', input.event ? 'e' : '-', givenFields(input.order).join(','), givenFields(input.attempt).join(',')].join('\n')
}

export function createPurchaseStatements (pool: pg.Pool) {
  /** Purchases waiting for their statement, by lane. */
  const purchases = createGatherer<Purchase, RecordedPurchase>({ send, max: BATCH_MAX, sending: SENDING, laneOf })

  /** Records a batch; one PostgreSQL refuses is recorded purchase by purchase (db/batched.ts). */
  function send (batch: Array<Pending<Purchase, RecordedPurchase>>): Promise<void> {
    return aloneIfRefused(batch, async (some) => {
      const { text, values } = purchaseStatement(some.map((q) => q.item))
      const rows = await query<Record<string, unknown>>(pool, text, values)
      for (const row of rows) some[Number(row['i'])]?.resolve(recordedPurchase(row))
    }, (err) => spendLimitError(err) ?? err)
  }

  /** Changes waiting for their statement, by lane. */
  const confirmations = createGatherer<Change, { order: OrderRow, attempt: AttemptRow }>({ send: sendChanges, max: BATCH_MAX, sending: CHANGES_SENDING, laneOf: changeLaneOf })

  function sendChanges (batch: Array<Pending<Change, { order: OrderRow, attempt: AttemptRow }>>): Promise<void> {
    return aloneIfRefused(batch, async (some) => {
      const { text, values } = changeStatement(some.map((q) => q.item))
      const rows = await query<Record<string, unknown>>(pool, text, values)
      for (const row of rows) some[Number(row['i'])]?.resolve({ order: toOrder(prefixed(row, 'o.')), attempt: toAttempt(prefixed(row, 'a.')) })
    }, (err, some) => {
      const change = (some[0] as Pending<Change, unknown>).item.change
      return some.length === 1 && (err as { code?: unknown }).code === 'SL003' ? new StatusMovedError(change.orderId, change.expected) : err
    })
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
      const { text, values } = purchaseStatement([{ input, requestId: currentRequestId() ?? null }])
      const rows = await query<Record<string, unknown>>(tx, text, values).catch((err: unknown) => { throw spendLimitError(err) ?? err })
      return recordedPurchase(rows[0] as Record<string, unknown>)
    },

    /**
     * insertPurchase, for purchases sent on the pool. Purchases of one caller that become ready
     * while one of theirs is being recorded are recorded together, by one statement (at most
     * 64): they would otherwise wait for each other's commits one by one on the caller's
     * spend lock, holding a pooled connection each meanwhile. A purchase that finds none of its
     * caller's being recorded is sent at once. When a batch is refused — a limit the orders pass
     * together, a service ordered twice, a key gone — nothing of it is written and each of its
     * purchases is recorded on its own, with the answer it would have had alone.
     */
    recordPurchase (input: PurchaseInput): Promise<RecordedPurchase> {
      // The event names the request that asked, whichever request's turn builds the statement.
      return purchases.add({ input, requestId: currentRequestId() ?? null })
    },

    /**
     * An order's change and its attempt's end in one statement that commits on its own, with the
     * jobs and events that go with it (the order's sync, its events) — only if the order is still
     * in status `expected`: otherwise nothing is written and StatusMovedError is thrown (the
     * caller takes the general path, which reads the status it changes from). The row returned is
     * the order as changed. Changes of the same shape that come while some are being written share
     * a statement (at most 64); one the batch refuses is written alone, as it would have been.
     */
    changeWithAttempt (change: Confirmation): Promise<{ order: OrderRow, attempt: AttemptRow }> {
      return confirmations.add({ change, requestId: currentRequestId() ?? null, at: new Date() })
    }
  }
}

/** An order's change with its attempt's end (changeWithAttempt). */
export interface Confirmation {
  orderId: string
  expected: OrderStatus
  changes: OrderChanges
  attempt: { id: string, changes: AttemptChanges }
  /** Enqueued with the change (the order's sync). */
  jobs?: NewJob[]
  /** Recorded with the change, in this order. */
  events?: NewEvent[]
}

/** A change as its statement takes it: with the request its events come from and its time. */
interface Change { change: Confirmation, requestId: string | null, at: Date }

/** Changes that may share a statement: its text depends on the fields changed and on what goes with them. */
function changeLaneOf ({ change }: Change): string {
  return [change.expected, givenFields(change.changes).join(','), givenFields(change.attempt.changes).join(','), isFinal(change) ? 'final' : '-',
    change.jobs?.length ? 'j' : '-', change.events?.length ? 'e' : '-'].join('\n')
}

function isFinal (change: Confirmation): boolean {
  return change.changes.status !== undefined && FINAL_STATUSES.includes(change.changes.status)
}

/** The statement of changeWithAttempt for `changes` (one lane's); its rows in their order, with "i". */
function changeStatement (changes: Change[]): { text: string, values: unknown[] } {
  const values: unknown[] = []
  const first = (changes[0] as Change).change
  const orderRows = changes.map(({ change, at }) => ({ id: change.orderId, ...change.changes, updatedAt: at }))
  const attemptRows = changes.map(({ change, at }) => ({ id: change.attempt.id, finishedAt: at, ...change.attempt.changes }))
  const orders = rowsOf(ORDER_COLUMNS, orderRows, givenFields(orderRows[0] as OrderChanges & { id: string }), values, 'vo')
  const attempts = rowsOf(ATTEMPT_COLUMNS, attemptRows, givenFields(attemptRows[0] as AttemptChanges & { id: string }), values, 'va')
  const sets = (names: string[], exprs: string[]) => names.map((name, k) => `${name} = ${exprs[k] as string}`).filter((_, k) => names[k] !== 'id').join(', ')
  values.push(first.expected)
  const expected = `$${values.length}::"OrderStatus"`
  const items = [
    `vo AS (SELECT * FROM ${orders.from})`,
    `va AS (SELECT * FROM ${attempts.from})`,
    `b AS (SELECT o.id FROM certificate_order o JOIN vo ON o.id = vo.id WHERE o.status = ${expected} FOR UPDATE OF o)`,
    `o AS (UPDATE certificate_order o SET ${sets(orders.names, orders.exprs)}, version = o.version + 1 FROM vo, b WHERE o.id = vo.id AND o.id = b.id RETURNING o.*)`,
    `a AS (UPDATE order_attempt t SET ${sets(attempts.names, attempts.exprs)} FROM va WHERE t.id = va.id RETURNING t.*)`
  ]
  if (isFinal(first)) items.push('released AS (DELETE FROM service_lock WHERE order_id IN (SELECT id FROM o))')
  if (first.jobs?.length) items.push(`jobs AS (${enqueueRowsStatement(changes.flatMap(({ change }) => change.jobs ?? []), values)})`)
  if (first.events?.length) {
    items.push(eventsStatementParts(changes.flatMap(({ change, requestId }) => (change.events ?? []).map((event) => ({ id: newId(), event, requestId }))), values, 'ev'))
  }
  values.push(changes.length, changes.length === 1
    ? `order ${first.orderId} is no longer ${first.expected}, or its attempt ${first.attempt.id} is gone`
    : `an order of ${changes.length} is no longer ${first.expected}, or its attempt is gone`)
  return {
    text: `
        WITH ${items.join(',\n          ')}
        SELECT must_hold((SELECT count(*) FROM o) = $${values.length - 1}::int AND (SELECT count(*) FROM a) = $${values.length - 1}::int, $${values.length}::text) AS "held",
          (vo.n - 1)::int AS "i", ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(ATTEMPT_SHAPE, 'a', 'a.')}
        FROM vo JOIN va ON va.n = vo.n LEFT JOIN o ON o.id = vo.id LEFT JOIN a ON a.id = va.id ORDER BY vo.n`,
    values
  }
}
