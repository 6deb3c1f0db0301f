// Summarises a V8 .cpuprofile (node --cpu-prof): self time by package or source file and by
// function, and the total time under chosen functions. For finding where the service's time goes:
//   npx tsx bench/lib/profile-summary.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export function where (url: string): string {
  if (!url) return '(native/idle)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return url
  const dist = url.indexOf('/dist/')
  if (dist >= 0) return url.slice(dist + 1)
  return url.replace(/^file:\/\//, '')
}

export function summarizeProfile (file: string, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const idle = [...selfUs.entries()].filter(([id]) => ['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id)!.callFrame.functionName))
  const byWhere = new Map<string, number>()
  const byFn = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!
    const name = n.callFrame.functionName || '(anonymous)'
    const w = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : where(n.callFrame.url)
    byWhere.set(w, (byWhere.get(w) ?? 0) + us)
    const fk = `${name} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
    byFn.set(fk, (byFn.get(fk) ?? 0) + us)
  }
  // Inclusive time per package: a sample counts once for every package on its stack.
  const inclusive = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>()
    let cur: number | undefined = id
    while (cur !== undefined) {
      const n = byId.get(cur)!
      const w = where(n.callFrame.url)
      if (n.callFrame.url) seen.add(w)
      cur = parent.get(cur)
    }
    for (const w of seen) inclusive.set(w, (inclusive.get(w) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`
  const lines: string[] = []
  lines.push(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, idle/program/gc ${pct(idle.reduce((a, [, us]) => a + us, 0))}`)
  lines.push('self time by package/file:')
  for (const [w, us] of [...byWhere].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us).padStart(6)}  ${w}`)
  lines.push('inclusive time by package/file:')
  for (const [w, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us).padStart(6)}  ${w}`)
  lines.push('self time by function:')
  for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us).padStart(6)}  ${f}`)
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const file = process.argv[2]
  if (!file) {
    process.stderr.write('usage: npx tsx bench/lib/profile-summary.ts <file.cpuprofile> [top]\n')
    process.exit(2)
  }
  process.stdout.write(summarizeProfile(file, Number(process.argv[3] ?? 25)) + '\n')
}
