// Prometheus metrics: what the service is doing, for ops. Request and eNom call durations are
// observed as they happen; the business gauges (balances, orders, tasks, jobs, pool, the kill
// switch) are read from the database when scraped, cached briefly so that scrapers cannot load
// it. A registry per app, so that several apps in one process (tests) do not collide.
import type pg from 'pg'
import { collectDefaultMetrics, Gauge, Registry, type GaugeConfiguration } from 'prom-client'
import { FastHistogram } from './lib/histogram.js'
import type { Prisma as PrismaClient } from './db/database.js'

export interface Metrics {
  registry: Registry
  httpDuration: FastHistogram<'method' | 'route' | 'status'>
  enomDuration: FastHistogram<'command' | 'outcome'>
}

interface Snapshot {
  balances: Array<{ id: string, name: string, available: number | null, below: boolean }>
  orders: Array<{ status: string, count: number }>
  tasks: Array<{ department: string, count: number }>
  jobs: Array<{ kind: string, status: string, count: number, oldest: Date | null }>
  paused: boolean
}

/** How long a scrape's database reads are reused. */
const SNAPSHOT_MS = 5000

export function createMetrics (deps: { prisma: PrismaClient, pool: pg.Pool, poolMax: number }): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  let cached: { at: number, value: Promise<Snapshot> } | undefined
  const snapshot = (): Promise<Snapshot> => {
    if (!cached || Date.now() - cached.at > SNAPSHOT_MS) {
      const value = read(deps.prisma).catch((err) => {
        cached = undefined
        throw err
      })
      cached = { at: Date.now(), value }
    }
    return cached.value
  }

  const gauge = <L extends string>(config: GaugeConfiguration<L>) => registry.registerMetric(new Gauge({ ...config, registers: [] }))

  const httpDuration = new FastHistogram('http_request_duration_seconds', 'HTTP request duration by route template and status',
    ['method', 'route', 'status'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registry)
  const enomDuration = new FastHistogram('enom_call_duration_seconds', 'eNom API call duration by command and outcome class (ok or the failure cause)',
    ['command', 'outcome'], [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 100], registry)

  gauge({
    name: 'enom_available_balance_usd',
    help: 'Last known available eNom balance per enabled module',
    labelNames: ['module_id', 'module'] as const,
    async collect () {
      this.reset()
      for (const b of (await snapshot()).balances) if (b.available !== null) this.set({ module_id: b.id, module: b.name }, b.available)
    }
  })
  gauge({
    name: 'enom_balance_below_minimal',
    help: '1 when the module\'s available balance is below its minimal balance',
    labelNames: ['module_id', 'module'] as const,
    async collect () {
      this.reset()
      for (const b of (await snapshot()).balances) this.set({ module_id: b.id, module: b.name }, b.below ? 1 : 0)
    }
  })
  gauge({
    name: 'orders',
    help: 'Certificate orders by status',
    labelNames: ['status'] as const,
    async collect () {
      this.reset()
      for (const o of (await snapshot()).orders) this.set({ status: o.status }, o.count)
    }
  })
  gauge({
    name: 'tasks_open',
    help: 'Open tasks by department',
    labelNames: ['department'] as const,
    async collect () {
      this.reset()
      for (const t of (await snapshot()).tasks) this.set({ department: t.department }, t.count)
    }
  })
  gauge({
    name: 'jobs_queued',
    help: 'Pending and running jobs by kind and status',
    labelNames: ['kind', 'status'] as const,
    async collect () {
      this.reset()
      for (const j of (await snapshot()).jobs) this.set({ kind: j.kind, status: j.status }, j.count)
    }
  })
  gauge({
    name: 'jobs_oldest_due_age_seconds',
    help: 'How long the oldest pending or running job of each kind has been due',
    labelNames: ['kind'] as const,
    async collect () {
      this.reset()
      const oldest = new Map<string, number>()
      for (const j of (await snapshot()).jobs) {
        if (!j.oldest) continue
        const age = Math.max(0, (Date.now() - j.oldest.getTime()) / 1000)
        oldest.set(j.kind, Math.max(oldest.get(j.kind) ?? 0, age))
      }
      for (const [kind, age] of oldest) this.set({ kind }, age)
    }
  })
  gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state (waiting: queries waiting for a connection)',
    labelNames: ['state'] as const,
    collect () {
      this.set({ state: 'total' }, deps.pool.totalCount)
      this.set({ state: 'idle' }, deps.pool.idleCount)
      this.set({ state: 'waiting' }, deps.pool.waitingCount)
      this.set({ state: 'max' }, deps.poolMax)
    }
  })
  gauge({
    name: 'purchases_paused',
    help: '1 while the purchase kill switch is on',
    async collect () {
      this.set((await snapshot()).paused ? 1 : 0)
    }
  })

  return { registry, httpDuration, enomDuration }
}

async function read (prisma: PrismaClient): Promise<Snapshot> {
  const [modules, orders, tasks, jobs, paused] = await Promise.all([
    prisma.processingModule.findMany({ where: { enabled: true, deletedAt: null }, select: { id: true, name: true, availableBalance: true, minimalBalance: true } }),
    prisma.certificateOrder.groupBy({ by: ['status'], _count: { _all: true } }),
    prisma.task.groupBy({ by: ['department'], where: { status: 'open' }, _count: { _all: true } }),
    prisma.$queryRaw<Array<{ kind: string, status: string, count: bigint, oldest: Date | null }>>`
      SELECT kind, status::text AS status, count(*) AS count, min(run_at) FILTER (WHERE run_at <= now()) AS oldest
      FROM job WHERE status IN ('pending', 'running') GROUP BY kind, status`,
    prisma.setting.findUnique({ where: { key: 'purchases_paused' } })
  ])
  return {
    balances: modules.map((m) => ({
      id: m.id,
      name: m.name,
      available: m.availableBalance === null ? null : Number(m.availableBalance.toFixed(2)),
      below: m.availableBalance !== null && m.minimalBalance !== null && m.availableBalance.lessThan(m.minimalBalance)
    })),
    orders: orders.map((o) => ({ status: o.status, count: o._count._all })),
    tasks: tasks.map((t) => ({ department: t.department, count: t._count._all })),
    jobs: jobs.map((j) => ({ kind: j.kind, status: j.status, count: Number(j.count), oldest: j.oldest })),
    paused: (paused?.value as { paused?: boolean } | null)?.paused === true
  }
}
