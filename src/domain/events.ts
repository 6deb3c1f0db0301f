// Events for the billing backend. emit() writes the event into the outbox inside the caller's
// transaction, together with one delivery per interested subscription and the job that delivers
// them: committed with the change that caused it, or not at all. Delivery happens later, in the
// job runner, so it never slows the request.
import { query, type Sql } from '../db/sql.js'
import { ENQUEUE_CONFLICT } from '../jobs/queue.js'
import { currentRequestId } from '../request-scope.js'
import { newId } from './ids.js'

export const EVENT_TYPES = [
  'order.created', 'order.status_changed', 'order.issued', 'order.failed', 'order.outcome_unknown', 'order.expiring',
  'module.balance_below_minimal', 'module.connection_failed', 'task.created', 'task.resolved'
] as const
export type EventType = typeof EVENT_TYPES[number]

export interface NewEvent {
  type: EventType
  orderId?: string | null
  moduleId?: string | null
  data: Record<string, unknown>
  /** An event that must happen once only (e.g. order.expiring per order and threshold). */
  dedupeKey?: string
}

/** Deliveries of one order's events go one after the other; other events are independent. */
export function partitionOf (eventId: string, orderId: string | null | undefined): string {
  return orderId ? `order:${orderId}` : `event:${eventId}`
}

/** An event to record with others in one statement (eventsStatementParts). */
export interface EventToRecord {
  id: string
  event: NewEvent
  /** The request it comes from (the outbox row's request_id). */
  requestId: string | null
}

/**
 * The parts of a statement (WITH items `name`_rows, `name`, `name`_subscriptions, _deliveries and
 * _jobs) that record events: their outbox rows, and for each subscription that wants one a
 * delivery and the job that sends it. One statement whatever the number of events and
 * subscriptions, so that events can travel inside another statement (a purchase's,
 * db/purchase-statements.ts) and commit with it; its text does not depend on the number of
 * events. The events are numbered (seq) in the order given. A duplicate event (its dedupe key seen
 * before) writes nothing and is not in `name`. Parameters are appended to `values`.
 */
export function eventsStatementParts (events: EventToRecord[], values: unknown[], name = 'ev'): string {
  const array = (items: unknown[], type: string) => {
    values.push(items)
    return `$${values.length}::${type}[]`
  }
  const rows = `unnest(${[
    array(events.map((e) => e.id), 'uuid'),
    array(events.map((e) => e.event.type), 'text'),
    array(events.map((e) => e.event.orderId ?? null), 'uuid'),
    array(events.map((e) => e.event.moduleId ?? null), 'uuid'),
    array(events.map((e) => JSON.stringify(e.event.data)), 'jsonb'),
    array(events.map((e) => e.requestId), 'text'),
    array(events.map((e) => e.event.dedupeKey ?? null), 'text'),
    array(events.map((e) => partitionOf(e.id, e.event.orderId)), 'text')
  ].join(', ')}) WITH ORDINALITY AS r (id, type, order_id, module_id, data, request_id, dedupe_key, partition, n)`
  return `${name}_rows AS (SELECT * FROM ${rows}),
    ${name} AS (
      INSERT INTO outbox_event (id, type, order_id, module_id, data, request_id, dedupe_key, created_at)
      SELECT r.id, r.type, r.order_id, r.module_id, r.data, r.request_id, r.dedupe_key, now() FROM ${name}_rows r ORDER BY r.n
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id, seq, type
    ),
    ${name}_subscriptions AS (
      SELECT e.id AS event_id, e.seq, r.partition, s.id FROM ${name} e JOIN ${name}_rows r ON r.id = e.id, webhook_subscription s
      WHERE s.enabled AND s.deleted_at IS NULL AND (coalesce(cardinality(s.event_types), 0) = 0 OR e.type = ANY (s.event_types))
    ),
    ${name}_deliveries AS (
      INSERT INTO webhook_delivery (id, subscription_id, event_id, partition, seq)
      SELECT gen_random_uuid(), s.id, s.event_id, s.partition, s.seq FROM ${name}_subscriptions s
    ),
    ${name}_jobs AS (
      INSERT INTO job (id, kind, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
      SELECT DISTINCT ON (s.id, s.partition) gen_random_uuid(), 'webhook.deliver', 'webhook:' || s.id::text || ':' || s.partition,
        jsonb_build_object('subscriptionId', s.id::text, 'partition', s.partition), 'pending'::"JobStatus", now(), 0, ${WEBHOOK_JOB_ATTEMPTS}, now(), now()
      FROM ${name}_subscriptions s
      ${ENQUEUE_CONFLICT}
    )`
}

/** eventsStatementParts of one event, of the current request. */
export function eventStatementParts (id: string, event: NewEvent, values: unknown[], name = 'ev'): string {
  return eventsStatementParts([{ id, event, requestId: currentRequestId() ?? null }], values, name)
}

/** A delivery job keeps retrying (with its own backoff) until the delivery itself gives up. */
const WEBHOOK_JOB_ATTEMPTS = 1000

export function createEvents () {
  return {
    /** Records an event in `tx` (one statement); its id, or undefined when it was a duplicate. */
    async emit (tx: Sql, event: NewEvent): Promise<string | undefined> {
      const id = newId()
      const values: unknown[] = []
      const rows = await query<{ recorded: boolean }>(tx, `WITH ${eventStatementParts(id, event, values)} SELECT EXISTS (SELECT 1 FROM ev) AS recorded`, values)
      return rows[0]?.recorded === true ? id : undefined
    }
  }
}

export type Events = ReturnType<typeof createEvents>
