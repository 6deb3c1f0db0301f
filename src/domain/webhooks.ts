// Webhook subscriptions: where the billing backend wants events. The URL is held to an
// allow-list like eNom's (WEBHOOK_ALLOWED_ORIGINS; private addresses only for origins listed on
// purpose; no userinfo), the signing secret is shown once and stored encrypted like module
// passwords, and the delivery log can be read and a delivery sent again.
import { randomBytes } from 'node:crypto'
import type { AllowedOrigin } from '../config.js'
import type { Prisma as PrismaClient } from '../db/database.js'
import type { JobQueue } from '../jobs/queue.js'
import { conflict, notFound, unprocessable } from './errors.js'
import { EVENT_TYPES, type EventType } from './events.js'
import { newId } from './ids.js'
import type { SecretBox } from './secrets.js'

export const webhookSecretAad = (id: string) => `webhook_subscription:${id}:secret`

export interface WebhookView {
  id: string
  url: string
  eventTypes: EventType[]
  description: string | null
  enabled: boolean
  disabledReason: string | null
  createdBy: string
  createdAt: string
}

export function checkWebhookUrl (input: string, allowed: readonly AllowedOrigin[]): { url: string, origin: AllowedOrigin } {
  const refuse = (detail: string) => unprocessable('WEBHOOK_URL_NOT_ALLOWED', 'Webhook URL not allowed', detail, { errors: [{ field: 'body.url', message: detail }] })
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw refuse('the URL is not an absolute URL')
  }
  if (url.username || url.password) throw refuse('the URL must not carry a user name or password')
  if (url.hash || input.includes('#')) throw refuse('the URL must not carry a fragment')
  if (allowed.length === 0) throw refuse('no webhook origin is allowed: set WEBHOOK_ALLOWED_ORIGINS')
  const origin = allowed.find((a) => a.origin === url.origin && input.toLowerCase().startsWith(`${a.origin}/`))
  if (!origin) throw refuse(`the origin ${url.origin} is not in WEBHOOK_ALLOWED_ORIGINS (${allowed.map((a) => a.origin).join(', ')})`)
  return { url: url.toString(), origin }
}

export function createWebhookService (deps: { prisma: PrismaClient, secrets: SecretBox, queue: JobQueue, allowedOrigins: readonly AllowedOrigin[], wake: () => void }) {
  const view = (s: { id: string, url: string, eventTypes: string[], description: string | null, enabled: boolean, disabledReason: string | null, createdBy: string, createdAt: Date }): WebhookView => ({
    id: s.id,
    url: s.url,
    eventTypes: s.eventTypes as EventType[],
    description: s.description,
    enabled: s.enabled,
    disabledReason: s.disabledReason,
    createdBy: s.createdBy,
    createdAt: s.createdAt.toISOString()
  })

  async function get (id: string) {
    const row = await deps.prisma.webhookSubscription.findUnique({ where: { id } })
    if (!row || row.deletedAt) throw notFound('webhook', id)
    return row
  }

  return {
    view,

    /** Creates a subscription; the secret is in this answer and never again. */
    async create (input: { url: string, eventTypes?: string[], description?: string }, by: string): Promise<WebhookView & { secret: string }> {
      const { url } = checkWebhookUrl(input.url, deps.allowedOrigins)
      const types = [...new Set(input.eventTypes ?? [])]
      const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t))
      if (unknown.length > 0) throw unprocessable('EVENT_TYPE_UNKNOWN', 'Unknown event type', `unknown event types: ${unknown.join(', ')}; known: ${EVENT_TYPES.join(', ')}`)
      const id = newId()
      const secret = `whsec_${randomBytes(32).toString('base64url')}`
      const row = await deps.prisma.webhookSubscription.create({
        data: { id, url, eventTypes: types, description: input.description ?? null, secretEnc: deps.secrets.encrypt(secret, webhookSecretAad(id)), createdBy: by }
      })
      return { ...view(row), secret }
    },

    async list () {
      const rows = await deps.prisma.webhookSubscription.findMany({ where: { deletedAt: null }, orderBy: { createdAt: 'asc' } })
      return rows.map(view)
    },

    get: async (id: string) => view(await get(id)),

    /** Stops deliveries to the subscription; what was still pending is dropped. */
    async remove (id: string): Promise<WebhookView> {
      await get(id)
      const row = await deps.prisma.$transaction(async (tx) => {
        await tx.webhookDelivery.updateMany({ where: { subscriptionId: id, status: 'pending' }, data: { status: 'failed', lastError: 'subscription deleted' } })
        return tx.webhookSubscription.update({ where: { id }, data: { deletedAt: new Date(), enabled: false, disabledReason: 'deleted' } })
      })
      return view(row)
    },

    async deliveries (id: string, page: { limit: number, offset: number }) {
      await get(id)
      const where = { subscriptionId: id }
      const [items, total] = await deps.prisma.$transaction([
        deps.prisma.webhookDelivery.findMany({ where, include: { event: true, attemptLog: { orderBy: { number: 'asc' } } }, orderBy: [{ seq: 'desc' }], take: page.limit, skip: page.offset }),
        deps.prisma.webhookDelivery.count({ where })
      ])
      return {
        total,
        items: items.map((d) => ({
          id: d.id,
          eventId: d.eventId,
          eventType: d.event.type,
          orderId: d.event.orderId,
          status: d.status,
          attempts: d.attempts,
          nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
          lastStatusCode: d.lastStatusCode,
          lastError: d.lastError,
          createdAt: d.createdAt.toISOString(),
          deliveredAt: d.deliveredAt?.toISOString() ?? null,
          log: d.attemptLog.map((a) => ({ number: a.number, at: a.at.toISOString(), statusCode: a.statusCode, error: a.error, durationMs: a.durationMs }))
        }))
      }
    },

    /** Sends a delivery again (delivered or given up): it goes to the end of its order's queue. */
    async redeliver (id: string, deliveryId: string) {
      const sub = await get(id)
      if (!sub.enabled) throw conflict('WEBHOOK_DISABLED', `the subscription is disabled (${sub.disabledReason ?? 'disabled'}); create a new one`)
      const delivery = await deps.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } })
      if (!delivery || delivery.subscriptionId !== id) throw notFound('delivery', deliveryId)
      if (delivery.status === 'pending') throw conflict('DELIVERY_PENDING', 'the delivery is still pending; it will be tried again by itself')
      await deps.prisma.$transaction(async (tx) => {
        await tx.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'pending', attempts: 0, nextAttemptAt: new Date(), lastError: null } })
        await deps.queue.enqueue({ kind: 'webhook.deliver', key: `webhook:${id}:${delivery.partition}`, payload: { subscriptionId: id, partition: delivery.partition, manual: deliveryId }, maxAttempts: 1000 }, tx)
      })
      deps.wake()
      return { id: deliveryId, status: 'pending' as const }
    }
  }
}

export type WebhookService = ReturnType<typeof createWebhookService>
