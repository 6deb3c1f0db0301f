// Scenario 6: 60 s of mixed load (reads of health, modules, balances, catalogues and orders, and
// order placement) on a service started with --expose-gc and the bench's GC probe
// (bench/lib/gc-probe.mjs). Every 10 s the probe forces a full GC and records the heap; the heap
// after GC at 60 s must be less than 10% above the one at 30 s. RSS (from /proc, every second)
// must stay under 250 MB.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Request } from 'autocannon'
import type { BenchContext, Scenario } from '../lib/context.js'
import { createModule, orderBody, serviceEnv, serviceNodeArgs, warmCatalogues } from '../lib/context.js'
import { runAutocannon, summarize } from '../lib/load.js'
import { simAccounts, startService, startSimulator } from '../lib/stack.js'
import { ensureDir, log, ROOT, round, rssOf, sleep, TMP_DIR } from '../lib/util.js'

const HEAP_GROWTH_LIMIT = 0.10
const RSS_LIMIT_MB = 250
const MODULES = 10
const CONNECTIONS = 10

interface GcSample { at: number, gcMs: number, rss: number, heapTotal: number, heapUsed: number, external: number, arrayBuffers: number }

const mb = (bytes: number) => round(bytes / 1024 / 1024, 1)

export const memoryScenario: Scenario = {
  id: '6-memory',
  title: 'Memory over 60 s of mixed load',
  async run (ctx: BenchContext) {
    const durationS = ctx.quick ? 20 : 60
    const databaseUrl = await ctx.dbs.create('memory')
    const accounts = simAccounts('mem', MODULES)
    const sim = await startSimulator('6-memory-simulator', accounts)
    const probeFile = join(ensureDir(TMP_DIR), `gc-probe-${ctx.runId}.jsonl`)
    rmSync(probeFile, { force: true })
    const probe = `${pathToFileURL(join(ROOT, 'bench', 'lib', 'gc-probe.mjs')).href}?out=${encodeURIComponent(probeFile)}`
    const service = await startService({
      name: '6-memory-service',
      databaseUrl,
      secrets: ctx.secrets,
      env: serviceEnv([sim]),
      nodeArgs: serviceNodeArgs(ctx, '6-memory', ['--expose-gc', '--import', probe])
    })
    try {
      const moduleIds: string[] = []
      for (const [i, account] of accounts.entries()) moduleIds.push(await createModule(service, ctx, sim, account, `bench-mem-${i + 1}`))
      await warmCatalogues(service, ctx, moduleIds)

      const ops = { authorization: `Bearer ${ctx.secrets.tokens.ops}` }
      const billing = { authorization: `Bearer ${ctx.secrets.tokens.billing}` }
      let m = 0
      let serial = 0
      const nextModule = () => moduleIds[m++ % MODULES]!
      const get = (path: () => string, headers: Record<string, string>): Request => ({ method: 'GET', setupRequest: (req) => ({ ...req, path: path(), headers }) })
      const requests: Request[] = [
        get(() => '/health', {}),
        get(() => `/modules/${nextModule()}`, ops),
        get(() => `/modules/${nextModule()}/balance`, ops),
        get(() => '/modules?limit=50', ops),
        {
          method: 'POST',
          path: '/orders',
          setupRequest: (req) => {
            const n = ++serial
            return { ...req, headers: { ...billing, 'content-type': 'application/json', 'idempotency-key': `"${ctx.runId}-mem-${n}"` }, body: JSON.stringify(orderBody(`${ctx.runId}-mem-${n}`, nextModule())) }
          }
        },
        get(() => '/orders?limit=20', ops),
        get(() => '/balance', ops),
        get(() => `/modules/${nextModule()}/products`, billing)
      ]

      await runAutocannon({ url: service.url, connections: CONNECTIONS, duration: 5, requests })
      const pid = service.proc.pid
      const rss: number[] = []
      const gcTimes = [0, 10, 20, 30, 40, 50, durationS - 0.5].filter((t) => t < durationS)
      const started = performance.now()
      const load = runAutocannon({ url: service.url, connections: CONNECTIONS, duration: durationS, requests })
      const state = { done: false }
      load.finally(() => { state.done = true }).catch(() => undefined)
      const sampler = (async () => {
        while (!state.done) {
          const value = await rssOf(pid)
          if (value !== undefined) rss.push(value)
          await sleep(1000)
        }
      })()
      const signals = (async () => {
        for (const t of gcTimes) {
          const wait = t * 1000 - (performance.now() - started)
          if (wait > 0) await sleep(wait)
          process.kill(pid, 'SIGUSR2')
        }
      })()
      const result = await load
      await Promise.all([sampler, signals])
      await sleep(500)
      const samples: GcSample[] = existsSync(probeFile) ? readFileSync(probeFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as GcSample) : []
      if (samples.length < gcTimes.length) throw new Error(`the GC probe answered ${samples.length} of ${gcTimes.length} signals`)
      const run = summarize(result)
      const heapAt = (t: number) => samples[gcTimes.indexOf(t)]!.heapUsed
      const firstHalf = heapAt(durationS / 2)
      const secondHalf = samples[samples.length - 1]!.heapUsed
      const growth = round((secondHalf - firstHalf) / firstHalf, 4)
      const maxRss = Math.max(...rss)
      log(`  heap after GC: ${samples.map((s) => mb(s.heapUsed)).join(', ')} MB; growth ${round(growth * 100, 1)}%; max RSS ${mb(maxRss)} MB; ${run.reqPerSec} req/s, non-2xx ${run.non2xx}`)
      return {
        checks: [{
          scenario: `6 heap after GC, ${durationS / 2} s vs ${durationS} s of mixed load`,
          figure: `${mb(secondHalf)} MB`,
          baseline: `${mb(firstHalf)} MB at ${durationS / 2} s`,
          ratioOrBound: `${growth >= 0 ? '+' : ''}${round(growth * 100, 1)}%`,
          target: `< +${HEAP_GROWTH_LIMIT * 100}%`,
          pass: growth < HEAP_GROWTH_LIMIT
        }, {
          scenario: '6 RSS during mixed load (max)',
          figure: `${mb(maxRss)} MB`,
          baseline: '—',
          ratioOrBound: `${mb(maxRss)} MB`,
          target: `< ${RSS_LIMIT_MB} MB`,
          pass: maxRss < RSS_LIMIT_MB * 1024 * 1024
        }],
        details: {
          durationS,
          gcSamples: samples.map((s, i) => ({ atS: gcTimes[i], heapUsedMb: mb(s.heapUsed), heapTotalMb: mb(s.heapTotal), rssMb: mb(s.rss), externalMb: mb(s.external), gcMs: round(s.gcMs, 1) })),
          rssMb: { max: mb(maxRss), samples: rss.map(mb) },
          heapGrowth: growth,
          load: { connections: CONNECTIONS, mix: ['GET /health', 'GET /modules/:id', 'GET /modules/:id/balance', 'GET /modules?limit=50', 'POST /orders', 'GET /orders?limit=20', 'GET /balance', 'GET /modules/:id/products'], run, ordersPlaced: serial }
        },
        config: { service: service.config, simulator: { accounts: MODULES }, probe: 'bench/lib/gc-probe.mjs (SIGUSR2: gc(), process.memoryUsage())' }
      }
    } finally {
      await service.stop()
      await sim.stop()
    }
  }
}
