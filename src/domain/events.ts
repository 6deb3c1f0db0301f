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

/**
 * The parts of a statement (WITH items `name`, `name`_subscriptions, _deliveries and _jobs) that
 * record an event: its outbox row, and for each subscription that wants it a delivery and the job
 * that sends it. One statement whatever the number of subscriptions, so that an event can travel
 * inside another statement (the purchase's, db/purchase-statements.ts) and commit with it. A
 * duplicate event (its dedupe key seen before) writes nothing; `ev` is then empty. Parameters are
 * appended to `values`.
 */
export function eventStatementParts (id: string, event: NewEvent, values: unknown[], name = 'ev'): string {
  const slot = (value: unknown, type: string) => {
    values.push(value)
    return `$${values.length}::${type}`
  }
  const type = slot(event.type, 'text')
  const partition = slot(partitionOf(id, event.orderId), 'text')
  return `${name} AS (
      INSERT INTO outbox_event (id, type, order_id, module_id, data, request_id, dedupe_key, created_at)
      VALUES (${slot(id, 'uuid')}, ${type}, ${slot(event.orderId ?? null, 'uuid')}, ${slot(event.moduleId ?? null, 'uuid')},
        ${slot(JSON.stringify(event.data), 'jsonb')}, ${slot(currentRequestId() ?? null, 'text')}, ${slot(event.dedupeKey ?? null, 'text')}, now())
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING id, seq
    ),
    ${name}_subscriptions AS (
      SELECT s.id FROM ${name}, webhook_subscription s
      WHERE s.enabled AND s.deleted_at IS NULL AND (coalesce(cardinality(s.event_types), 0) = 0 OR ${type} = ANY (s.event_types))
    ),
    ${name}_deliveries AS (
      INSERT INTO webhook_delivery (id, subscription_id, event_id, partition, seq)
      SELECT gen_random_uuid(), s.id, e.id, ${partition}, e.seq FROM ${name} e, ${name}_subscriptions s
    ),
    ${name}_jobs AS (
      INSERT INTO job (id, kind, key, payload, status, run_at, attempts, max_attempts, created_at, updated_at)
      SELECT gen_random_uuid(), 'webhook.deliver', 'webhook:' || s.id::text || ':' || ${partition},
        jsonb_build_object('subscriptionId', s.id::text, 'partition', ${partition}), 'pending', now(), 0, ${WEBHOOK_JOB_ATTEMPTS}, now(), now()
      FROM ${name}_subscriptions s
      ${ENQUEUE_CONFLICT}
    )`
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
