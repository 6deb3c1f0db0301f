// Request ids and the one log line per request. The caller's X-Request-Id is kept when it looks
// like an id (else one is made), echoed in the response, and carried by every log line of the
// request through request.log. Health checks are logged at debug so that probes do not flood.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { requestScope } from '../request-scope.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The route's URL pattern ('' until the first onRequest hook; see routeOf). */
    routeUrl: string
  }
}

/**
 * The request's route pattern ('unmatched' when no route matched). Fastify's routeOptions builds
 * an object of a dozen fields on every read; the hooks of every request read the pattern once,
 * here, through this.
 */
export function routeOf (request: FastifyRequest): string {
  return request.routeUrl || (request.routeOptions.url ?? 'unmatched')
}

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

export function requestIdFor (req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  const value = Array.isArray(given) ? given[0] : given
  return value && REQUEST_ID.test(value) ? value : randomUUID()
}

async function requestContextPlugin (app: FastifyInstance) {
  app.decorateRequest('routeUrl', '')
  // The rest of the request runs inside its scope (callback style: `done` is called within run).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    const route = request.routeUrl = request.routeOptions.url ?? 'unmatched'
    // Health checks write nothing and call no one: they need no scope (and probes are frequent).
    if (route.startsWith('/health')) return done()
    requestScope.run({ requestId: request.id, receivedAt: Date.now() }, done)
  })
  app.addHook('onResponse', (request, reply, done) => {
    const route = routeOf(request)
    const entry = {
      method: request.method,
      route,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      caller: request.caller?.name
    }
    if (route.startsWith('/health')) request.log.debug(entry, 'request')
    else request.log.info(entry, 'request')
    done()
  })
}

export default fp(requestContextPlugin, { name: 'request-context' })
