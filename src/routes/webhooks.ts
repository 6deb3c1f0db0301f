// Webhook subscriptions and their delivery log (admin).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { EVENT_TYPES } from '../domain/events.js'
import type { WebhookService } from '../domain/webhooks.js'
import { problemResponse } from '../plugins/swagger.js'
import { DateTimeSchema, IdParamsSchema, PageSchema, PaginationQuery, UuidSchema, pageOf } from '../schemas/common.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const WebhookSchema = Type.Object({
  id: UuidSchema,
  url: Type.String(),
  eventTypes: Type.Array(Type.String(), { description: 'Empty: every event type' }),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String({ description: 'Why deliveries stopped (410 Gone, deleted)' })),
  createdBy: Type.String(),
  createdAt: DateTimeSchema
}, { $id: 'Webhook', title: 'Webhook' })

const DeliverySchema = Type.Object({
  id: UuidSchema,
  eventId: UuidSchema,
  eventType: Type.String(),
  orderId: Nullable(Type.String()),
  status: Type.Enum(['pending', 'delivered', 'failed']),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(DateTimeSchema),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: DateTimeSchema,
  deliveredAt: Nullable(DateTimeSchema),
  log: Type.Array(Type.Object({ number: Type.Integer(), at: DateTimeSchema, statusCode: Nullable(Type.Integer()), error: Nullable(Type.String()), durationMs: Type.Integer() }))
})

const tags = ['Webhooks']
const notFound = problemResponse('No such webhook (or delivery)')

const webhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  app.addSchema(WebhookSchema)

  app.post('/webhooks', {
    config: { permission: 'webhooks.manage', audit: 'webhook.created' },
    schema: {
      tags,
      operationId: 'createWebhook',
      summary: 'Subscribe a URL to events; the signing secret is in this answer only',
      description: 'Deliveries are POSTs of { id, type, createdAt, data } with the headers x-enom-ssl-event-id, x-enom-ssl-event-type and ' +
        'x-enom-ssl-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>. 2xx is delivered, 410 disables the ' +
        'subscription, anything else is retried with backoff for WEBHOOK_RETRY_HOURS (72 by default). Events of one order arrive in order.',
      body: Type.Object({
        url: Type.String({ minLength: 1, maxLength: 2048, description: 'An origin of WEBHOOK_ALLOWED_ORIGINS' }),
        eventTypes: Type.Optional(Type.Array(Type.Enum([...EVENT_TYPES]), { maxItems: 20, description: 'Default: every event type' })),
        description: Type.Optional(Type.String({ maxLength: 200 }))
      }, { additionalProperties: false }),
      response: {
        201: Type.Intersect([Type.Ref('Webhook'), Type.Object({ secret: Type.String({ description: 'Shown once: keep it to verify signatures' }) })]),
        422: problemResponse('URL not allowed (WEBHOOK_URL_NOT_ALLOWED) or unknown event type')
      }
    }
  }, async (request, reply) => {
    const created = await webhooks.create(request.body, request.caller?.name ?? 'unknown')
    reply.code(201).header('location', `/webhooks/${created.id}`)
    return created
  })

  app.get('/webhooks', {
    config: { permission: 'webhooks.manage' },
    schema: { tags, operationId: 'listWebhooks', summary: 'Webhook subscriptions', response: { 200: Type.Object({ items: Type.Array(Type.Ref('Webhook')) }) } }
  }, async () => ({ items: await webhooks.list() }))

  app.get('/webhooks/:id', {
    config: { permission: 'webhooks.manage' },
    schema: { tags, operationId: 'getWebhook', summary: 'A webhook subscription', params: IdParamsSchema, response: { 200: Type.Ref('Webhook'), 404: notFound } }
  }, async (request) => webhooks.get(request.params.id))

  app.delete('/webhooks/:id', {
    config: { permission: 'webhooks.manage', audit: 'webhook.deleted' },
    schema: { tags, operationId: 'deleteWebhook', summary: 'Stop a subscription; pending deliveries are dropped', params: IdParamsSchema, response: { 200: Type.Ref('Webhook'), 404: notFound } }
  }, async (request) => webhooks.remove(request.params.id))

  app.get('/webhooks/:id/deliveries', {
    config: { permission: 'webhooks.manage' },
    schema: {
      tags,
      operationId: 'listWebhookDeliveries',
      summary: 'The delivery log of a subscription, newest first, each with its attempts',
      params: IdParamsSchema,
      querystring: Type.Object({ ...PaginationQuery }, { additionalProperties: false }),
      response: { 200: PageSchema(DeliverySchema), 404: notFound }
    }
  }, async (request) => {
    const { limit, offset } = pageOf(request.query)
    const page = await webhooks.deliveries(request.params.id, { limit, offset })
    return { ...page, limit, offset }
  })

  app.post('/webhooks/:id/deliveries/:deliveryId/retry', {
    config: { permission: 'webhooks.manage', audit: 'webhook.redelivered' },
    schema: {
      tags,
      operationId: 'retryWebhookDelivery',
      summary: 'Deliver an event again',
      params: Type.Object({ id: UuidSchema, deliveryId: UuidSchema }, { additionalProperties: false }),
      response: { 202: Type.Object({ id: UuidSchema, status: Type.Literal('pending') }), 404: notFound, 409: problemResponse('Still pending, or the subscription is disabled') }
    }
  }, async (request, reply) => {
    reply.code(202)
    return webhooks.redeliver(request.params.id, request.params.deliveryId)
  })
}

export default webhookRoutes
