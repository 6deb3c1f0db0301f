// Baseline of scenario 1: a bare Fastify route with the service's logger configuration — the
// same pino logger (src/logger.ts, LOG_LEVEL info, stdout), the same log controller (one line
// per request written by the app, Fastify's own request lines off) and the same request ids —
// and nothing else: no plugins, no database, no response schema. It answers what the service's
// GET /health answers. Run: node --import tsx bench/baselines/health.ts (PORT, HOST, LOG_LEVEL).
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { createLogger } from '../../src/logger.js'
import { requestIdFor } from '../../src/plugins/request-context.js'
import { baselineLevel, listen } from './common.js'

const logger = createLogger(baselineLevel())
const app = Fastify({
  loggerInstance: logger as FastifyBaseLogger,
  logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
  genReqId: requestIdFor
})
const startedAt = Date.now()

app.get('/health', async (_request, reply) => {
  reply.header('cache-control', 'no-store')
  return { status: 'ok', db: 'up', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), version: '0.1.0' }
})

await listen(app, logger)
