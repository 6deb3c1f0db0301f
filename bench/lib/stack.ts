// Starting what the scenarios measure: the service as shipped (`node dist/server.js`), the eNom
// simulator (`node --import tsx src/simulator/main.ts`) and the baseline servers of bench/baselines.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { launch, waitForHttp, type Proc } from './proc.js'
import { freePort, randomToken, ROOT } from './util.js'

/**
 * The only settings the bench changes from the service's defaults, each through its documented
 * variable (docs/BENCHMARKS.md says why). Everything else — logging at info, authentication,
 * metrics, the rate limiter and load shedding themselves — runs as shipped.
 */
export const RAISED_SETTINGS: Record<string, { value: string, why: string }> = {
  RATE_LIMIT_PER_MINUTE: {
    value: '10000000',
    why: 'one load generator is one caller sending thousands of requests a second; at the default 1200/min almost every answer would be 429. The limiter still runs on every request.'
  },
  SPEND_LIMIT_DAILY_COUNT: {
    value: '10000000',
    why: 'the order scenarios place thousands of orders for one billing caller in one UTC day (default 500). The limit is still checked twice per order.'
  },
  SPEND_LIMIT_DAILY_AMOUNT: {
    value: '999999999999.00',
    why: 'as SPEND_LIMIT_DAILY_COUNT, for the amount (default 25000.00 USD is 2,512 RapidSSL orders).'
  }
}

export interface Secrets {
  SECRETS_KEY: string
  API_TOKENS: string
  tokens: { admin: string, billing: string, ops: string }
}

export function makeSecrets (): Secrets {
  const tokens = { admin: randomToken(), billing: randomToken(), ops: randomToken() }
  return {
    SECRETS_KEY: `bench:${randomBytes(32).toString('base64')}`,
    API_TOKENS: `bench-admin:admin:${tokens.admin},bench-billing:billing:${tokens.billing},bench-ops:ops:${tokens.ops}`,
    tokens
  }
}

export const DEFAULT_ORIGINS = 'https://reseller.enom.com,https://resellertest.enom.com'

export interface Service {
  proc: Proc
  url: string
  port: number
  /** The environment it runs with, secrets removed (for the results). */
  config: Record<string, string>
  stop: () => Promise<number | null>
}

export interface ServiceOptions {
  name: string
  databaseUrl?: string
  /** Extra variables (origins of simulators, raised settings, DATA_DIR for the embedded database). */
  env?: Record<string, string>
  /** Node flags before the script (e.g. --expose-gc). */
  nodeArgs?: string[]
  secrets: Secrets
  /** Wait for /health 200 (default true). */
  wait?: boolean
}

const SECRET_NAMES = new Set(['SECRETS_KEY', 'API_TOKENS', 'DATABASE_URL'])

export function publicConfig (env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) {
    if (k === 'DATABASE_URL') out[k] = v.replace(/\/\/[^@]*@/, '//').replace(/\/[^/]*$/, '/<bench database>')
    else if (!SECRET_NAMES.has(k)) out[k] = v
  }
  return out
}

/** The environment the production image gives the service: the Dockerfile's last stage's ENV lines. */
export function imageEnv (): Record<string, string> {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')
  const stage = dockerfile.slice(dockerfile.findLastIndex((line) => /^FROM\s/i.test(line)))
  const env: Record<string, string> = {}
  for (const line of stage) {
    const m = /^ENV\s+([A-Z_][A-Z0-9_]*)=(\S+)\s*$/i.exec(line)
    if (m) env[m[1] as string] = m[2] as string
  }
  if (env.NODE_ENV !== 'production') throw new Error('the Dockerfile\'s runtime stage does not set NODE_ENV=production')
  return env
}

export async function startService (options: ServiceOptions): Promise<Service> {
  const port = await freePort()
  const env: Record<string, string> = {
    // What the production image sets (the ENV lines of the Dockerfile's runtime stage).
    ...imageEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl, SECRETS_KEY: options.secrets.SECRETS_KEY, API_TOKENS: options.secrets.API_TOKENS } : {}),
    ...options.env
  }
  const proc = launch({ name: options.name, args: [...(options.nodeArgs ?? []), 'dist/server.js'], env })
  const url = `http://127.0.0.1:${port}`
  if (options.wait !== false) await waitForHttp(proc, `${url}/health`, { timeoutMs: 60_000 })
  return { proc, url, port, config: { node: relativeToRoot([...(options.nodeArgs ?? []), 'dist/server.js'].join(' ')), ...publicConfig(env) }, stop: () => proc.stop() }
}

export interface SimAccount { uid: string, pw: string, balance: string }

export interface Simulator {
  proc: Proc
  url: string
  origin: string
  apiUrl: string
  accounts: SimAccount[]
  control: <T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<T>
  stop: () => Promise<number | null>
}

export async function startSimulator (name: string, accounts: SimAccount[], env: Record<string, string> = {}): Promise<Simulator> {
  const port = await freePort()
  const proc = launch({
    name,
    args: ['--import', 'tsx', 'src/simulator/main.ts'],
    env: { SIM_PORT: String(port), SIM_HOST: '127.0.0.1', SIM_ACCOUNTS: accounts.map((a) => `${a.uid}:${a.pw}:${a.balance}`).join(','), ...env }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(proc, `${url}/_sim/health`, { timeoutMs: 30_000 })
  const control = async <T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    const res = await request(`${url}/_sim${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    })
    const text = await res.body.text()
    if (res.statusCode >= 400) throw new Error(`simulator ${method} ${path}: ${res.statusCode} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
  return { proc, url, origin: url, apiUrl: `${url}/interface.asp`, accounts, control, stop: () => proc.stop() }
}

/** `count` accounts with a balance no benchmark can spend. */
export function simAccounts (prefix: string, count: number): SimAccount[] {
  return Array.from({ length: count }, (_, i) => ({ uid: `${prefix}${i + 1}`, pw: `pw-${prefix}${i + 1}`, balance: '100000000.00' }))
}

export interface Baseline {
  proc: Proc
  url: string
  stop: () => Promise<number | null>
}

/** A baseline server of bench/baselines, run like the simulator (tsx), with the image's environment and LOG_LEVEL info. */
export async function startBaseline (name: string, script: string, env: Record<string, string>, ready: { path: string, status: number }): Promise<Baseline> {
  const port = await freePort()
  const proc = launch({ name, args: ['--import', 'tsx', join(ROOT, 'bench', 'baselines', script)], env: { ...imageEnv(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env } })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(proc, `${url}${ready.path}`, { timeoutMs: 30_000, status: ready.status })
  return { proc, url, stop: () => proc.stop() }
}

/** A command line as recorded in the results: paths inside the checkout written relative to it. */
function relativeToRoot (text: string): string {
  const root = ROOT.replace(/\/$/, '')
  return text.split(`file://${root}/`).join('').split(encodeURIComponent(`${root}/`)).join('').split(`${root}/`).join('')
}
