// Certificate orders. Every POST needs an Idempotency-Key (plugins/idempotency.ts); eNom calls
// that spend money or change eNom state happen behind committed attempt rows in the domain.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from 'typebox'
import type { OrderService } from '../domain/orders/service.js'
import { problemResponse } from '../plugins/swagger.js'
import { IdParamsSchema, splitPage } from '../schemas/common.js'
import {
  ApproverEmailBodySchema, ApproverListSchema, CloseBodySchema, ConfigureOrderSchema, CreateOrderSchema, EmptyBodySchema,
  IdempotencyHeadersSchema, OrderListQuerySchema, OrderPageSchema, ReissueBodySchema
} from '../schemas/orders.js'
import { scopeOf } from './scope.js'

export interface OrderRoutesOptions {
  orders: OrderService
}

const OrderRef = Type.Ref('Order')
const tags = ['Orders']
const notFound = problemResponse('No such order')
const wrongState = problemResponse('Not allowed in the order\'s status or product family (ACTION_NOT_ALLOWED), or an Idempotency-Key in use')
const keyReused = problemResponse('Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED), or eNom rejected the request')
const enomDown = problemResponse('eNom failed or its outcome is unknown (the order says what happens next)')

const failures = { 404: notFound, 409: wrongState, 422: keyReused, 502: enomDown, 504: enomDown }

/** An order action: POST with an Idempotency-Key, answering the order. */
function post<B extends TSchema> (summary: string, operationId: string, body: B) {
  return {
    config: { permission: 'orders.write' as const, idempotent: true },
    schema: { tags, summary, operationId, params: IdParamsSchema, headers: IdempotencyHeadersSchema, body, response: { 200: OrderRef, ...failures } }
  }
}

const NoBody = Type.Optional(EmptyBodySchema)

const orderRoutes: FastifyPluginAsyncTypebox<OrderRoutesOptions> = async (app, { orders }) => {
  app.post('/orders', {
    config: { permission: 'orders.write', idempotent: true },
    schema: {
      tags,
      operationId: 'createOrder',
      summary: 'Order a certificate (Idempotency-Key required)',
      description: 'Chooses the module (lowest sort among enabled modules of the environment and data center, unless moduleId is given), ' +
        'checks product, years and options against its live catalogue, applies the spend guards, and buys the certificate exactly once. ' +
        'With csr, webServerType and contacts it also configures and submits it. 201: bought; 202: the purchase outcome is unknown and ' +
        'is being reconciled (never bought twice).',
      headers: IdempotencyHeadersSchema,
      body: CreateOrderSchema,
      response: {
        201: OrderRef,
        202: OrderRef,
        409: problemResponse('An open order exists for the service (ORDER_EXISTS), no module available, insufficient funds, or a spend limit reached'),
        422: keyReused,
        502: enomDown,
        504: enomDown
      }
    }
  }, async (request, reply) => {
    const result = await orders.place(request.body, request.caller?.name ?? 'unknown', scopeOf(request), request.idempotency?.id)
    reply.code(result.created ? 201 : 202).header('location', `/orders/${result.order.id}`)
    return orders.view(result.order)
  })

  app.get('/orders', {
    config: { permission: 'orders.read' },
    schema: {
      tags,
      operationId: 'listOrders',
      summary: 'List orders (newest first)',
      querystring: OrderListQuerySchema,
      response: { 200: OrderPageSchema }
    }
  }, async (request) => {
    const { page: { limit, offset }, filter: { expiringBefore, ...filter } } = splitPage(request.query)
    const page = await orders.list({ ...filter, ...(expiringBefore ? { expiringBefore: new Date(expiringBefore) } : {}) }, { limit, offset })
    return { items: page.items.map(orders.view), total: page.total, limit, offset }
  })

  app.get('/orders/:id', {
    config: { permission: 'orders.read' },
    schema: { tags, operationId: 'getOrder', summary: 'Read an order', params: IdParamsSchema, response: { 200: OrderRef, 404: notFound } }
  }, async (request) => orders.view(await orders.get(request.params.id)))

  app.post('/orders/:id/configure', post('Configure and submit the certificate (CertConfigureCert, then CertPurchaseCert)', 'configureOrder', ConfigureOrderSchema),
    async (request) => orders.view(await orders.configure(request.params.id, request.body, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.get('/orders/:id/approver-emails', {
    config: { permission: 'orders.read' },
    schema: {
      tags,
      operationId: 'listApproverEmails',
      summary: 'Approver e-mails eNom lists for the domain (needs the CertID: after purchase)',
      params: IdParamsSchema,
      response: { 200: ApproverListSchema, 404: notFound, 409: wrongState, 502: enomDown, 504: enomDown }
    }
  }, async (request) => orders.approverEmails(request.params.id, scopeOf(request)))

  app.post('/orders/:id/approver-email', post('Change the approver e-mail (CertChangeApproverEmail)', 'changeApproverEmail', ApproverEmailBodySchema),
    async (request) => orders.view(await orders.changeApproverEmail(request.params.id, request.body.approverEmail, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.post('/orders/:id/resend-approver-email', post('Resend the approver e-mail', 'resendApproverEmail', NoBody),
    async (request) => orders.view(await orders.resendApproverEmail(request.params.id, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.post('/orders/:id/resend-fulfillment-email', post('Resend the fulfillment e-mail (RapidSSL/GeoTrust/Symantec)', 'resendFulfillmentEmail', NoBody),
    async (request) => orders.view(await orders.resendFulfillmentEmail(request.params.id, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.post('/orders/:id/sync', post("Read the certificate's status from eNom now", 'syncOrder', NoBody),
    async (request) => orders.view(await orders.sync(request.params.id, scopeOf(request))))

  app.post('/orders/:id/reissue', post('Reissue with a new CSR (RapidSSL/GeoTrust/Symantec, issued certificates)', 'reissueOrder', ReissueBodySchema),
    async (request) => orders.view(await orders.reissue(request.params.id, request.body.csr, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.post('/orders/:id/cancel-configuration', post('Cancel the configuration (CertModifyOrder): back to awaiting configuration, not a cancellation', 'cancelConfiguration', NoBody),
    async (request) => orders.view(await orders.cancelConfiguration(request.params.id, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.post('/orders/:id/renew', {
    config: { permission: 'orders.write', idempotent: true },
    schema: {
      tags,
      operationId: 'renewOrder',
      summary: 'Renew: a new order for the same service and module, linked to this one (eNom has no renewal)',
      params: IdParamsSchema,
      headers: IdempotencyHeadersSchema,
      body: NoBody,
      response: { 201: OrderRef, 202: OrderRef, ...failures }
    }
  }, async (request, reply) => {
    const result = await orders.renew(request.params.id, request.caller?.name ?? 'unknown', scopeOf(request), request.idempotency?.id)
    reply.code(result.created ? 201 : 202).header('location', `/orders/${result.order.id}`)
    return orders.view(result.order)
  })

  app.post('/orders/:id/close', post('The billing service was closed: stop following the order (refunds need eNom support: a task says so)', 'closeOrder', Type.Optional(CloseBodySchema)),
    async (request) => orders.view(await orders.close(request.params.id, request.body?.reason, request.caller?.name ?? 'unknown', scopeOf(request))))

  app.get('/orders/:id/certificate', {
    config: { permission: 'orders.read' },
    schema: {
      tags,
      operationId: 'getCertificate',
      summary: 'The issued certificate as PEM: the certificate, then the chain',
      params: IdParamsSchema,
      response: {
        200: { description: 'PEM', content: { 'application/x-pem-file': { schema: Type.String() } } },
        404: notFound,
        409: problemResponse('Not issued yet (CERTIFICATE_NOT_ISSUED)')
      }
    }
  }, async (request, reply) => {
    const pem = await orders.certificate(request.params.id)
    return reply.type('application/x-pem-file').header('content-disposition', `attachment; filename="${request.params.id}.pem"`).send(pem)
  })
}

export default orderRoutes
