// The service and the simulator as separate OS processes, with pools and memory of their own,
// for the tests that must not share a process: several instances on one database, SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { API_TOKENS, SECRETS_KEY } from './app.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

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

export interface RunningProcess {
  url: string
  child: ChildProcess
  output: () => string
  /** SIGTERM (or another signal), then the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
  kill: () => Promise<void>
}

async function waitUntil (check: () => Promise<boolean>, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output().slice(-3000)}`)
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`process not ready in ${timeoutMs} ms:\n${output().slice(-3000)}`)
}

function launch (script: string, env: Record<string, string>): { child: ChildProcess, output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let text = ''
  const keep = (chunk: Buffer) => { text = (text + chunk.toString('utf8')).slice(-200_000) }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output: () => text }
}

function handle (url: string, child: ChildProcess, output: () => string): RunningProcess {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    url,
    child,
    output,
    async stop (signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode
      child.kill(signal)
      return exited
    },
    async kill () {
      if (child.exitCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    }
  }
}

/** One service instance on `databaseUrl` (already migrated: the instance migrates anyway). */
export async function startServiceProcess (databaseUrl: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort()
  const { child, output } = launch('src/server.ts', {
    DATABASE_URL: databaseUrl,
    SECRETS_KEY,
    API_TOKENS,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Several processes share two cores during the suite: a lagging event loop says nothing here.
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...env
  })
  const url = `http://127.0.0.1:${port}`
  await waitUntil(async () => (await request(`${url}/health`)).statusCode === 200, child, output, 30_000)
  return handle(url, child, output)
}

export interface SimulatorProcess extends RunningProcess {
  apiUrl: string
  control: <T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<T>
}

export async function startSimulatorProcess (env: Record<string, string> = {}): Promise<SimulatorProcess> {
  const port = await freePort()
  const { child, output } = launch('src/simulator/main.ts', { SIM_PORT: String(port), SIM_HOST: '127.0.0.1', SIM_ISSUE_DELAY_MS: '300', ...env })
  const url = `http://127.0.0.1:${port}`
  await waitUntil(async () => (await request(`${url}/_sim/health`)).statusCode === 200, child, output, 30_000)
  const control = async <T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    const res = await request(`${url}/_sim${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    })
    const text = await res.body.text()
    if (res.statusCode >= 400) throw new Error(`simulator ${method} ${path}: ${res.statusCode} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
  return { ...handle(url, child, output), apiUrl: `${url}/interface.asp`, control }
}

/** A JSON call to a service process. */
export async function call (base: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, json: json as any }
}
