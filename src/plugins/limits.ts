// Abuse and overload limits. Rate limiting: per authenticated caller (the name in API_TOKENS),
// per IP address for traffic without a valid token; 429 with Retry-After. Load shedding: when
// the event loop lags or queries queue for pooled connections, requests are answered 503 with
// Retry-After at once instead of queueing without bound. Health checks are exempt from both.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type pg from 'pg'
import type { TokenRegistry } from '../domain/access.js'
import { callerOf } from './auth.js'
import { sendProblem } from './errors.js'

export interface LimitOptions {
  tokens: TokenRegistry
  perCallerPerMinute: number
  perIpPerMinute: number
  eventLoopDelayMs: number
  poolQueue: number
  pool: pg.Pool
}

const exempt = (request: FastifyRequest) => (request.routeOptions.url ?? '').startsWith('/health')

async function limitsPlugin (app: FastifyInstance, options: LimitOptions) {
  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    allowList: (request) => exempt(request),
    keyGenerator: (request) => {
      const caller = callerOf(request, options.tokens)
      return caller ? `caller:${caller.name}` : `ip:${request.ip}`
    },
    max: (_request, key) => key.startsWith('caller:') ? options.perCallerPerMinute : options.perIpPerMinute,
    // The error handler turns this into problem+json RATE_LIMITED; the plugin sets Retry-After.
    errorResponseBuilder: (_request, context) => Object.assign(new Error(`more than ${context.max} requests a minute; retry after ${context.after}`), { statusCode: 429 })
  })

  if (options.eventLoopDelayMs > 0) {
    // Its error (FST_UNDER_PRESSURE, with Retry-After) becomes problem+json OVERLOADED in the error
    // handler; health routes opt out with a pressureHandler of their own.
    await app.register(underPressure, { maxEventLoopDelay: options.eventLoopDelayMs, retryAfter: 2 })
  }

  if (options.poolQueue > 0) {
    app.addHook('onRequest', (request, reply, done) => {
      if (options.pool.waitingCount < options.poolQueue || exempt(request)) return done()
      sendProblem(request, reply, 503, 'OVERLOADED', 'Service unavailable',
        `${options.pool.waitingCount} queries are waiting for a database connection; retry shortly`, {}, { 'retry-after': '1' })
    })
  }
}

export default fp(limitsPlugin, { name: 'limits' })
