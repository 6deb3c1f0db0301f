// What every scenario receives from the orchestrator, and the set-up steps several share.
import type { BenchDatabases } from './db.js'
import { expectStatus } from './http.js'
import type { LoadSettings } from './load.js'
import type { ScenarioOutcome } from './results.js'
import { DEFAULT_ORIGINS, RAISED_SETTINGS, type Secrets, type Service, type SimAccount, type Simulator } from './stack.js'

export interface BenchContext {
  runId: string
  dbs: BenchDatabases
  secrets: Secrets
  /** The comparison settings of the ratio scenarios (1-3). */
  compare: LoadSettings
  /** --quick: shorter runs, for trying the harness; its results are not the reference. */
  quick: boolean
  /** --profile: the service runs with --cpu-prof (profiles in bench/results/tmp/profiles). */
  profile: boolean
}

export interface Scenario {
  id: string
  title: string
  run: (ctx: BenchContext) => Promise<ScenarioOutcome>
}

/** The service's environment for a run with these simulators: the raised settings and the origins. */
export function serviceEnv (simulators: Simulator[], extra: Record<string, string> = {}): Record<string, string> {
  const raised = Object.fromEntries(Object.entries(RAISED_SETTINGS).map(([k, v]) => [k, v.value]))
  return {
    ...raised,
    ENOM_ALLOWED_ORIGINS: [DEFAULT_ORIGINS, ...simulators.map((s) => s.origin)].join(','),
    ...extra
  }
}

/** Node flags of the service (a CPU profile with --profile). */
export function serviceNodeArgs (ctx: BenchContext, name: string, extra: string[] = []): string[] {
  return [...extra, ...(ctx.profile ? ['--cpu-prof', '--cpu-prof-dir=bench/results/tmp/profiles', `--cpu-prof-name=${name}-${ctx.runId}.cpuprofile`] : [])]
}

export const PRODUCT = 'certificate-rapidssl-rapidssl'

/** Creates a processing module for a simulator account; returns its id. */
export async function createModule (service: Service, ctx: BenchContext, sim: Simulator, account: SimAccount, name: string,
  options: { checkConnection?: boolean } = {}): Promise<string> {
  const body = {
    name,
    dataCenter: 'bench',
    department: 'ssl',
    sort: 1,
    apiUrl: sim.apiUrl,
    username: account.uid,
    password: account.pw,
    ...(options.checkConnection === false ? { checkConnection: false } : {})
  }
  const created = await expectStatus<{ id: string }>(201, service.url, 'POST', '/modules', { token: ctx.secrets.tokens.admin, body })
  return created.id
}

/** Reads each module's catalogue once, so that orders find it cached as they would in steady state. */
export async function warmCatalogues (service: Service, ctx: BenchContext, moduleIds: string[]): Promise<void> {
  for (const id of moduleIds) await expectStatus(200, service.url, 'GET', `/modules/${id}/products`, { token: ctx.secrets.tokens.billing })
}

export function orderBody (serviceId: string, moduleId: string) {
  return { serviceId, productCode: PRODUCT, years: 1, domain: 'www.example.com', moduleId }
}
