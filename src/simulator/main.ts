// `npm run simulator`: the eNom simulator as a process, for demos and for tests that need it in
// another OS process. Configured by SIM_PORT, SIM_HOST, SIM_ISSUE_DELAY_MS, SIM_ACCOUNTS
// (`uid:pw:balance,...`) and SIM_LOG_LEVEL (request logging, off when unset).
import type { AccountInput } from './accounts.js'
import { DEFAULT_ACCOUNT, startSimulator } from './app.js'

function fail (message: string): never {
  process.stderr.write(`enom-simulator: ${message}\n`)
  process.exit(78) // EX_CONFIG
}

function intEnv (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) fail(`${name} must be a non-negative integer, got ${raw}`)
  return Number(raw)
}

function accountsEnv (): AccountInput[] {
  const raw = process.env.SIM_ACCOUNTS
  if (!raw) return [DEFAULT_ACCOUNT]
  return raw.split(',').map((item) => {
    const [uid, pw, balance] = item.trim().split(':')
    if (!uid || !pw) fail(`SIM_ACCOUNTS entries are uid:pw[:balance], got ${item}`)
    return balance ? { uid, pw, balance } : { uid, pw }
  })
}

async function main (): Promise<void> {
  const started = performance.now()
  const port = intEnv('SIM_PORT', 8081)
  const host = process.env.SIM_HOST || '127.0.0.1'
  const level = process.env.SIM_LOG_LEVEL
  const sim = await startSimulator({
    port,
    host,
    defaultIssueDelayMs: intEnv('SIM_ISSUE_DELAY_MS', 5000),
    accounts: accountsEnv(),
    logger: level ? { level } : false
  })
  const ms = Math.round(performance.now() - started)
  const logins = sim.state.accounts().map((a) => `${a.uid} (balance ${a.balance})`).join(', ')
  process.stdout.write([
    `eNom simulator ready in ${ms} ms`,
    `  API URL:      ${sim.apiUrl}`,
    `  control API:  ${sim.url}/_sim/health (see docs/SIMULATOR.md)`,
    `  accounts:     ${logins}`,
    `  to use it from the service, allow its origin: ENOM_ALLOWED_ORIGINS=https://reseller.enom.com,https://resellertest.enom.com,${sim.url}`,
    ''
  ].join('\n'))

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stdout.write(`eNom simulator stopping (${signal})\n`)
    sim.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)))
