// What each kind of job does. Read-only work (sync, balances, reconciliation, sweep) retries up to
// its attempts with backoff and opens a task when they are spent; nothing here spends money.
import type { Logger } from 'pino'
import type { ModuleRepository } from '../db/module-repository.js'
import type { IdempotencyRepository } from '../db/idempotency-repository.js'
import type { OrderRepository } from '../db/order-repository.js'
import type { BalanceService } from '../domain/balance.js'
import type { CallScope, EnomGateway } from '../domain/enom-gateway.js'
import { moduleTarget } from '../domain/modules.js'
import { accountKey } from '../domain/orders/accounts.js'
import type { OrderService } from '../domain/orders/service.js'
import { FOLLOWED_STATUSES, isFinal } from '../domain/orders/status.js'
import type { SecretBox } from '../domain/secrets.js'
import type { TaskService } from '../domain/tasks.js'
import { Prisma } from '../generated/prisma/client.js'
import type { Events } from '../domain/events.js'
import { expiryThreshold } from '../domain/order-events.js'
import type { JobQueue, JobRow } from './queue.js'
import type { JobHandler, JobResult } from './runner.js'

export interface HandlerDeps {
  orders: OrderService
  orderRepo: OrderRepository
  moduleRepo: ModuleRepository
  balances: BalanceService
  gateway: EnomGateway
  secrets: SecretBox
  tasks: TaskService
  queue: JobQueue
  idempotency: IdempotencyRepository
  log: Logger
  syncIntervalMs: number
  reconcileDelayMs: number
  /** A money-spending call still within this time may yet answer; reconcile only after it. */
  stalledAfterMs: number
  idempotencyTtlHours: number
  events: Events
  webhookDelivery: JobHandler
  retentionDays: number
}

/** Sync backoff while nothing changes: the base interval times these factors (1 min … 6 h by default). */
const IDLE_FACTORS = [1, 2, 5, 10, 30, 60, 180, 360]
const DAY_MS = 24 * 3600_000

const later = (ms: number, extra: Omit<JobResult & { kind: 'reschedule' }, 'kind' | 'runAt'> = {}): JobResult => ({ kind: 'reschedule', runAt: new Date(Date.now() + ms), ...extra })

export function createHandlers (deps: HandlerDeps): Record<string, JobHandler> {
  // The job's signal aborts its eNom calls when the instance shuts down past its grace period.
  const scope = ({ log, signal }: { log: Logger, signal: AbortSignal }): CallScope => ({ log, signal })

  return {
    /** Follows an order until it is final; issued certificates are checked daily for reissue and refund. */
    async 'order.sync' (job: JobRow, ctx) {
      const orderId = String(job.payload.orderId)
      const order = await deps.orderRepo.findById(orderId)
      if (!order || !order.enomCertId || !FOLLOWED_STATUSES.includes(order.status)) return { kind: 'done' }
      const before = `${order.status}:${order.serialNumber ?? ''}`
      const { order: after } = await deps.orders.syncForJob(orderId, scope(ctx))
      if (isFinal(after.status) && after.status !== 'issued') return { kind: 'done' }
      if (after.status === 'issued') return later(DAY_MS, { resetAttempts: true, payload: { orderId, idle: 0 } })
      const changed = `${after.status}:${after.serialNumber ?? ''}` !== before
      const idle = changed ? 0 : Math.min(IDLE_FACTORS.length - 1, Number(job.payload.idle ?? 0) + 1)
      return later(deps.syncIntervalMs * (IDLE_FACTORS[idle] as number), { resetAttempts: true, payload: { orderId, idle } })
    },

    /** Settles an attempt whose outcome is unknown; never resends it. */
    async 'order.reconcile' (job: JobRow, ctx) {
      const { log } = ctx
      const attemptId = String(job.payload.attemptId)
      const checks = Number(job.payload.checks ?? 0)
      const outcome = await deps.orders.reconcile(attemptId, checks, scope(ctx), deps.stalledAfterMs)
      log.info({ attemptId, outcome, checks }, 'reconciliation')
      if (outcome === 'wait') return later(Math.max(deps.reconcileDelayMs, 1000), { payload: { attemptId, checks: checks + 1 } })
      // A purchase on the account is in flight: look again soon, without counting a check.
      if (outcome === 'busy') return later(1000, { resetAttempts: true, payload: { attemptId, checks } })
      return { kind: 'done' }
    },

    /** Reads every enabled module's balance (BILLmanager's twice-daily check); crossings open tasks. */
    async 'balance.check' (_job: JobRow, ctx) {
      const failures: string[] = []
      for (const module of await deps.moduleRepo.listActive()) {
        const view = await deps.balances.get(module, scope(ctx), { refresh: true }).catch((err: Error) => {
          failures.push(`${module.name}: ${err.message}`)
          return undefined
        })
        if (view?.stale) failures.push(`${module.name}: ${view.error?.detail ?? 'eNom failed'}`)
      }
      if (failures.length > 0) throw new Error(`balance check failed for ${failures.join('; ')}`)
      return { kind: 'done' }
    },

    /** Attempts left 'sending' by an instance that died mid-call: their outcome is unknown now. */
    async 'attempts.recover' (_job: JobRow, { log }) {
      const stalled = await deps.orderRepo.prisma.orderAttempt.findMany({
        where: { state: 'sending', startedAt: { lt: new Date(Date.now() - deps.stalledAfterMs) } }, take: 100
      })
      for (const attempt of stalled) {
        await deps.orderRepo.finishAttempt(attempt.id, { state: 'unknown', errorCode: 'INSTANCE_LOST', errorDetail: 'the instance sending this call stopped before its answer was recorded' })
        const order = await deps.orderRepo.findById(attempt.orderId)
        if (order && order.status === 'purchasing') {
          await deps.orderRepo.update(order.id, { status: 'outcome_unknown', errorCode: 'INSTANCE_LOST', errorDetail: 'the purchase was in flight when its instance stopped; it is being reconciled' })
        }
        await deps.queue.enqueue({ kind: 'order.reconcile', key: `reconcile:${attempt.id}`, payload: { attemptId: attempt.id, checks: 0 } })
        log.warn({ attemptId: attempt.id, command: attempt.command }, 'attempt of a lost instance handed to reconciliation')
      }
      // Orders that should be followed but have no sync job (e.g. a crash between commit and enqueue).
      for (const orderId of await deps.orderRepo.followedWithoutJob(100)) {
        await deps.queue.enqueue({ kind: 'order.sync', key: `sync:${orderId}`, payload: { orderId, idle: 0 } })
      }
      return { kind: 'done' }
    },

    /** Daily: each eNom account's certificates against the local orders. */
    async 'certs.sweep' (_job: JobRow, ctx) {
      const modules = await deps.moduleRepo.listActive()
      const seen = new Set<string>()
      for (const module of modules) {
        const key = accountKey(module.apiUrl, module.username)
        if (seen.has(key)) continue
        seen.add(key)
        const siblings = modules.filter((m) => accountKey(m.apiUrl, m.username) === key).map((m) => m.id)
        const known = await deps.orderRepo.knownCertIds(key, siblings, new Date(Date.now() - 2 * DAY_MS))
        const target = await moduleTarget(module, deps.secrets)
        const since = Date.now() - 45 * DAY_MS
        for (let page = 0; page < 40; page++) {
          const list = await deps.gateway.call(target, 'CertGetCerts', scope(ctx), (c, creds, ctx) =>
            c.certGetCerts(creds, { sortBy: 'CertID', sortDirection: 'Desc', pageSize: 250, startPosition: page * 250 + 1 }, ctx))
          for (const cert of list.certs) {
            if (known.has(cert.certId)) continue
            await deps.tasks.open({
              department: module.department,
              moduleId: module.id,
              kind: 'unrecorded_certificate',
              title: `eNom certificate ${cert.certId} has no order in this service`,
              message: `Certificate ${cert.certId} (${cert.prodDesc ?? 'product ' + String(cert.prodType)}, ${cert.domainName ?? 'no domain yet'}, ` +
                `${cert.statusText ?? 'status ' + String(cert.statusId)}, ordered ${cert.orderDate ?? '?'}) is on the eNom account of module ${module.name} ` +
                'but no order here refers to it: it was bought outside this service, or bought here and not recorded.',
              action: 'Check who bought it; if it belongs to a billing service, ask support to attach it; otherwise resolve this task.',
              dedupeKey: `unrecorded:${key}:${cert.certId}`
            })
          }
          const oldest = list.certs.at(-1)
          const oldestDate = oldest?.orderDate ? Date.parse(oldest.orderDate) : NaN
          if (list.certs.length < 250 || (Number.isFinite(oldestDate) && oldestDate < since)) break
        }
      }
      return { kind: 'done' }
    },

    'webhook.deliver': deps.webhookDelivery,

    /** order.expiring at 30, 15, 7 and 1 days before expiry: once per order and threshold. */
    async 'orders.expiry' () {
      const now = new Date()
      for (const order of await deps.orderRepo.expiringBefore(new Date(now.getTime() + 31 * DAY_MS))) {
        const threshold = order.expiresAt ? expiryThreshold(order.expiresAt, now) : undefined
        if (threshold === undefined) continue
        await deps.orderRepo.prisma.$transaction((tx) => deps.events.emit(tx, {
          type: 'order.expiring',
          orderId: order.id,
          moduleId: order.moduleId,
          data: { orderId: order.id, serviceId: order.serviceId, domain: order.domain, expiresAt: order.expiresAt?.toISOString() ?? null, daysBefore: threshold },
          dedupeKey: `expiring:${order.id}:${threshold}`
        }))
      }
      return { kind: 'done' }
    },

    /**
     * Data kept no longer than needed: the CSR and contact data of orders final for RETENTION_DAYS,
     * and their eNom call audit rows. The certificate, its serial and dates stay (they are public).
     */
    async 'retention.purge' (_job: JobRow, { log }) {
      const before = new Date(Date.now() - deps.retentionDays * DAY_MS)
      const prisma = deps.orderRepo.prisma
      const old = await prisma.certificateOrder.findMany({
        where: { status: { in: ['issued', 'refunded', 'closed', 'failed'] }, updatedAt: { lt: before }, OR: [{ csr: { not: null } }, { contacts: { not: Prisma.AnyNull } }] },
        select: { id: true },
        take: 5000
      })
      const ids = old.map((o) => o.id)
      const [orders, calls] = await prisma.$transaction([
        prisma.certificateOrder.updateMany({ where: { id: { in: ids } }, data: { csr: null, contacts: Prisma.DbNull } }),
        prisma.enomCall.deleteMany({ where: { OR: [{ orderId: { in: ids } }, { orderId: null, startedAt: { lt: before } }] } })
      ])
      log.info({ orders: orders.count, calls: calls.count, retentionDays: deps.retentionDays }, 'retention purge')
      return { kind: 'done' }
    },

    /** Idempotency keys older than their retention (at least 72 h), and finished jobs older than a week. */
    async 'maintenance.reap' (_job: JobRow, { log }) {
      const keys = await deps.idempotency.reap(new Date(Date.now() - deps.idempotencyTtlHours * 3600_000))
      const jobs = await deps.queue.purgeFinished(new Date(Date.now() - 7 * DAY_MS))
      log.info({ keys, jobs }, 'reaped')
      return { kind: 'done' }
    }
  }
}

/** When a job's attempts are spent: a task for the department that owns the order or module. */
/** Kinds whose failures need a person; maintenance runs again at its next slot anyway. */
const REPORTED = new Set(['order.sync', 'order.reconcile', 'balance.check', 'certs.sweep'])

export function exhaustedJobTask (deps: { tasks: TaskService, orderRepo: OrderRepository, moduleRepo: ModuleRepository }) {
  return async (job: JobRow, error: Error): Promise<void> => {
    if (!REPORTED.has(job.kind)) return
    const orderId = typeof job.payload.orderId === 'string' ? job.payload.orderId : undefined
    const order = orderId ? await deps.orderRepo.findById(orderId) : undefined
    const module = order ? await deps.moduleRepo.findById(order.moduleId) : (await deps.moduleRepo.listActive())[0]
    if (!module) return
    await deps.tasks.open({
      department: module.department,
      moduleId: module.id,
      orderId: order?.id ?? null,
      kind: 'job_failed',
      title: `${job.kind} failed ${job.attempts} times${order ? ` for order ${order.id}` : ''}`,
      message: `The background operation ${job.kind} (${job.key}) stopped after ${job.attempts} attempts.`,
      lastError: error.message,
      action: order ? `Fix the cause (see the last error), then POST /orders/${order.id}/sync to follow the order again.` : 'Fix the cause (see the last error); the operation runs again at its next scheduled time.',
      dedupeKey: `job-failed:${job.key}:${new Date().toISOString().slice(0, 10)}`
    })
  }
}
