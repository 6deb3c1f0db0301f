// The eNom simulator as a Fastify app: `/interface.asp` plus the `/_sim` control API. Tests build
// it in-process (buildSimulator/startSimulator); `npm run simulator` runs it as a process.
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { AccountInput } from './accounts.js'
import controlRoutes from './control.js'
import interfaceRoutes from './interface.js'
import { SimulatorState } from './state.js'

// The types a test of another part needs to drive the simulator, importable from this one module.
export type { AccountInput, AccountPatch, AccountView } from './accounts.js'
export type { CertView } from './cert-view.js'
export type { Fault, FaultInput, FaultKind } from './faults.js'
export type { LedgerEntry, LedgerFilter } from './ledger.js'
export type { SimulatorState } from './state.js'

export interface SimulatorOptions {
  /** Start-up accounts (also what /_sim/reset restores). Default: eNom's demo login resellid/resellpw with 5000.00. */
  accounts?: AccountInput[]
  /** Time from CertPurchaseCert to issuance for accounts that do not set their own. Default 3000. */
  defaultIssueDelayMs?: number
  /** Fastify logger options; off by default. Request URLs are logged without their query (it carries `pw`). */
  logger?: boolean | object
}

export const DEFAULT_ACCOUNT: AccountInput = { uid: 'resellid', pw: 'resellpw', balance: '5000.00' }
export const DEFAULT_ISSUE_DELAY_MS = 3000

// eNom takes credentials in the query string, so a logged URL would leak the password.
const serializers = {
  req: (req: { method?: string, url?: string, ip?: string }) => ({
    method: req.method,
    url: (req.url ?? '').split('?')[0],
    remoteAddress: req.ip
  })
}

function loggerOption (logger: SimulatorOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false
  const base = typeof logger === 'object' ? logger as Record<string, unknown> : {}
  const own = (base.serializers ?? {}) as Record<string, unknown>
  return { ...base, serializers: { ...own, req: serializers.req } }
}

export async function buildSimulator (options: SimulatorOptions = {}): Promise<{ app: FastifyInstance, state: SimulatorState }> {
  const state = new SimulatorState({
    accounts: options.accounts ?? [DEFAULT_ACCOUNT],
    defaultIssueDelayMs: options.defaultIssueDelayMs ?? DEFAULT_ISSUE_DELAY_MS
  })
  const app = Fastify({
    logger: loggerOption(options.logger),
    // Slow-body and latency faults hold connections open; closing must not wait for them.
    forceCloseConnections: true,
    bodyLimit: 256 * 1024,
    // Control API typos must be refused, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } }
  })
  await app.register(interfaceRoutes, { state })
  await app.register(controlRoutes, { state, prefix: '/_sim' })
  return { app, state }
}

export interface RunningSimulator {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** `url + '/interface.asp'` */
  apiUrl: string
  state: SimulatorState
  close: () => Promise<void>
}

export async function startSimulator (options: SimulatorOptions & { port?: number, host?: string } = {}): Promise<RunningSimulator> {
  const { app, state } = await buildSimulator(options)
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  return { url, apiUrl: `${url}/interface.asp`, state, close: () => app.close() }
}
