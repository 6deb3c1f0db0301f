// "The same Fastify stack" of scenarios 2 and 3, without the service's data layer: the service's
// logger configuration (src/logger.ts at LOG_LEVEL info to stdout, its log controller and request
// ids, the one info line per request of plugins/request-context.ts), its authentication
// (plugins/auth.ts with a TokenRegistry built from API_TOKENS: SHA-256 digests, constant-time
// comparison, the role check), its request validation (TypeBox compiler) and its response
// serialisation (the Module and Balance schemas the service registers, by $ref), and its
// problem+json error handler. What it leaves out is listed in docs/BENCHMARKS.md.
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Logger } from 'pino'
import { TokenRegistry } from '../../src/domain/access.js'
import { createLogger } from '../../src/logger.js'
import authPlugin from '../../src/plugins/auth.js'
import errorsPlugin from '../../src/plugins/errors.js'
import requestContextPlugin, { requestIdFor } from '../../src/plugins/request-context.js'
import { BalanceSchema } from '../../src/schemas/enom.js'
import { ModuleSchema } from '../../src/schemas/modules.js'
import { validatorCompiler } from '../../src/validation.js'
import { baselineLevel, required } from './common.js'

export async function buildStack () {
  const logger: Logger = createLogger(baselineLevel())
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdFor,
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  await app.register(errorsPlugin)
  await app.register(requestContextPlugin)
  await app.register(authPlugin, { tokens: TokenRegistry.parse(required('API_TOKENS')) })
  for (const schema of [ModuleSchema, BalanceSchema]) app.addSchema(schema)
  return { app, logger }
}
