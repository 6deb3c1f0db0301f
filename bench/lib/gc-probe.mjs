// Preloaded into the service by scenario 6 (node --expose-gc --import <this file>?out=<file>):
// on SIGUSR2 it forces a full garbage collection and appends process.memoryUsage() as one JSON
// line to <file>. It changes nothing else in the process: no module of the service is touched,
// and a signal listener does not keep the event loop alive.
import { appendFileSync } from 'node:fs'

const out = new URL(import.meta.url).searchParams.get('out')
if (out && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    const t0 = performance.now()
    globalThis.gc()
    const gcMs = performance.now() - t0
    appendFileSync(out, JSON.stringify({ at: Date.now(), gcMs, ...process.memoryUsage() }) + '\n')
  })
}
