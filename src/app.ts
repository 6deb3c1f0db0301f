// buildApp: the whole HTTP service as a Fastify instance, without listening. server.ts listens
// and starts the jobs; tests call buildApp and use inject() or listen on a port of their own.
import type { LookupFunction } from 'node:net'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import type { TokenRegistry } from './domain/access.js'
import { HealthProbe } from './domain/health.js'
import type { SecretBox } from './domain/secrets.js'
import type { EnomClient } from './enom/client.js'
import { createMetrics } from './metrics.js'
import { auditRoutes, auditTrail } from './plugins/audit.js'
import authPlugin from './plugins/auth.js'
import limitsPlugin from './plugins/limits.js'
import metricsPlugin, { metricsRoute } from './plugins/metrics.js'
import errorsPlugin, { frameworkError } from './plugins/errors.js'
import idempotencyPlugin from './plugins/idempotency.js'
import requestContextPlugin, { requestIdFor } from './plugins/request-context.js'
import swaggerPlugin from './plugins/swagger.js'
import csrRoutes from './routes/csr.js'
import enomRoutes from './routes/enom.js'
import healthRoutes from './routes/health.js'
import moduleRoutes from './routes/modules.js'
import orderRoutes from './routes/orders.js'
import taskRoutes, { TaskSchema } from './routes/tasks.js'
import webhookRoutes from './routes/webhooks.js'
import { BalanceSchema } from './schemas/enom.js'
import { ModuleSchema } from './schemas/modules.js'
import { OrderSchema } from './schemas/orders.js'
import { createServices, enomClientFor, type Services } from './services.js'
import { validatorCompiler } from './validation.js'

export { enomClientFor } from './services.js'

export interface AppDeps {
  config: Config
  db: Database
  secrets: SecretBox
  tokens: TokenRegistry
  logger: Logger
  /** The eNom client; built from the configuration when absent (tests inject one with a DNS resolver of their own). */
  enomClient?: EnomClient
  instanceId?: string
  /** DNS for webhook deliveries (tests). */
  webhookLookup?: LookupFunction
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

/** Largest request body any route takes; the biggest legitimate one (a CSR plus contacts) is far smaller. */
export const BODY_LIMIT_BYTES = 64 * 1024

export async function buildApp (deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request is written by plugins/request-context.ts instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdFor,
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    frameworkErrors: frameworkError
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  // A plugin that calls addSchema gets a schema controller of its own, and with it Fastify's default
  // (lenient, coercing) validator: every route is given ours explicitly so that none escapes it.
  app.addHook('onRoute', (route) => { route.validatorCompiler ??= validatorCompiler })
  // A JSON API: other media types are 415, not parsed into strings that then fail validation.
  app.removeContentTypeParser('text/plain')

  const enomClient = deps.enomClient ?? enomClientFor(config, deps.logger)
  const metrics = createMetrics({ prisma: db.prisma, pool: db.pool, poolMax: config.dbPoolMax })
  const services = createServices({
    config,
    db,
    secrets: deps.secrets,
    logger: deps.logger,
    enomClient,
    onEnomCall: (command, outcome, durationMs) => metrics.enomDuration.observe({ command, outcome }, durationMs / 1000),
    ...(deps.webhookLookup ? { webhookLookup: deps.webhookLookup } : {}),
    ...(deps.instanceId ? { instanceId: deps.instanceId } : {})
  })
  app.decorate('services', services)
  app.addHook('onClose', async () => {
    await services.stopJobs(config.shutdownGraceMs)
    if (!deps.enomClient) await enomClient.close()
  })

  await app.register(errorsPlugin)
  await app.register(requestContextPlugin)
  await app.register(metricsPlugin, { metrics })
  // Before any route (the documentation's too): limits apply to the routes registered after them.
  await app.register(limitsPlugin, {
    tokens: deps.tokens,
    perCallerPerMinute: config.rateLimitPerMinute,
    perIpPerMinute: config.rateLimitAnonPerMinute,
    eventLoopDelayMs: config.loadShedEventLoopDelayMs,
    poolQueue: config.loadShedPoolQueue,
    pool: db.pool
  })
  await app.register(authPlugin, { tokens: deps.tokens, ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}) })
  await app.register(swaggerPlugin, { version: config.version })
  await app.register(auditTrail, { prisma: db.prisma })
  await app.register(idempotencyPlugin, {
    repo: services.idempotency,
    // Longer than a request can live: balance read and snapshot, purchase, the reads after it.
    staleMs: config.enomTimeoutMs * 3 + config.enomPurchaseTimeoutMs + 60_000,
    orderSnapshot: async (orderId) => services.orders.view(await services.orders.get(orderId))
  })
  for (const schema of [ModuleSchema, BalanceSchema, OrderSchema, TaskSchema]) app.addSchema(schema)

  const probe = new HealthProbe(() => db.pool.query('SELECT 1'), config.healthDbTimeoutMs)
  await app.register(healthRoutes, { probe, version: config.version, startedAt: Date.now() })
  await app.register(moduleRoutes, { modules: services.modules })
  await app.register(enomRoutes, { modules: services.modules, checker: services.checker, balances: services.balances, products: services.products })
  await app.register(orderRoutes, { orders: services.orders })
  await app.register(csrRoutes)
  await app.register(taskRoutes, { tasks: services.tasks, purchases: services.purchases })
  await app.register(auditRoutes, { prisma: db.prisma })
  await app.register(webhookRoutes, { webhooks: services.webhooks })
  await app.register(metricsRoute, { metrics })
  return app
}
