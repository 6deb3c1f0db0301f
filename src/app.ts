// buildApp: the whole HTTP service as a Fastify instance, without listening. server.ts listens;
// tests call buildApp and use inject() or listen on a port of their own.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import { createModuleRepository } from './db/module-repository.js'
import type { TokenRegistry } from './domain/access.js'
import { HealthProbe } from './domain/health.js'
import { createModuleService } from './domain/modules.js'
import type { SecretBox } from './domain/secrets.js'
import authPlugin from './plugins/auth.js'
import errorsPlugin from './plugins/errors.js'
import requestContextPlugin, { requestIdFor } from './plugins/request-context.js'
import swaggerPlugin from './plugins/swagger.js'
import healthRoutes from './routes/health.js'
import moduleRoutes from './routes/modules.js'
import { ModuleSchema } from './schemas/modules.js'
import { validatorCompiler } from './validation.js'

export interface AppDeps {
  config: Config
  db: Database
  secrets: SecretBox
  tokens: TokenRegistry
  logger: Logger
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
    forceCloseConnections: 'idle'
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  // A JSON API: other media types are 415, not parsed into strings that then fail validation.
  app.removeContentTypeParser('text/plain')

  await app.register(errorsPlugin)
  await app.register(requestContextPlugin)
  await app.register(swaggerPlugin, { version: config.version })
  await app.register(authPlugin, { tokens: deps.tokens })
  app.addSchema(ModuleSchema)

  const modules = createModuleService({
    repo: createModuleRepository(db.prisma),
    secrets: deps.secrets,
    allowedOrigins: config.enomAllowedOrigins,
    signupUrl: config.enomSignupUrl,
    // Orders arrive with the orders feature; until then no module has an open order.
    openOrderIds: async () => []
  })
  const probe = new HealthProbe(() => db.pool.query('SELECT 1'), config.healthDbTimeoutMs)

  await app.register(healthRoutes, { probe, version: config.version, startedAt: Date.now() })
  await app.register(moduleRoutes, { modules })
  return app
}
