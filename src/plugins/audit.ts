// The audit trail of admin actions. A route names its action in `config.audit`; when it
// succeeds, one row records who (the caller's name and role), what (the action, the record, the
// names of the fields changed — never their values), when, and under which request id.
// GET /audit lists them (admin).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import type { Prisma as PrismaClient } from '../db/database.js'
import { newId } from '../domain/ids.js'
import { DateTimeSchema, PageSchema, PaginationQuery, UuidSchema, splitPage } from '../schemas/common.js'

export type AuditAction =
  | 'module.created' | 'module.updated' | 'module.deleted' | 'module.connection_checked'
  | 'task.resolved' | 'purchases.paused' | 'purchases.resumed'
  | 'webhook.created' | 'webhook.deleted' | 'webhook.redelivered'

declare module 'fastify' {
  interface FastifyContextConfig {
    audit?: AuditAction
  }
}

const TARGET: Record<string, string> = { module: 'module', task: 'task', purchases: 'purchases', webhook: 'webhook' }

/** Field names of the body, with secrets marked as changed but never recorded. */
function changedFields (body: unknown): { fields?: string[], passwordChanged?: boolean } {
  if (!body || typeof body !== 'object') return {}
  const fields = Object.keys(body).filter((k) => k !== 'checkConnection')
  return { fields, ...(fields.includes('password') ? { passwordChanged: true } : {}) }
}

function targetIdOf (request: FastifyRequest, payload: unknown): string | undefined {
  const params = request.params as { id?: string } | undefined
  if (params?.id) return params.id
  if (typeof payload === 'string') {
    try {
      const id = (JSON.parse(payload) as { id?: unknown }).id
      return typeof id === 'string' ? id : undefined
    } catch { /* not JSON */ }
  }
  return undefined
}

async function auditPlugin (app: FastifyInstance, options: { prisma: PrismaClient }) {
  // Only routes that name an admin action carry the hook: the others pay nothing for it.
  app.addHook('onRoute', (route) => {
    if ((route.config as { audit?: AuditAction } | undefined)?.audit) route.onSend = [...(route.onSend ? [route.onSend].flat() : []), record]
  })

  async function record (request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const action = request.routeOptions.config.audit
    if (!action || reply.statusCode >= 300 || !request.caller) return payload
    const body = request.body as Record<string, unknown> | undefined
    const details = action === 'module.updated' || action === 'module.created'
      ? changedFields(body)
      : action === 'purchases.paused' || action === 'task.resolved'
        ? { ...(typeof body?.reason === 'string' ? { reason: body.reason } : {}), ...(typeof body?.resolution === 'string' ? { resolution: body.resolution } : {}) }
        : {}
    try {
      await options.prisma.auditEvent.create({
        data: {
          id: newId(),
          actor: request.caller.name,
          role: request.caller.role,
          action,
          targetType: TARGET[action.split('.')[0] as string] ?? 'other',
          targetId: targetIdOf(request, payload) ?? null,
          requestId: request.id,
          details
        }
      })
    } catch (err) {
      request.log.error({ err, action }, 'could not write the audit event')
    }
    return payload
  }
}

export const auditTrail = fp(auditPlugin, { name: 'audit' })

const AuditEventSchema = Type.Object({
  id: UuidSchema,
  at: DateTimeSchema,
  actor: Type.String({ description: "The caller's name from API_TOKENS" }),
  role: Type.String(),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.String(),
  details: Type.Object({}, { additionalProperties: true, description: 'Changed field names and notes; never values of secrets' })
})

export const auditRoutes: FastifyPluginAsyncTypebox<{ prisma: PrismaClient }> = async (app, { prisma }) => {
  app.get('/audit', {
    config: { permission: 'audit.read' },
    schema: {
      tags: ['Audit'],
      operationId: 'listAuditEvents',
      summary: 'Admin actions, newest first',
      querystring: Type.Object({
        actor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        ...PaginationQuery
      }, { additionalProperties: false }),
      response: { 200: PageSchema(AuditEventSchema) }
    }
  }, async (request) => {
    const { page: { limit, offset }, filter } = splitPage(request.query)
    const where = { ...(filter.actor ? { actor: filter.actor } : {}), ...(filter.action ? { action: filter.action } : {}), ...(filter.targetId ? { targetId: filter.targetId } : {}) }
    const [items, total] = await prisma.$transaction([
      prisma.auditEvent.findMany({ where, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: limit, skip: offset }),
      prisma.auditEvent.count({ where })
    ])
    return { items: items.map((e) => ({ ...e, at: e.at.toISOString(), details: e.details as Record<string, unknown> })), total, limit, offset }
  })
}
