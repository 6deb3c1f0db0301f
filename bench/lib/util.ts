// Small helpers shared by the bench: paths, statistics, ports, the run's identity (commit,
// Node version, machine).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, totalmem, platform, release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const RESULTS_DIR = join(ROOT, 'bench', 'results')
/** Scratch space (gitignored): process logs, CPU profiles, the start-up scenario's data folder. */
export const TMP_DIR = join(RESULTS_DIR, 'tmp')

export function ensureDir (path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function median (values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1] as number
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export const randomToken = (bytes = 24) => randomBytes(bytes).toString('hex')

export function gitCommit (): { commit: string, dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    // The bench's own earlier results and the docs do not change what is measured.
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results', ':!docs', ':!*.md'], { cwd: ROOT, encoding: 'utf8' }).trim()
    return { commit, dirty: status.length > 0 }
  } catch {
    return { commit: 'unknown', dirty: false }
  }
}

export function machine () {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    platform: `${platform()} ${release()}`
  }
}

/** Resident set size of a process in bytes (Linux /proc), or undefined when it is gone. */
export async function rssOf (pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) * 1024
  } catch {
    return undefined
  }
}

export function log (message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

/** CPU time (user + system) a process has used, in ms (Linux /proc; clock ticks of 10 ms). */
export async function cpuMsOf (pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

/** CPU use of some processes over a stretch of time, in % of one core. */
export async function cpuDuring<T> (pids: Record<string, number>, fn: () => Promise<T>): Promise<{ value: T, cpuPercent: Record<string, number> }> {
  const start = performance.now()
  const before = Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([k, pid]) => [k, await cpuMsOf(pid)] as const)))
  const value = await fn()
  const elapsed = performance.now() - start
  const cpuPercent: Record<string, number> = {}
  for (const [k, pid] of Object.entries(pids)) {
    const after = await cpuMsOf(pid)
    const b = before[k]
    if (after !== undefined && b !== undefined) cpuPercent[k] = Math.round(((after - b) / elapsed) * 100)
  }
  return { value, cpuPercent }
}

async function cpuTicks (): Promise<{ busy: number, total: number }> {
  const { readFile } = await import('node:fs/promises')
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.reduce((a, b) => a + b, 0)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  return { busy: total - idle, total }
}

/**
 * Runs `fn` and reports how much CPU other work on the machine took meanwhile: the machine's busy
 * time (/proc/stat) minus the CPU time of `ownPids` (the bench, the processes it measures and
 * their database backends), in % of one core. The machine is shared; a measurement that other
 * work disturbed can be repeated.
 */
export async function foreignCpuDuring<T> (ownPids: () => Promise<number[]>, fn: () => Promise<T>): Promise<{ value: T, foreignCpuPercent: number }> {
  const pids = await ownPids()
  const start = performance.now()
  const machineBefore = await cpuTicks().catch(() => undefined)
  const ownBefore = await Promise.all(pids.map((pid) => cpuMsOf(pid)))
  const value = await fn()
  const machineAfter = await cpuTicks().catch(() => undefined)
  const ownAfter = await Promise.all(pids.map((pid) => cpuMsOf(pid)))
  const elapsed = performance.now() - start
  if (!machineBefore || !machineAfter) return { value, foreignCpuPercent: 0 }
  const machineMs = (machineAfter.busy - machineBefore.busy) * 10
  let ownMs = 0
  pids.forEach((_, i) => {
    const a = ownAfter[i]
    const b = ownBefore[i]
    if (a !== undefined && b !== undefined) ownMs += a - b
  })
  return { value, foreignCpuPercent: Math.max(0, Math.round(((machineMs - ownMs) / elapsed) * 100)) }
}

/** Share of the whole machine's CPU in use over `ms` (0..1), from /proc/stat. */
export async function machineBusy (ms = 1000): Promise<number> {
  try {
    const a = await cpuTicks()
    await sleep(ms)
    const b = await cpuTicks()
    return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total)
  } catch {
    return 0
  }
}

/**
 * The machine is shared (other work may run on it): before a measurement, while the bench itself
 * is idle, wait until the machine is quiet (under `threshold` busy) for up to `maxWaitMs`.
 * Returns how long it waited and how busy the machine was when the measurement started.
 */
export async function waitForQuiet (threshold = 0.15, maxWaitMs = 30_000): Promise<{ waitedMs: number, busy: number }> {
  const start = performance.now()
  let busy = await machineBusy(500)
  let said = false
  while (busy > threshold && performance.now() - start < maxWaitMs) {
    if (!said) log(`  the machine is ${Math.round(busy * 100)}% busy with other work: waiting for it to calm down`)
    said = true
    busy = await machineBusy(2000)
  }
  return { waitedMs: Math.round(performance.now() - start), busy: round(busy, 2) }
}
