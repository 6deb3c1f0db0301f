// Events for the billing backend. emit() writes the event into the outbox inside the caller's
// transaction, together with one delivery per interested subscription and the job that delivers
// them: committed with the change that caused it, or not at all. Delivery happens later, in the
// job runner, so it never slows the request.
import { query, type Sql } from '../db/sql.js'
import type { JobQueue } from '../jobs/queue.js'
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

export function createEvents (deps: { queue: JobQueue }) {
  return {
    async emit (tx: Sql, event: NewEvent): Promise<string | undefined> {
      const id = newId()
      // The event and the subscriptions that want it, in one statement: no row when the event
      // was a duplicate (dedupe key), one row with no subscription when nobody listens.
      const rows = await query<{ seq: string, subscriptionId: string | null }>(tx, `
        WITH e AS (
          INSERT INTO outbox_event (id, type, order_id, module_id, data, request_id, dedupe_key, created_at)
          VALUES ($1::uuid, $2::text, $3::uuid, $4::uuid, $5::jsonb, $6::text, $7::text, now())
          ON CONFLICT (dedupe_key) DO NOTHING
          RETURNING seq
        )
        SELECT e.seq::text AS seq, s.id::text AS "subscriptionId"
        FROM e LEFT JOIN webhook_subscription s
          ON s.enabled AND s.deleted_at IS NULL AND (coalesce(cardinality(s.event_types), 0) = 0 OR $2::text = ANY (s.event_types))
        ORDER BY s.created_at, s.id`,
      [id, event.type, event.orderId ?? null, event.moduleId ?? null, JSON.stringify(event.data), currentRequestId() ?? null, event.dedupeKey ?? null])
      const seq = rows[0]?.seq
      if (seq === undefined) return undefined
      const partition = partitionOf(id, event.orderId)
      for (const { subscriptionId } of rows) {
        if (subscriptionId === null) continue
        await query(tx, `
          INSERT INTO webhook_delivery (id, subscription_id, event_id, partition, seq)
          VALUES ($1::uuid, $2::uuid, $3::uuid, $4::text, $5::bigint)`, [newId(), subscriptionId, id, partition, seq])
        await deps.queue.enqueue({ kind: 'webhook.deliver', key: `webhook:${subscriptionId}:${partition}`, payload: { subscriptionId, partition }, maxAttempts: 1000 }, tx)
      }
      return id
    }
  }
}

export type Events = ReturnType<typeof createEvents>
