// What a scenario reports, how it is written to bench/results/*.json, and the table.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureDir, RESULTS_DIR } from './util.js'

/** One line of the table: a figure, its baseline (if any), the ratio or bound, the target. */
export interface Check {
  scenario: string
  figure: string
  baseline: string
  /** "0.83" for a ratio, "+4.1 ms" or "212/s" for a bound. */
  ratioOrBound: string
  target: string
  pass: boolean
}

export interface ScenarioOutcome {
  checks: Check[]
  /** The measurements behind the checks (runs, samples, counts). */
  details: Record<string, unknown>
  /** The configuration of every process involved (environment minus secrets, node flags). */
  config: Record<string, unknown>
  notes?: string[]
}

export interface RunMeta {
  runId: string
  date: string
  node: string
  commit: string
  /** The working tree had uncommitted changes to tracked files when the bench ran. */
  dirty: boolean
  machine: { cpus: number, cpuModel: string, memoryMb: number, platform: string }
  database: string
}

export interface ScenarioRecord extends ScenarioOutcome, RunMeta {
  id: string
  scenario: string
  pass: boolean
  elapsedS: number
}

export function writeRecord (record: ScenarioRecord): string {
  const file = join(ensureDir(RESULTS_DIR), `${record.id}.json`)
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n')
  return file
}

export function failedRecord (id: string, scenario: string, meta: RunMeta, err: Error, elapsedS: number): ScenarioRecord {
  return {
    id,
    scenario,
    pass: false,
    elapsedS,
    ...meta,
    checks: [{ scenario, figure: 'error', baseline: '—', ratioOrBound: '—', target: '—', pass: false }],
    details: { error: err.message, stack: err.stack },
    config: {}
  }
}

const HEADERS = ['scenario', 'figure', 'baseline', 'ratio / bound', 'target', 'result'] as const

function rows (checks: Check[]): string[][] {
  return checks.map((c) => [c.scenario, c.figure, c.baseline, c.ratioOrBound, c.target, c.pass ? 'pass' : 'FAIL'])
}

export function textTable (checks: Check[]): string {
  const body = rows(checks)
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)))
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ')
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

export function markdownTable (checks: Check[]): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|')
  return [
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map(() => '---').join('|')}|`,
    ...rows(checks).map((r) => `| ${r.map(escape).join(' | ')} |`)
  ].join('\n')
}
