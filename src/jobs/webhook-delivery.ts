// Delivering events to webhook subscriptions, at least once, in order per order. One job per
// subscription and partition (an order's events, or a single event) sends its pending deliveries
// oldest first; a failure stops the partition until the retry, so events of one order never
// overtake each other. 2xx is delivered; 410 Gone disables the subscription; anything else is
// retried with exponential backoff and jitter for WEBHOOK_RETRY_HOURS, then given up.
//
// Each request carries the event id (receivers deduplicate on it) and an HMAC-SHA256 signature
// over the timestamp and the body, Stripe-style: `t=<unix seconds>,v1=<hex>`.
import { createHmac } from 'node:crypto'
import { isIP, type LookupFunction } from 'node:net'
import type { Logger } from 'pino'
import { Agent, request } from 'undici'
import type { Prisma as PrismaClient } from '../db/database.js'
import { guardedLookup, isPublicUnicast } from '../enom/guard.js'
import type { AllowedOrigin } from '../config.js'
import { newId } from '../domain/ids.js'
import type { SecretBox } from '../domain/secrets.js'
import { webhookSecretAad } from '../domain/webhooks.js'
import type { JobRow } from './queue.js'
import type { JobHandler, JobResult } from './runner.js'

export const SIGNATURE_HEADER = 'x-enom-ssl-signature'
export const EVENT_ID_HEADER = 'x-enom-ssl-event-id'
export const EVENT_TYPE_HEADER = 'x-enom-ssl-event-type'

export function signPayload (secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** With the default base of 10 s: 10 s, 30 s, 1 min, 2 min, 5 min, then doubling up to 6 h; ±20% jitter. */
export function deliveryDelayMs (attempts: number, baseMs = 10_000): number {
  const factors = [1, 3, 6, 12, 30]
  const factor = factors[attempts - 1] ?? 30 * 2 ** (attempts - factors.length)
  return Math.round(Math.min(6 * 3600_000, baseMs * factor) * (0.8 + Math.random() * 0.4))
}

export interface DeliveryDeps {
  prisma: PrismaClient
  secrets: SecretBox
  allowedOrigins: readonly AllowedOrigin[]
  timeoutMs: number
  retryHours: number
  retryBaseMs: number
  log: Logger
  lookup?: LookupFunction
}

interface Outcome { statusCode?: number, error?: string, durationMs: number }

export function createWebhookDelivery (deps: DeliveryDeps): { handler: JobHandler, close: () => Promise<void> } {
  const agents = new Map<string, Agent>()
  const agentFor = (origin: AllowedOrigin) => {
    let agent = agents.get(origin.origin)
    if (!agent) {
      agent = new Agent({
        connect: { timeout: Math.min(5000, deps.timeoutMs), lookup: guardedLookup(deps.lookup, origin.allowPrivate) },
        headersTimeout: deps.timeoutMs,
        bodyTimeout: deps.timeoutMs,
        maxResponseSize: 64 * 1024
      })
      agents.set(origin.origin, agent)
    }
    return agent
  }

  async function send (url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
    const started = Date.now()
    const target = new URL(url)
    const origin = deps.allowedOrigins.find((o) => o.origin === target.origin)
    if (!origin) return { error: 'the URL\'s origin is no longer in WEBHOOK_ALLOWED_ORIGINS', durationMs: 0 }
    const host = target.hostname.replace(/^\[|\]$/g, '')
    if (isIP(host) && !origin.allowPrivate && !isPublicUnicast(host)) return { error: 'the address is not public', durationMs: 0 }
    try {
      const res = await request(url, { method: 'POST', headers, body, dispatcher: agentFor(origin), signal: AbortSignal.timeout(deps.timeoutMs) })
      await res.body.dump()
      return { statusCode: res.statusCode, durationMs: Date.now() - started }
    } catch (err) {
      const e = err as { code?: string, message?: string }
      return { error: `${e.code ?? 'ERROR'}: ${(e.message ?? '').slice(0, 300)}`, durationMs: Date.now() - started }
    }
  }

  const handler: JobHandler = async (job: JobRow): Promise<JobResult> => {
    const subscriptionId = String(job.payload.subscriptionId)
    const partition = String(job.payload.partition)
    const sub = await deps.prisma.webhookSubscription.findUnique({ where: { id: subscriptionId } })
    if (!sub || !sub.enabled || sub.deletedAt) {
      await deps.prisma.webhookDelivery.updateMany({ where: { subscriptionId, partition, status: 'pending' }, data: { status: 'failed', lastError: 'subscription disabled' } })
      return { kind: 'done' }
    }
    const secret = deps.secrets.decrypt(sub.secretEnc, webhookSecretAad(sub.id))
    for (let sent = 0; sent < 50; sent++) {
      const next = await deps.prisma.webhookDelivery.findFirst({ where: { subscriptionId, partition, status: 'pending' }, orderBy: { seq: 'asc' }, include: { event: true } })
      if (!next) return { kind: 'done' }
      if (next.nextAttemptAt.getTime() > Date.now()) return { kind: 'reschedule', runAt: next.nextAttemptAt, resetAttempts: true }
      if (next.attempts > 0 && Date.now() - next.createdAt.getTime() > deps.retryHours * 3600_000) {
        await deps.prisma.webhookDelivery.update({ where: { id: next.id }, data: { status: 'failed', lastError: `gave up after ${deps.retryHours} h: ${next.lastError ?? ''}`.slice(0, 1000) } })
        continue
      }
      const body = JSON.stringify({ id: next.event.id, type: next.event.type, createdAt: next.event.createdAt.toISOString(), data: next.event.data })
      const timestamp = Math.floor(Date.now() / 1000)
      const outcome = await send(sub.url, {
        'content-type': 'application/json',
        'user-agent': 'enom-ssl-service-webhooks',
        [EVENT_ID_HEADER]: next.event.id,
        [EVENT_TYPE_HEADER]: next.event.type,
        [SIGNATURE_HEADER]: signPayload(secret, timestamp, body),
        ...(next.event.requestId ? { 'x-request-id': next.event.requestId } : {})
      }, body)
      const attempts = next.attempts + 1
      const number = await deps.prisma.webhookAttempt.count({ where: { deliveryId: next.id } }) + 1
      const delivered = outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300
      const error = outcome.error ?? (delivered ? null : `HTTP ${outcome.statusCode ?? '?'}`)
      const retryAt = new Date(Date.now() + deliveryDelayMs(attempts, deps.retryBaseMs))
      await deps.prisma.$transaction(async (tx) => {
        await tx.webhookAttempt.create({ data: { id: newId(), deliveryId: next.id, number, at: new Date(), statusCode: outcome.statusCode ?? null, error, durationMs: outcome.durationMs } })
        await tx.webhookDelivery.update({
          where: { id: next.id },
          data: delivered
            ? { status: 'delivered', attempts, deliveredAt: new Date(), lastStatusCode: outcome.statusCode ?? null, lastError: null }
            : { attempts, nextAttemptAt: retryAt, lastStatusCode: outcome.statusCode ?? null, lastError: error }
        })
        if (outcome.statusCode === 410) {
          // The receiver says this endpoint is gone for good.
          await tx.webhookSubscription.update({ where: { id: sub.id }, data: { enabled: false, disabledReason: `the receiver answered 410 Gone on ${new Date().toISOString()}` } })
          await tx.webhookDelivery.updateMany({ where: { subscriptionId: sub.id, status: 'pending' }, data: { status: 'failed', lastError: 'subscription disabled: 410 Gone' } })
        }
      })
      if (outcome.statusCode === 410) return { kind: 'done' }
      if (!delivered) {
        deps.log.info({ subscriptionId, eventId: next.event.id, attempts, error }, 'webhook delivery failed; will retry')
        return { kind: 'reschedule', runAt: retryAt, resetAttempts: true }
      }
    }
    return { kind: 'reschedule', runAt: new Date(), resetAttempts: true }
  }

  return {
    handler,
    async close () {
      // A delivery cut short by shutdown is simply tried again later; its socket may go now.
      await Promise.allSettled([...agents.values()].map((a) => a.destroy()))
      agents.clear()
    }
  }
}
