// Load generation: autocannon for throughput, a sequential undici client for latency at
// concurrency 1 (sub-millisecond resolution), and the alternating baseline/service comparison.
import autocannon, { type Options, type Result } from 'autocannon'
import { Client } from 'undici'
import { foreignCpuDuring, log, median, percentile, round, sleep, waitForQuiet } from './util.js'

export function runAutocannon (options: Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon({ timeout: 30, ...options }, (err, result) => (err ? reject(err) : resolve(result)))
  })
}

/** What one measured autocannon run says, trimmed for the results file. */
export interface RunSummary {
  reqPerSec: number
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  latencyMs: { p50: number, p90: number, p99: number, max: number, mean: number }
  durationS: number
  statusCodes: Record<string, number>
}

export function summarize (result: Result): RunSummary {
  const statusCodes: Record<string, number> = {}
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count
  return {
    reqPerSec: round(result.requests.average, 1),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: round(result.latency.mean, 2)
    },
    durationS: round(result.duration, 2),
    statusCodes
  }
}

export interface LoadSettings {
  connections: number
  warmupS: number
  durationS: number
  rounds: number
  /** Extra warm-up of each side before the first round (JIT, pools, caches). */
  firstWarmupS: number
}

export interface Target {
  label: string
  /** The server's process id (its CPU is ours, not other work's). */
  pid: number
  /** autocannon options without duration/connections (url, method, headers, requests). */
  load: Options
}

export interface Comparison {
  settings: LoadSettings
  baseline: { label: string, runs: MeasuredRun[], medianReqPerSec: number }
  service: { label: string, runs: MeasuredRun[], medianReqPerSec: number }
  ratio: number
  /** Runs with non-2xx answers or socket errors (each is listed in runs). */
  failedRuns: number
}

export interface MeasuredRun extends RunSummary {
  /** CPU other work on the machine used during the run, in % of one core. */
  foreignCpuPercent: number
  /** Earlier attempts of this run discarded because other work disturbed them (their foreign CPU %). */
  discarded: number[]
}

/** A run during which other work took more than this (% of one core) is repeated. */
export const FOREIGN_CPU_LIMIT = 20
const MAX_REPEATS = 3

async function measure (target: Target, settings: LoadSettings, warmupS: number, ownPids: () => Promise<number[]>): Promise<MeasuredRun> {
  const discarded: number[] = []
  for (;;) {
    await waitForQuiet()
    if (warmupS > 0) await runAutocannon({ ...target.load, connections: settings.connections, duration: warmupS })
    await sleep(250)
    const { value, foreignCpuPercent } = await foreignCpuDuring(async () => [process.pid, target.pid, ...await ownPids()],
      () => runAutocannon({ ...target.load, connections: settings.connections, duration: settings.durationS }))
    if (foreignCpuPercent <= FOREIGN_CPU_LIMIT || discarded.length >= MAX_REPEATS) return { ...summarize(value), foreignCpuPercent, discarded }
    log(`  other work took ${foreignCpuPercent}% of a core during the run: repeating it`)
    discarded.push(foreignCpuPercent)
  }
}

/**
 * `rounds` rounds of (baseline, service), the order flipping each round so that neither side
 * always runs second; each run has its own warm-up. Only one side is under load at any moment.
 * The ratio is median(service req/s) / median(baseline req/s).
 */
export async function compare (baseline: Target, service: Target, settings: LoadSettings, ownPids: () => Promise<number[]> = async () => []): Promise<Comparison> {
  const runs = { baseline: [] as MeasuredRun[], service: [] as MeasuredRun[] }
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? (['baseline', 'service'] as const) : (['service', 'baseline'] as const)
    for (const side of order) {
      const target = side === 'baseline' ? baseline : service
      const warmup = settings.warmupS + (round === 0 ? settings.firstWarmupS : 0)
      const run = await measure(target, settings, warmup, ownPids)
      runs[side].push(run)
      log(`  round ${round + 1} ${side.padEnd(8)} ${String(run.reqPerSec).padStart(8)} req/s  p50 ${run.latencyMs.p50} ms  p99 ${run.latencyMs.p99} ms  non-2xx ${run.non2xx}  errors ${run.errors}  other work ${run.foreignCpuPercent}%`)
    }
  }
  const b = median(runs.baseline.map((r) => r.reqPerSec))
  const s = median(runs.service.map((r) => r.reqPerSec))
  return {
    settings,
    baseline: { label: baseline.label, runs: runs.baseline, medianReqPerSec: b },
    service: { label: service.label, runs: runs.service, medianReqPerSec: s },
    ratio: round(s / b, 3),
    failedRuns: [...runs.baseline, ...runs.service].filter((r) => r.non2xx > 0 || r.errors > 0).length
  }
}

export interface LatencySample {
  count: number
  medianMs: number
  p90Ms: number
  p99Ms: number
  minMs: number
  failures: number
  statuses: Record<string, number>
}

/**
 * `count` requests one after the other on one keep-alive connection; each request is built by
 * `next`. Returns the latencies in ms (from writing the request to the end of the body).
 */
export async function sequentialLatency (origin: string, count: number, next: (i: number) => { method: 'GET' | 'POST', path: string, headers?: Record<string, string>, body?: string }, expected: number[]): Promise<{ latencies: number[], summary: LatencySample }> {
  const client = new Client(origin, { pipelining: 1 })
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let failures = 0
  try {
    for (let i = 0; i < count; i++) {
      const req = next(i)
      const started = performance.now()
      const res = await client.request({ method: req.method, path: req.path, headers: req.headers ?? {}, body: req.body ?? null })
      await res.body.text()
      const ms = performance.now() - started
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
      if (!expected.includes(res.statusCode)) failures++
      latencies.push(ms)
    }
  } finally {
    await client.close()
  }
  return {
    latencies,
    summary: {
      count: latencies.length,
      medianMs: round(median(latencies), 3),
      p90Ms: round(percentile(latencies, 90), 3),
      p99Ms: round(percentile(latencies, 99), 3),
      minMs: round(Math.min(...latencies), 3),
      failures,
      statuses
    }
  }
}
