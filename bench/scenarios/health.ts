// Scenario 1: GET /health of the service vs a bare Fastify route with the same logger
// configuration (bench/baselines/health.ts). Target: ratio ≥ 0.70.
import type { BenchContext, Scenario } from '../lib/context.js'
import { serviceEnv, serviceNodeArgs } from '../lib/context.js'
import { compare } from '../lib/load.js'
import { startBaseline, startService } from '../lib/stack.js'

const TARGET = 0.70

export const healthScenario: Scenario = {
  id: '1-health',
  title: 'GET /health vs a bare Fastify route',
  async run (ctx: BenchContext) {
    const databaseUrl = await ctx.dbs.create('health')
    const service = await startService({ name: '1-health-service', databaseUrl, secrets: ctx.secrets, env: serviceEnv([]), nodeArgs: serviceNodeArgs(ctx, '1-health') })
    const baseline = await startBaseline('1-health-baseline', 'health.ts', {}, { path: '/health', status: 200 })
    try {
      const result = await compare(
        { label: 'bare Fastify route, same logger', pid: baseline.proc.pid, load: { url: `${baseline.url}/health` } },
        { label: 'service GET /health', pid: service.proc.pid, load: { url: `${service.url}/health` } },
        ctx.compare,
        ctx.dbs.backendPids
      )
      const pass = result.ratio >= TARGET && result.failedRuns === 0
      return {
        checks: [{
          scenario: '1 GET /health',
          figure: `${Math.round(result.service.medianReqPerSec)} req/s`,
          baseline: `${Math.round(result.baseline.medianReqPerSec)} req/s`,
          ratioOrBound: result.ratio.toFixed(2),
          target: `≥ ${TARGET.toFixed(2)}`,
          pass
        }],
        details: { comparison: result },
        config: { service: service.config, baseline: { script: 'bench/baselines/health.ts', LOG_LEVEL: 'info', stdout: 'log file' } }
      }
    } finally {
      await baseline.stop()
      await service.stop()
    }
  }
}
