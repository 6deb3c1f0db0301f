// Request durations into the metrics registry, and GET /metrics for Prometheus.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Metrics } from '../metrics.js'
import { routeOf } from './request-context.js'

async function metricsPlugin (app: FastifyInstance, options: { metrics: Metrics }) {
  const { metrics } = options
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe({ method: request.method, route: routeOf(request), status: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })
}

export default fp(metricsPlugin, { name: 'metrics' })

/** GET /metrics; registered after the auth plugin like every other route. */
export async function metricsRoute (app: FastifyInstance, options: { metrics: Metrics }) {
  const { metrics } = options
  app.get('/metrics', {
    config: { permission: 'metrics.read' },
    schema: {
      tags: ['Health'],
      operationId: 'getMetrics',
      summary: 'Prometheus metrics (role ops, or METRICS_TOKEN)',
      response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } }
    }
  }, async (_request, reply) => {
    const text = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(text)
  })
}
