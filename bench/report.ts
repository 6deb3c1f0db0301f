// Prints the table of the last complete run (bench/results/*.json) as Markdown, for docs/BENCHMARKS.md:
//   npx tsx bench/report.ts
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { markdownTable, type ScenarioRecord } from './lib/results.js'
import { RESULTS_DIR } from './lib/util.js'

const records = readdirSync(RESULTS_DIR)
  .filter((f) => /^\d-.*\.json$/.test(f))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as ScenarioRecord)
if (records.length === 0) {
  process.stderr.write('no results in bench/results: run `npm run bench` first\n')
  process.exit(1)
}
const runs = new Set(records.map((r) => r.runId))
const first = records[0]!
process.stdout.write(`Run ${[...runs].join(', ')} on ${first.date.slice(0, 10)}: Node ${first.node}, commit ${first.commit.slice(0, 12)}${first.dirty ? ' (with uncommitted changes)' : ''}, ` +
  `${first.machine.cpus} × ${first.machine.cpuModel}, ${Math.round(first.machine.memoryMb / 1024)} GB, ${first.database}.\n\n`)
process.stdout.write(markdownTable(records.flatMap((r) => r.checks)) + '\n')
if (runs.size > 1) process.stdout.write('\nNote: the results come from more than one run (scenarios re-run on their own).\n')
