// The service's parts, wired once: repositories, the eNom gateway, the domain services, and the
// job runner with its scheduler. buildApp puts HTTP in front of them; server.ts starts the jobs.
import type { LookupFunction } from 'node:net'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import { createEnomCallRepository } from './db/enom-call-repository.js'
import { createIdempotencyRepository } from './db/idempotency-repository.js'
import { createModuleRepository, type ModuleRow } from './db/module-repository.js'
import { createOrderRepository } from './db/order-repository.js'
import { createTaskRepository } from './db/task-repository.js'
import { EnomClient, type EnomClientOptions } from './enom/client.js'
import { createBalanceService } from './domain/balance.js'
import { createConnectionChecker } from './domain/connection-check.js'
import { createEnomGateway } from './domain/enom-gateway.js'
import { newId } from './domain/ids.js'
import { createEvents } from './domain/events.js'
import { createLowBalanceWatch } from './domain/low-balance.js'
import { orderEvents } from './domain/order-events.js'
import { createWebhookService } from './domain/webhooks.js'
import { createWebhookDelivery } from './jobs/webhook-delivery.js'
import { createModuleService, moduleTarget } from './domain/modules.js'
import { createOrderService } from './domain/orders/service.js'
import { createProductService } from './domain/products.js'
import { createPurchaseSwitch } from './domain/purchases.js'
import type { SecretBox } from './domain/secrets.js'
import { createTaskService } from './domain/tasks.js'
import { createHandlers, exhaustedJobTask } from './jobs/handlers.js'
import { createJobQueue } from './jobs/queue.js'
import { JobRunner } from './jobs/runner.js'
import { Scheduler } from './jobs/scheduler.js'

export function enomClientFor (config: Config, logger: Logger, extra: Partial<EnomClientOptions> = {}): EnomClient {
  return new EnomClient({
    allowedOrigins: config.enomAllowedOrigins.map((o) => ({ origin: o.origin, allowPrivate: o.allowPrivate })),
    timeoutMs: config.enomTimeoutMs,
    purchaseTimeoutMs: config.enomPurchaseTimeoutMs,
    log: logger,
    ...extra
  })
}

export interface ServiceDeps {
  config: Config
  db: Database
  secrets: SecretBox
  logger: Logger
  enomClient: EnomClient
  /** Names this instance in job and lease rows. */
  instanceId?: string
  /** DNS for webhook deliveries (tests). */
  webhookLookup?: LookupFunction
  /** Told of every eNom call (metrics). */
  onEnomCall?: (command: string, outcome: string, durationMs: number) => void
}

export function createServices (deps: ServiceDeps) {
  const { config, db, logger } = deps
  const prisma = db.prisma
  const instanceId = deps.instanceId ?? `${hostname()}:${process.pid}:${newId().slice(-6)}`
  const moduleRepo = createModuleRepository(prisma, deps.db.pool)
  const queue = createJobQueue(prisma, deps.db.pool)
  const events = createEvents()
  const orderRepo = createOrderRepository(prisma, deps.db.pool, { onStatusChange: orderEvents(events) })
  const idempotency = createIdempotencyRepository(prisma, deps.db.pool)
  const calls = createEnomCallRepository(deps.db.pool, {
    onError: (err, rows) => logger.warn({ err: { message: err.message }, rows }, 'could not record eNom calls')
  })
  const gateway = createEnomGateway({ client: deps.enomClient, calls, log: logger, ...(deps.onEnomCall ? { onCall: deps.onEnomCall } : {}) })
  const tasks = createTaskService({ repo: createTaskRepository(prisma), prisma, events })
  const checker = createConnectionChecker({ gateway, allowedOrigins: config.enomAllowedOrigins })
  const target = (row: ModuleRow) => moduleTarget(row, deps.secrets)
  const balances = createBalanceService({
    gateway,
    ttlSeconds: config.balanceTtlSeconds,
    target,
    persist: createLowBalanceWatch({ prisma, moduleRepo, tasks, events }),
    onPersistError: (err, moduleId) => logger.warn({ err: { message: err.message }, moduleId }, 'could not keep a balance reading')
  })
  const products = createProductService({ gateway, ttlSeconds: config.productsTtlSeconds, target })
  const modules = createModuleService({
    repo: moduleRepo,
    secrets: deps.secrets,
    allowedOrigins: config.enomAllowedOrigins,
    signupUrl: config.enomSignupUrl,
    openOrderIds: (id) => orderRepo.openOrderIdsOfModule(id),
    hasOrders: (id) => orderRepo.moduleHasOrders(id),
    checker,
    prisma,
    events,
    onChanged: (id, credentials) => {
      balances.forget(id)
      if (credentials) products.forget(id)
    }
  })
  const purchases = createPurchaseSwitch(prisma, deps.db.pool)
  // A purchase call ends within its timeout; past it (and a margin for the writes after it), a
  // call still 'sending' belongs to a lost instance.
  const stalledAfterMs = config.enomPurchaseTimeoutMs + Math.min(60_000, config.enomPurchaseTimeoutMs)
  // The order service pokes the runner, which runs the order service's jobs: created in that order.
  const runnerRef: { current?: JobRunner } = {}
  const orders = createOrderService({
    prisma,
    pool: deps.db.pool,
    orders: orderRepo,
    moduleRepo,
    secrets: deps.secrets,
    gateway,
    products,
    balances,
    tasks,
    jobs: queue,
    purchases,
    events,
    settings: {
      dailyCountLimit: config.spendLimitDailyCount,
      dailyAmountLimit: config.spendLimitDailyAmount,
      reconcileDelayMs: config.reconcileDelaySeconds * 1000,
      syncIntervalMs: config.syncIntervalSeconds * 1000,
      stalledAfterMs
    },
    log: logger,
    wakeJobs: () => runnerRef.current?.wake(),
    snapshots: new Map()
  })
  const webhooks = createWebhookService({ prisma, secrets: deps.secrets, queue, allowedOrigins: config.webhookAllowedOrigins, wake: () => runnerRef.current?.wake() })
  const delivery = createWebhookDelivery({
    prisma,
    secrets: deps.secrets,
    allowedOrigins: config.webhookAllowedOrigins,
    timeoutMs: config.webhookTimeoutMs,
    retryHours: config.webhookRetryHours,
    retryBaseMs: config.webhookRetryBaseMs,
    log: logger.child({ component: 'webhooks' }),
    ...(deps.webhookLookup ? { lookup: deps.webhookLookup } : {})
  })
  const handlers = createHandlers({
    orders,
    orderRepo,
    moduleRepo,
    balances,
    gateway,
    secrets: deps.secrets,
    tasks,
    queue,
    idempotency,
    log: logger,
    syncIntervalMs: config.syncIntervalSeconds * 1000,
    reconcileDelayMs: config.reconcileDelaySeconds * 1000,
    stalledAfterMs,
    idempotencyTtlHours: config.idempotencyTtlHours,
    events,
    webhookDelivery: delivery.handler,
    retentionDays: config.retentionDays
  })
  const runner = new JobRunner({
    queue,
    handlers,
    worker: instanceId,
    concurrency: config.jobConcurrency,
    pollMs: config.jobPollMs,
    leaseMs: config.jobLeaseSeconds * 1000,
    log: logger.child({ component: 'jobs' }),
    onExhausted: exhaustedJobTask({ tasks, orderRepo, moduleRepo })
  })
  runnerRef.current = runner
  const scheduler = new Scheduler({ queue, log: logger, balanceCheckTimes: config.balanceCheckTimes, certsSweepTime: config.certsSweepTime, tickMs: config.schedulerTickMs })
  const jobRunner = runner

  return {
    instanceId,
    gateway,
    checker,
    modules,
    balances,
    products,
    tasks,
    purchases,
    orders,
    orderRepo,
    idempotency,
    queue,
    events,
    webhooks,
    runner: jobRunner,
    scheduler,
    calls,
    /** Starts the job runner and the scheduler (server.ts; tests that exercise jobs). */
    startJobs () {
      jobRunner.start()
      scheduler.start()
    },
    /** Stops the jobs and writes what is still buffered; the pool may close after it. */
    async stopJobs (graceMs: number) {
      scheduler.stop()
      await jobRunner.stop(graceMs)
      await delivery.close()
      await balances.settle()
      await calls.close()
    }
  }
}

export type Services = ReturnType<typeof createServices>
