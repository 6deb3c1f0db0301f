// Scenario 2: GET /modules/:id of the service vs the same Fastify stack (logger, auth, validation,
// serialisation) whose handler runs the same SELECT with raw pg (bench/baselines/module-pg.ts), on
// the same database and row. Target: ratio ≥ 0.60 — the cost of the service's data layer.
import type { BenchContext, Scenario } from '../lib/context.js'
import { createModule, serviceEnv, serviceNodeArgs } from '../lib/context.js'
import { expectStatus } from '../lib/http.js'
import { compare } from '../lib/load.js'
import { simAccounts, startBaseline, startService, startSimulator } from '../lib/stack.js'
import { sleep } from '../lib/util.js'

const TARGET = 0.60

export const moduleReadScenario: Scenario = {
  id: '2-module-read',
  title: 'GET /modules/:id vs the same stack with raw pg',
  async run (ctx: BenchContext) {
    const databaseUrl = await ctx.dbs.create('module_read')
    const accounts = simAccounts('read', 1)
    const sim = await startSimulator('2-module-read-simulator', accounts)
    const service = await startService({ name: '2-module-read-service', databaseUrl, secrets: ctx.secrets, env: serviceEnv([sim]), nodeArgs: serviceNodeArgs(ctx, '2-module-read') })
    const baselineEnv = { DATABASE_URL: databaseUrl, API_TOKENS: ctx.secrets.API_TOKENS, DB_POOL_MAX: '10' }
    const baseline = await startBaseline('2-module-read-baseline', 'module-pg.ts', baselineEnv, { path: '/modules/00000000-0000-0000-0000-000000000000', status: 401 })
    try {
      // A module as the wizard leaves it: checked against eNom, so its last check and balance are filled.
      const id = await createModule(service, ctx, sim, accounts[0]!, 'bench-read')
      const path = `/modules/${id}`
      const headers = { authorization: `Bearer ${ctx.secrets.tokens.ops}` }
      // Both answer the same document (the service's background work may update the row between
      // two reads — a balance reading, say — so the pair is read again until both agree).
      let same = false
      let answers: string[] = []
      for (let attempt = 0; attempt < 10 && !same; attempt++) {
        if (attempt > 0) await sleep(300)
        answers = [
          JSON.stringify(await expectStatus(200, service.url, 'GET', path, { token: ctx.secrets.tokens.ops })),
          JSON.stringify(await expectStatus(200, baseline.url, 'GET', path, { token: ctx.secrets.tokens.ops }))
        ]
        same = answers[0] === answers[1]
      }
      if (!same) throw new Error(`the baseline's answer differs from the service's:\n${answers.join('\n')}`)
      const result = await compare(
        { label: 'same stack, raw pg SELECT', pid: baseline.proc.pid, load: { url: `${baseline.url}${path}`, headers } },
        { label: 'service GET /modules/:id', pid: service.proc.pid, load: { url: `${service.url}${path}`, headers } },
        ctx.compare,
        ctx.dbs.backendPids
      )
      const pass = result.ratio >= TARGET && result.failedRuns === 0
      return {
        checks: [{
          scenario: '2 GET /modules/:id',
          figure: `${Math.round(result.service.medianReqPerSec)} req/s`,
          baseline: `${Math.round(result.baseline.medianReqPerSec)} req/s`,
          ratioOrBound: result.ratio.toFixed(2),
          target: `≥ ${TARGET.toFixed(2)}`,
          pass
        }],
        details: { comparison: result, identicalAnswers: same },
        config: {
          service: service.config,
          baseline: { script: 'bench/baselines/module-pg.ts', LOG_LEVEL: 'info', DB_POOL_MAX: '10', stdout: 'log file' },
          simulator: { accounts: 1 }
        }
      }
    } finally {
      await baseline.stop()
      await service.stop()
      await sim.stop()
    }
  }
}
