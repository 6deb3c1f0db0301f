// Abuse and overload limits. Rate limiting: per authenticated caller (the name in API_TOKENS),
// per IP address for traffic without a valid token; 429 with Retry-After (and X-RateLimit-*).
// Load shedding: when the event loop lags or queries queue for pooled connections, requests are
// answered 503 OVERLOADED with Retry-After at once instead of queueing without bound. Health
// checks are exempt from both.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import type { TokenRegistry } from '../domain/access.js'
import { callerOf } from './auth.js'
import { routeOf } from './request-context.js'
import { sendProblem } from './errors.js'

export interface LimitOptions {
  tokens: TokenRegistry
  perCallerPerMinute: number
  perIpPerMinute: number
  eventLoopDelayMs: number
  poolQueue: number
  pool: pg.Pool
}

async function limitsPlugin (app: FastifyInstance, options: LimitOptions) {
  // Fixed windows of a minute per key, each starting at the key's first request; the counters
  // live in this instance (a caller spread over n instances gets n times the limit). One hook
  // does the limit and the shedding, written out rather than through @fastify/rate-limit and
  // @fastify/under-pressure: their chain of hooks and awaits per request cost the cheapest routes
  // a tenth of their throughput, for a counter, three headers and two comparisons.
  const windows = new WindowCounter(60_000)
  const lag = options.eventLoopDelayMs > 0 ? watchEventLoop() : undefined
  if (lag) app.addHook('onClose', async () => lag.stop())
  app.addHook('onRequest', (request, reply, done) => {
    if (routeOf(request).startsWith('/health')) return done()
    const caller = callerOf(request, options.tokens)
    const max = caller ? options.perCallerPerMinute : options.perIpPerMinute
    const window = windows.hit(caller ? `caller:${caller.name}` : `ip:${request.ip}`)
    if (window.count > max) {
      // The error handler turns this into problem+json RATE_LIMITED. The limit's headers go with
      // the refusal only: on every answer they would cost the cheapest routes a few percent.
      const resetS = String(Math.max(1, Math.ceil((window.resetAt - Date.now()) / 1000)))
      reply.header('retry-after', resetS)
      reply.header('x-ratelimit-limit', String(max))
      reply.header('x-ratelimit-remaining', '0')
      reply.header('x-ratelimit-reset', resetS)
      return done(Object.assign(new Error(`more than ${max} requests a minute; retry after ${resetS} s`), { statusCode: 429 }))
    }
    if (lag && lag.delayMs > options.eventLoopDelayMs) {
      return sendProblem(request, reply, 503, 'OVERLOADED', 'Service unavailable',
        `the event loop runs ${Math.round(lag.delayMs)} ms late (LOAD_SHED_EVENT_LOOP_DELAY_MS ${options.eventLoopDelayMs}); retry shortly`, {}, { 'retry-after': '2' })
    }
    if (options.poolQueue > 0 && options.pool.waitingCount >= options.poolQueue) {
      return sendProblem(request, reply, 503, 'OVERLOADED', 'Service unavailable',
        `${options.pool.waitingCount} queries are waiting for a database connection; retry shortly`, {}, { 'retry-after': '1' })
    }
    done()
  })
}

/**
 * How late the event loop runs: the mean delay over the last second, less the sampling
 * resolution (as @fastify/under-pressure measured it). A loop blocked for longer than a second
 * shows when the sample after it is taken.
 */
function watchEventLoop (resolutionMs = 10, sampleMs = 1000) {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs })
  histogram.enable()
  const state = {
    delayMs: 0,
    stop: () => {
      clearInterval(timer)
      histogram.disable()
    }
  }
  const timer = setInterval(() => {
    const mean = histogram.mean / 1e6 - resolutionMs
    state.delayMs = Number.isNaN(mean) ? Infinity : Math.max(0, mean)
    histogram.reset()
  }, sampleMs)
  timer.unref()
  return state
}

export default fp(limitsPlugin, { name: 'limits' })

/**
 * Requests counted per key in fixed windows that start at the key's first request. At most
 * `maxKeys` windows are kept: when full, expired windows go first, then the oldest tenth (a
 * window that starts again moves to the back).
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number, resetAt: number }>()

  constructor (private readonly windowMs: number, private readonly maxKeys = 100_000, private readonly now: () => number = Date.now) {}

  /** Counts one request for `key`; its window as it is now. */
  hit (key: string): { readonly count: number, readonly resetAt: number } {
    const now = this.now()
    let window = this.windows.get(key)
    if (window === undefined || window.resetAt <= now) {
      if (window !== undefined) this.windows.delete(key)
      else if (this.windows.size >= this.maxKeys) this.makeRoom(now)
      window = { count: 0, resetAt: now + this.windowMs }
      this.windows.set(key, window)
    }
    window.count++
    return window
  }

  get size (): number {
    return this.windows.size
  }

  private makeRoom (now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key)
    if (this.windows.size < this.maxKeys) return
    let drop = Math.max(1, Math.floor(this.maxKeys / 10))
    for (const key of this.windows.keys()) {
      this.windows.delete(key)
      if (--drop === 0) break
    }
  }
}
