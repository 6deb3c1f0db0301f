// Scenario 7: start-up to ready with an existing embedded database. The service is started once in
// local mode (no DATABASE_URL, a DATA_DIR of the bench's) to create its embedded PostgreSQL 17,
// stopped, then timed from spawn to the first 200 on /health over several starts; median < 2 s.
import { existsSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext, Scenario } from '../lib/context.js'
import { waitForHttp } from '../lib/proc.js'
import { startService } from '../lib/stack.js'
import { ensureDir, log, median, round, TMP_DIR, waitForQuiet } from '../lib/util.js'

const TARGET_MS = 2000

/** Where a start's time went, from the service's own log lines (ISO times) against the spawn time. */
function phases (logFile: string, spawnAt: number, healthyAt: number) {
  const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l) as { time?: string, msg?: string }
    } catch {
      return {}
    }
  })
  const at = (test: (msg: string) => boolean) => {
    const line = lines.find((l) => l.time && l.msg && test(l.msg))
    return line?.time ? Date.parse(line.time) : undefined
  }
  const first = at(() => true)
  const pgReady = at((m) => m === 'embedded PostgreSQL is ready')
  const ready = at((m) => m === 'enom-ssl-service is ready')
  if (first === undefined || pgReady === undefined || ready === undefined) return undefined
  return {
    nodeAndImportsMs: first - spawnAt,
    embeddedPostgresMs: pgReady - first,
    migrationsAndAppMs: ready - pgReady,
    firstHealthMs: healthyAt - ready
  }
}

export const startupScenario: Scenario = {
  id: '7-startup',
  title: 'Start-up to ready with an existing embedded database',
  async run (ctx: BenchContext) {
    const runs = ctx.quick ? 3 : 5
    // Not created here: the service makes DATA_DIR itself (mode 0700), as `npm start` does.
    const dataDir = join(ensureDir(TMP_DIR), `startup-data-${ctx.runId}`)
    const env = { DATA_DIR: dataDir }
    let config: Record<string, string> = {}
    try {
      log('  first start: creating the embedded database')
      const t0 = performance.now()
      const first = await startService({ name: '7-startup-create', secrets: ctx.secrets, env })
      const createMs = performance.now() - t0
      config = first.config
      const code = await first.stop()
      if (code !== 0) throw new Error(`the service exited with ${code} after SIGTERM:\n${first.proc.tail()}`)

      const times: number[] = []
      const breakdown: Array<ReturnType<typeof phases>> = []
      const exitCodes: Array<number | null> = []
      for (let i = 0; i < runs; i++) {
        await waitForQuiet()
        const started = performance.now()
        const spawnAt = Date.now()
        const service = await startService({ name: `7-startup-${i + 1}`, secrets: ctx.secrets, env, wait: false })
        await waitForHttp(service.proc, `${service.url}/health`, { timeoutMs: 60_000, everyMs: 10 })
        const ms = performance.now() - started
        const healthyAt = Date.now()
        times.push(ms)
        exitCodes.push(await service.stop())
        breakdown.push(phases(service.proc.logFile, spawnAt, healthyAt))
        log(`  start ${i + 1}: ${round(ms, 0)} ms`)
      }
      const med = round(median(times), 0)
      return {
        checks: [{
          scenario: '7 start-up to ready (existing embedded database, median)',
          figure: `${med} ms`,
          baseline: '—',
          ratioOrBound: `${med} ms`,
          target: `< ${TARGET_MS} ms`,
          pass: med < TARGET_MS && exitCodes.every((c) => c === 0)
        }],
        details: { runs, phasesMs: breakdown, timesMs: times.map((t) => round(t, 0)), medianMs: med, maxMs: round(Math.max(...times), 0), firstStartWithInitdbMs: round(createMs, 0), exitCodesAfterSigterm: exitCodes, measured: 'spawn of `node dist/server.js` → first HTTP 200 on /health (polled every 10 ms)' },
        config: { service: { ...config, DATA_DIR: 'bench/results/tmp/startup-data-<run>' } }
      }
    } finally {
      // The cluster may live outside DATA_DIR (root, a folder the postgres user cannot enter).
      const link = join(dataDir, 'postgres')
      let relocated: string | undefined
      try {
        relocated = readlinkSync(link)
      } catch { /* a folder, not a link */ }
      rmSync(dataDir, { recursive: true, force: true })
      if (relocated && existsSync(relocated) && relocated.startsWith('/var/lib/enom-ssl-service/clusters/')) rmSync(relocated, { recursive: true, force: true })
    }
  }
}
