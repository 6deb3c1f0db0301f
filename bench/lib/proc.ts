// Child processes of the bench: the service, the simulators and the baseline servers, each a
// separate OS process whose stdout and stderr go to a log file (the same destination for the
// service and the baselines, so that their loggers pay the same cost).
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { ensureDir, log, ROOT, sleep, TMP_DIR } from './util.js'

export interface Proc {
  name: string
  child: ChildProcess
  pid: number
  logFile: string
  /** The last part of the log file, for error messages. */
  tail: (chars?: number) => string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop: (graceMs?: number) => Promise<number | null>
}

const running = new Set<Proc>()
let logDir = join(TMP_DIR, 'logs')

/** Where process logs go: bench/results/tmp/logs/<run id>/ (runs at the same time do not mix). */
export function setLogDir (dir: string): void {
  logDir = dir
}

export interface LaunchOptions {
  name: string
  args: string[]
  env: Record<string, string>
  cwd?: string
}

/** Every process gets PATH and HOME and nothing else from the bench's environment. */
export function launch (options: LaunchOptions): Proc {
  const logFile = join(ensureDir(logDir), `${options.name}.log`)
  const fd = openSync(logFile, 'w')
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', fd, fd]
  })
  closeSync(fd)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))))
  const proc: Proc = {
    name: options.name,
    child,
    pid: child.pid as number,
    logFile,
    tail: (chars = 3000) => {
      try {
        return readFileSync(logFile, 'utf8').slice(-chars)
      } catch {
        return ''
      }
    },
    async stop (graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        running.delete(proc)
        return child.exitCode
      }
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(timer)
      running.delete(proc)
      return code
    }
  }
  running.add(proc)
  return proc
}

/** Waits until `url` answers `status` (polling every `everyMs`); fails when the process exits. */
export async function waitForHttp (proc: Proc, url: string, options: { timeoutMs?: number, everyMs?: number, status?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  const wanted = options.status ?? 200
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${proc.tail()}`)
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 })
      await res.body.dump()
      if (res.statusCode === wanted) return
    } catch { /* not listening yet */ }
    await sleep(options.everyMs ?? 50)
  }
  throw new Error(`${proc.name} did not answer ${wanted} on ${url} in time:\n${proc.tail()}`)
}

/** Stops every process the bench started and has not stopped yet (on exit or failure). */
export async function stopAll (): Promise<void> {
  const list = [...running]
  if (list.length > 0) log(`stopping ${list.map((p) => p.name).join(', ')}`)
  await Promise.all(list.map((p) => p.stop(5000).catch(() => undefined)))
}
