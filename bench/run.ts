// `npm run bench`: builds the service, finds or starts PostgreSQL, runs every scenario against the
// service as shipped (`node dist/server.js`, a separate process) and its baselines, writes one
// bench/results/<scenario>.json per scenario plus bench/results/summary.json, and prints the table.
//
//   npm run bench                      every scenario
//   npm run bench -- 1-health 4-orders only these (ids or their numbers: 1 4)
//   npm run bench -- --quick           shorter runs, to try the harness (not the reference numbers)
//   npm run bench -- --profile         the service also writes CPU profiles to bench/results/tmp/profiles
//   npm run bench -- --no-build        skip `npm run build` (dist/ is current)
//   npm run bench -- --embedded-db     use an embedded PostgreSQL 17 even when another server answers
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext, Scenario } from './lib/context.js'
import { openBenchDatabases, type BenchDatabases } from './lib/db.js'
import { setLogDir, stopAll } from './lib/proc.js'
import { failedRecord, textTable, writeRecord, type Check, type RunMeta, type ScenarioRecord } from './lib/results.js'
import { makeSecrets, RAISED_SETTINGS } from './lib/stack.js'
import { ensureDir, gitCommit, log, machine, RESULTS_DIR, ROOT, round, TMP_DIR } from './lib/util.js'
import { balanceScenario } from './scenarios/balance.js'
import { healthScenario } from './scenarios/health.js'
import { memoryScenario } from './scenarios/memory.js'
import { moduleReadScenario } from './scenarios/module-read.js'
import { ordersScenario } from './scenarios/orders.js'
import { slowEnomScenario } from './scenarios/slow-enom.js'
import { startupScenario } from './scenarios/startup.js'

const SCENARIOS: Scenario[] = [healthScenario, moduleReadScenario, balanceScenario, ordersScenario, slowEnomScenario, memoryScenario, startupScenario]

/** Runs a command in the project folder (asynchronously, so that Ctrl-C is handled meanwhile). */
function run (command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))))
  })
}

/** Process logs are large (a line per request); those of runs older than an hour are removed. */
function pruneOldLogs (): void {
  const dir = join(TMP_DIR, 'logs')
  if (!existsSync(dir)) return
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (Date.now() - statSync(path).mtimeMs > 3600_000) rmSync(path, { recursive: true, force: true })
  }
}

function parseArgs (argv: string[]) {
  const flags = new Set(argv.filter((a) => a.startsWith('--')))
  const unknown = [...flags].filter((f) => !['--quick', '--profile', '--no-build', '--embedded-db'].includes(f))
  if (unknown.length > 0) throw new Error(`unknown option(s) ${unknown.join(', ')}`)
  const wanted = argv.filter((a) => !a.startsWith('--'))
  const selected = wanted.length === 0
    ? SCENARIOS
    : SCENARIOS.filter((s) => wanted.some((w) => s.id === w || s.id.split('-')[0] === w))
  if (wanted.length > 0 && selected.length === 0) throw new Error(`no scenario matches ${wanted.join(', ')}; ids: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  return { quick: flags.has('--quick'), profile: flags.has('--profile'), build: !flags.has('--no-build'), embeddedDb: flags.has('--embedded-db'), selected }
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const started = performance.now()
  const runId = `${Date.now().toString(36)}`
  ensureDir(TMP_DIR)
  pruneOldLogs()
  setLogDir(join(TMP_DIR, 'logs', runId))
  if (args.profile) ensureDir(join(TMP_DIR, 'profiles'))

  const opened: { dbs?: BenchDatabases } = {}
  const onSignal = () => {
    log('interrupted: stopping processes and dropping the bench databases')
    stopAll().then(() => opened.dbs?.close()).finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  if (args.build) {
    log('npm run build')
    await run('npm', ['run', 'build'])
  }
  const { commit, dirty } = gitCommit()
  const dbs = opened.dbs = await openBenchDatabases(runId, { embedded: args.embeddedDb })
  log(`database: ${dbs.source} (PostgreSQL ${dbs.serverVersion})`)
  const meta: RunMeta = {
    runId,
    date: new Date().toISOString(),
    node: process.version,
    commit,
    dirty,
    machine: machine(),
    database: `${dbs.source}, PostgreSQL ${dbs.serverVersion}`
  }
  const ctx: BenchContext = {
    runId,
    dbs,
    secrets: makeSecrets(),
    quick: args.quick,
    profile: args.profile,
    compare: args.quick
      ? { connections: 10, warmupS: 1, durationS: 3, rounds: 2, firstWarmupS: 1 }
      : { connections: 10, warmupS: 2, durationS: 8, rounds: 3, firstWarmupS: 3 }
  }

  const records: ScenarioRecord[] = []
  try {
    for (const scenario of args.selected) {
      log(`scenario ${scenario.id}: ${scenario.title}`)
      const t0 = performance.now()
      let record: ScenarioRecord
      try {
        const outcome = await scenario.run(ctx)
        record = { id: scenario.id, scenario: scenario.title, pass: outcome.checks.every((c) => c.pass), elapsedS: round((performance.now() - t0) / 1000, 1), ...meta, ...outcome }
      } catch (err) {
        log(`scenario ${scenario.id} failed: ${(err as Error).stack ?? String(err)}`)
        record = failedRecord(scenario.id, scenario.title, meta, err as Error, round((performance.now() - t0) / 1000, 1))
        await stopAll()
      }
      if (args.quick) record.notes = [...(record.notes ?? []), '--quick: shortened runs; not a reference result']
      records.push(record)
      if (!args.quick) writeRecord(record)
      log(`scenario ${scenario.id}: ${record.pass ? 'pass' : 'FAIL'} (${record.elapsedS} s)`)
    }
  } finally {
    await stopAll()
    await dbs.close()
  }

  const checks: Check[] = records.flatMap((r) => r.checks)
  const summary = {
    ...meta,
    quick: args.quick,
    elapsedS: round((performance.now() - started) / 1000, 1),
    raisedSettings: Object.fromEntries(Object.entries(RAISED_SETTINGS).map(([k, v]) => [k, v.value])),
    scenarios: records.map((r) => r.id),
    pass: checks.every((c) => c.pass),
    checks
  }
  if (!args.quick && args.selected.length === SCENARIOS.length) writeFileSync(join(RESULTS_DIR, 'summary.json'), JSON.stringify(summary, null, 2) + '\n')
  else writeFileSync(join(TMP_DIR, 'last-summary.json'), JSON.stringify(summary, null, 2) + '\n')
  process.stdout.write(`\nnode ${meta.node}, commit ${meta.commit.slice(0, 12)}${meta.dirty ? ' (uncommitted changes)' : ''}, ${meta.machine.cpus} CPUs ${meta.machine.cpuModel}, ${meta.machine.memoryMb} MB, ${meta.database}\n\n`)
  process.stdout.write(textTable(checks) + '\n\n')
  process.stdout.write(`${summary.pass ? 'every target passes' : 'some targets FAIL'} (${summary.elapsedS} s)\n`)
  process.exitCode = summary.pass ? 0 : 1
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`)
  await stopAll()
  process.exit(2)
})
