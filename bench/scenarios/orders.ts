// Scenario 4: POST /orders (purchase only, eNom simulator at zero added latency).
//  a) Concurrency 1: the median latency of an order, at most 10 ms above the median of a direct
//     PurchaseServices call to the simulator — the same GET interface.asp request the service
//     sends, on a keep-alive connection — measured alternately, 3 rounds.
//  b) Concurrency 20, spread over 10 modules (10 eNom accounts): at least 200 orders/s.
import type { Request } from 'autocannon'
import type { BenchContext, Scenario } from '../lib/context.js'
import { createModule, orderBody, PRODUCT, serviceEnv, serviceNodeArgs, warmCatalogues } from '../lib/context.js'
import { runAutocannon, sequentialLatency, summarize } from '../lib/load.js'
import { simAccounts, startService, startSimulator, type SimAccount, type Simulator } from '../lib/stack.js'
import { cpuDuring, log, median, round } from '../lib/util.js'

const LATENCY_BOUND_MS = 10
const THROUGHPUT_TARGET = 200
const MODULES = 10
const CONNECTIONS = 20

/** The request the service's eNom client sends for a purchase (src/enom/client.ts). */
export function purchasePath (account: SimAccount): string {
  const query = new URLSearchParams([
    ['command', 'PurchaseServices'], ['uid', account.uid], ['pw', account.pw], ['responsetype', 'xml'],
    ['Service', PRODUCT], ['NumYears', '1']
  ])
  return `/interface.asp?${query.toString()}`
}

/** Spreads accounts over simulators round-robin. */
export function spread (accounts: SimAccount[], count: number): SimAccount[][] {
  const out: SimAccount[][] = Array.from({ length: count }, () => [])
  accounts.forEach((a, i) => out[i % count]!.push(a))
  return out
}

export function simulatorCount (): number {
  const n = Number(process.env.BENCH_SIMULATORS ?? 1)
  return Number.isInteger(n) && n >= 1 ? n : 1
}

export const ordersScenario: Scenario = {
  id: '4-orders',
  title: 'POST /orders: latency at concurrency 1, throughput at concurrency 20',
  async run (ctx: BenchContext) {
    const databaseUrl = await ctx.dbs.create('orders')
    const accounts = simAccounts('ord', MODULES)
    const groups = spread(accounts, simulatorCount())
    // An account no module uses, for measuring the simulator's own capacity.
    const spare = simAccounts('ordspare', 1)[0]!
    groups[0]!.push(spare)
    const sims: Simulator[] = []
    for (const [i, group] of groups.entries()) sims.push(await startSimulator(`4-orders-simulator-${i + 1}`, group))
    const simOf = (account: SimAccount) => sims[groups.findIndex((g) => g.includes(account))] as Simulator
    const service = await startService({ name: '4-orders-service', databaseUrl, secrets: ctx.secrets, env: serviceEnv(sims), nodeArgs: serviceNodeArgs(ctx, '4-orders') })
    try {
      const moduleIds: string[] = []
      for (const [i, account] of accounts.entries()) moduleIds.push(await createModule(service, ctx, simOf(account), account, `bench-order-${i + 1}`))
      await warmCatalogues(service, ctx, moduleIds)
      const billing = { authorization: `Bearer ${ctx.secrets.tokens.billing}`, 'content-type': 'application/json' }
      let serial = 0
      const nextOrder = (moduleId: string) => {
        const n = ++serial
        return {
          method: 'POST' as const,
          path: '/orders',
          headers: { ...billing, 'idempotency-key': `"${ctx.runId}-o${n}"` },
          body: JSON.stringify(orderBody(`${ctx.runId}-svc-${n}`, moduleId))
        }
      }

      // a) Concurrency 1, alternating direct calls and orders on the same account.
      const account = accounts[0]!
      const sim = simOf(account)
      const perRound = ctx.quick ? 60 : 150
      const rounds = 3
      const direct = { latencies: [] as number[], rounds: [] as unknown[] }
      const orders = { latencies: [] as number[], rounds: [] as unknown[] }
      await sequentialLatency(sim.url, 30, () => ({ method: 'GET', path: purchasePath(account) }), [200])
      await sequentialLatency(service.url, 30, () => nextOrder(moduleIds[0]!), [201])
      for (let r = 0; r < rounds; r++) {
        const sides = r % 2 === 0 ? ['direct', 'service'] : ['service', 'direct']
        for (const side of sides) {
          if (side === 'direct') {
            const m = await sequentialLatency(sim.url, perRound, () => ({ method: 'GET', path: purchasePath(account) }), [200])
            direct.latencies.push(...m.latencies)
            direct.rounds.push(m.summary)
            log(`  round ${r + 1} direct   median ${m.summary.medianMs} ms`)
          } else {
            const m = await sequentialLatency(service.url, perRound, () => nextOrder(moduleIds[0]!), [201])
            orders.latencies.push(...m.latencies)
            orders.rounds.push(m.summary)
            log(`  round ${r + 1} service  median ${m.summary.medianMs} ms  failures ${m.summary.failures}`)
          }
        }
      }
      const directMedian = round(median(direct.latencies), 2)
      const orderMedian = round(median(orders.latencies), 2)
      const overhead = round(orderMedian - directMedian, 2)
      const latencyFailures = orders.rounds.reduce((n: number, s) => n + (s as { failures: number }).failures, 0)

      // Does one simulator keep up? Its own capacity for the purchase request at the same concurrency
      // (an order costs it three requests: GetBalance, CertGetCerts, PurchaseServices).
      const simCapacity = summarize(await runAutocannon({ url: `${sims[0]!.url}${purchasePath(spare)}`, connections: CONNECTIONS, duration: 3 }))
      log(`  simulator alone: ${simCapacity.reqPerSec} PurchaseServices/s at c=${CONNECTIONS}`)

      // b) Concurrency 20 over 10 modules.
      let next = 0
      const requests: Request[] = [{
        method: 'POST',
        path: '/orders',
        setupRequest: (req) => {
          const order = nextOrder(moduleIds[next++ % MODULES]!)
          return { ...req, headers: order.headers, body: order.body }
        }
      }]
      const durationS = ctx.quick ? 8 : 15
      await runAutocannon({ url: service.url, connections: CONNECTIONS, duration: ctx.quick ? 2 : 3, requests })
      const pids: Record<string, number> = { service: service.proc.pid }
      sims.forEach((s, i) => { pids[`simulator${i + 1}`] = s.proc.pid })
      const { value: raw, cpuPercent } = await cpuDuring(pids, () => runAutocannon({ url: service.url, connections: CONNECTIONS, duration: durationS, requests }))
      const run = summarize(raw)
      const ordersPerSec = round(raw['2xx'] / raw.duration, 1)
      log(`  c=${CONNECTIONS}: ${ordersPerSec} orders/s, non-2xx ${run.non2xx}, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, CPU ${JSON.stringify(cpuPercent)}`)
      const ledgerCounts = await Promise.all(sims.map(async (s) => (await s.control<unknown[]>('GET', '/ledger?command=PurchaseServices')).length))

      return {
        checks: [{
          scenario: '4 POST /orders, concurrency 1 (median)',
          figure: `${orderMedian} ms`,
          baseline: `${directMedian} ms direct`,
          ratioOrBound: `+${overhead} ms`,
          target: `≤ +${LATENCY_BOUND_MS} ms`,
          pass: overhead <= LATENCY_BOUND_MS && latencyFailures === 0
        }, {
          scenario: `4 POST /orders, concurrency ${CONNECTIONS}, ${MODULES} modules`,
          figure: `${ordersPerSec} orders/s`,
          baseline: '—',
          ratioOrBound: `${ordersPerSec}/s`,
          target: `≥ ${THROUGHPUT_TARGET}/s, no failures`,
          pass: ordersPerSec >= THROUGHPUT_TARGET && run.non2xx === 0 && run.errors === 0
        }],
        details: {
          latency: { perRound, rounds, directMedianMs: directMedian, orderMedianMs: orderMedian, overheadMs: overhead, direct: direct.rounds, service: orders.rounds },
          throughput: { connections: CONNECTIONS, modules: MODULES, durationS, ordersPerSec, run, cpuPercentOfOneCore: cpuPercent },
          purchasesInLedgers: ledgerCounts,
          simulatorCapacity: { request: 'GET PurchaseServices', connections: CONNECTIONS, reqPerSec: simCapacity.reqPerSec, non2xx: simCapacity.non2xx }
        },
        config: {
          service: service.config,
          simulators: sims.map((s, i) => ({ origin: s.origin, accounts: groups[i]!.map((a) => a.uid), addedLatencyMs: 0 })),
          spareAccount: spare.uid,
          product: PRODUCT
        }
      }
    } finally {
      await service.stop()
      for (const s of sims) await s.stop()
    }
  }
}
