// Liveness and readiness. /health/live answers while the process serves, so that a liveness probe
// never restarts the service during a database outage; /health and /health/ready also need the
// database to answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { HealthProbe } from '../domain/health.js'

const HealthSchema = Type.Object({
  status: Type.Enum(['ok', 'unavailable']),
  db: Type.Enum(['up', 'down']),
  uptimeSeconds: Type.Number(),
  version: Type.String()
})

export interface HealthRoutesOptions {
  probe: HealthProbe
  version: string
  startedAt: number
}

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { probe, version, startedAt }) => {
  const readiness = async () => {
    const { db } = await probe.check()
    return {
      code: db === 'up' ? 200 as const : 503 as const,
      body: { status: db === 'up' ? 'ok' as const : 'unavailable' as const, db, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), version }
    }
  }
  const schema = (operationId: string, summary: string) => ({
    tags: ['Health'],
    operationId,
    summary,
    response: { 200: HealthSchema, 503: HealthSchema }
  })

  for (const [url, operationId, summary] of [
    ['/health', 'getHealth', 'Service and database status'],
    ['/health/ready', 'getReadiness', 'Readiness (same as /health)']
  ] as const) {
    app.get(url, { config: { permission: 'public' }, schema: schema(operationId, summary) }, async (_request, reply) => {
      const { code, body } = await readiness()
      return reply.header('cache-control', 'no-store').code(code).send(body)
    })
  }
  app.get('/health/live', {
    config: { permission: 'public' },
    schema: {
      tags: ['Health'],
      operationId: 'getLiveness',
      summary: 'Liveness: the process serves requests (no database check)',
      response: { 200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }) }
    }
  }, async (_req, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' as const, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }
  })
}

export default healthRoutes
