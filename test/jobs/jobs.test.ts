// Durable jobs: claims that never overlap, leases taken over, retries then a task, graceful
// release, slot jobs offered by every instance but run once, and what the scheduled jobs do
// (low-balance tasks once per crossing, the certificate sweep, the key reaper).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { JobRunner } from '../../src/jobs/runner.js'
import { dueSlots, Scheduler } from '../../src/jobs/scheduler.js'
import { createLogger } from '../../src/logger.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
const log = createLogger('silent')

beforeAll(async () => {
  s = await startSimulatorForTest([{ uid: 'resellid', pw: 'resellpw', balance: '50.00' }])
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, JOB_POLL_MS: '50' })
})
afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
})
beforeEach(async () => {
  s.sim.state.reset()
  s.sim.state.updateAccount('resellid', { balance: '50.00' })
  await truncate(t, 'processing_module, certificate_order, order_attempt, service_lock, idempotency_key, task, job, setting')
})

const queue = () => t.app.services.queue
const jobState = async (key: string) => (await t.db.pool.query('SELECT status, attempts, locked_by, last_error FROM job WHERE key = $1', [key])).rows[0]

async function runUntilDone (keys: string[], timeoutMs = 10_000) {
  t.app.services.runner.start()
  t.app.services.runner.wake()
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      const rows = (await t.db.pool.query("SELECT key FROM job WHERE key = ANY($1) AND status IN ('done', 'failed')", [keys])).rows
      if (rows.length === keys.length) return
      if (Date.now() > deadline) throw new Error('jobs did not finish')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    await t.app.services.runner.stop(5000)
  }
}

describe('the queue', () => {
  it('claims a due reconciliation before older due jobs of other kinds', async () => {
    const past = new Date(Date.now() - 60_000)
    for (let i = 0; i < 5; i++) await queue().enqueue({ kind: 'order.sync', key: `backlog-${i}`, payload: { orderId: 'x' }, runAt: past })
    await queue().enqueue({ kind: 'order.reconcile', key: 'reconcile:urgent', payload: { attemptId: 'x', checks: 0 } })
    const [first] = await queue().claim('w', 1, 30_000)
    expect(first?.key).toBe('reconcile:urgent')
    const next = await queue().claim('w', 1, 30_000)
    expect(next.map((j) => j.key)).toEqual(['backlog-0'])
  })

  it('gives each due job to one claimer only, even when claims race', async () => {
    for (let i = 0; i < 20; i++) await queue().enqueue({ kind: 'noop', key: `race-${i}` })
    const claims = await Promise.all(Array.from({ length: 5 }, (_, i) => queue().claim(`w${i}`, 10, 30_000)))
    const ids = claims.flat().map((j) => j.id)
    expect(ids).toHaveLength(20)
    expect(new Set(ids).size).toBe(20)
  })

  it('lets another worker take a job whose lease expired, and ignores the old holder afterwards', async () => {
    await queue().enqueue({ kind: 'noop', key: 'lease' })
    const [job] = await queue().claim('dead', 1, 200)
    expect(job).toBeDefined()
    expect(await queue().claim('alive', 1, 30_000)).toHaveLength(0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const [taken] = await queue().claim('alive', 1, 30_000)
    expect(taken?.id).toBe(job?.id)
    expect(taken?.attempts).toBe(2)
    expect(await queue().heartbeat(job!.id, 'dead', 30_000)).toBe(false)
    await queue().complete(job!.id, 'dead', job!.runAt)
    expect((await jobState('lease')).status).toBe('running')
  })

  it('runs a job once more when it is enqueued again while it runs, instead of losing that request', async () => {
    await queue().enqueue({ kind: 'noop', key: 'again' })
    const [job] = await queue().claim('w1', 1, 30_000)
    expect(job).toBeDefined()
    // Asked for again mid-run (a manual webhook retry, say): the run's end leaves it pending.
    await queue().enqueue({ kind: 'noop', key: 'again', payload: { manual: true } })
    await queue().complete(job!.id, 'w1', job!.runAt)
    expect((await jobState('again')).status).toBe('pending')
    const [second] = await queue().claim('w1', 1, 30_000)
    expect(second?.id).toBe(job?.id)
    expect(second?.payload).toEqual({ manual: true })
    // Not asked for again: done.
    await queue().complete(second!.id, 'w1', second!.runAt)
    expect((await jobState('again')).status).toBe('done')
  })

  it('retries a failing job with backoff, then marks it failed and opens a task', async () => {
    await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: { name: 'm', dataCenter: 'dc', department: 'ops-team', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false } })
    s.sim.state.addFault({ command: 'GetBalance', httpStatus: 500 })
    await queue().enqueue({ kind: 'balance.check', key: 'balance-check:retry', maxAttempts: 2 })
    await t.db.pool.query("UPDATE job SET attempts = 1 WHERE key = 'balance-check:retry'")
    await runUntilDone(['balance-check:retry'])
    const state = await jobState('balance-check:retry')
    expect(state.status).toBe('failed')
    expect(state.last_error).toMatch(/balance check failed/)
    const tasks = (await t.app.inject({ url: '/tasks', headers: auth('ops') })).json().items
    expect(tasks).toEqual([expect.objectContaining({ kind: 'job_failed', department: 'ops-team', lastError: expect.stringMatching(/HTTP|status/i) })])
  })

  it('releases its running jobs on a graceful stop, so they run again at once elsewhere', async () => {
    let release: () => void = () => {}
    const blocked = new Promise<void>((resolve) => { release = resolve })
    const runner = new JobRunner({
      queue: queue(),
      handlers: { slow: async () => { await blocked; return { kind: 'done' } } },
      worker: 'graceful',
      concurrency: 1,
      pollMs: 20,
      leaseMs: 60_000,
      log
    })
    await queue().enqueue({ kind: 'slow', key: 'slow-1' })
    runner.start()
    for (let i = 0; i < 100 && (await jobState('slow-1')).status !== 'running'; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    await runner.stop(100)
    release()
    const state = await jobState('slow-1')
    expect(state).toMatchObject({ status: 'pending', locked_by: null, attempts: 0 })
  })
})

describe('the scheduler', () => {
  it('finds due slots of the day within the lookback', () => {
    const now = new Date('2026-11-26T06:30:00Z')
    expect(dueSlots(['06:00', '18:00'], now, 6 * 3600_000).map((d) => d.toISOString())).toEqual(['2026-11-26T06:00:00.000Z'])
    expect(dueSlots(['06:00'], new Date('2026-11-26T13:00:00Z'), 6 * 3600_000)).toEqual([])
  })

  it('lets several instances offer a slot; it runs once', async () => {
    const now = () => new Date('2026-11-26T18:00:05Z')
    const a = new Scheduler({ queue: queue(), log, balanceCheckTimes: ['06:00', '18:00'], certsSweepTime: '03:00', now })
    const b = new Scheduler({ queue: queue(), log, balanceCheckTimes: ['06:00', '18:00'], certsSweepTime: '03:00', now })
    await Promise.all([a.tick(), b.tick(), a.tick()])
    const rows = (await t.db.pool.query("SELECT key FROM job WHERE kind = 'balance.check' ORDER BY key")).rows.map((r) => r.key)
    // The morning slot is older than the lookback: a missed check is not run half a day late.
    expect(rows).toEqual(['balance-check:2026-11-26T18:00:00.000Z'])
  })
})

describe('scheduled work', () => {
  async function checkBalances (key: string) {
    await queue().enqueue({ kind: 'balance.check', key })
    await runUntilDone([key])
  }
  const lowBalanceTasks = async () => (await t.app.inject({ url: '/tasks?status=open', headers: auth('ops') })).json().items.filter((x: { kind: string }) => x.kind === 'low_balance')

  it('opens one low-balance task per crossing, not one per check', async () => {
    await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: { name: 'low', dataCenter: 'dc', department: 'finance', sort: 1, minimalBalance: '100.00', apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false } })
    await checkBalances('balance-check:1')
    await checkBalances('balance-check:2')
    expect(await lowBalanceTasks()).toHaveLength(1)
    expect((await lowBalanceTasks())[0]).toMatchObject({ department: 'finance', message: expect.stringMatching(/50\.00/) })
    s.sim.state.updateAccount('resellid', { balance: '500.00' })
    await checkBalances('balance-check:3')
    expect(await lowBalanceTasks()).toHaveLength(1)
    s.sim.state.updateAccount('resellid', { balance: '20.00' })
    await checkBalances('balance-check:4')
    await checkBalances('balance-check:5')
    expect(await lowBalanceTasks()).toHaveLength(2)
  })

  it('sends no low-balance task without a minimal balance', async () => {
    await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: { name: 'none', dataCenter: 'dc', department: 'finance', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false } })
    await checkBalances('balance-check:none')
    expect(await lowBalanceTasks()).toHaveLength(0)
  })

  it('reports certificates on the account that no order refers to (the daily sweep)', async () => {
    s.sim.state.updateAccount('resellid', { balance: '500.00' })
    await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: { name: 'sweep', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false } })
    const ours = await t.app.inject({ method: 'POST', url: '/orders', headers: { ...auth('billing'), 'idempotency-key': '"sweep"' }, payload: { serviceId: 'svc-sweep', productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' } })
    expect(ours.statusCode, ours.body).toBe(201)
    const outside = await fetch(`${s.liveUrl}?command=PurchaseServices&uid=resellid&pw=resellpw&responsetype=xml&Service=certificate-comodo-essential&NumYears=1`)
    const outsideId = /<certid>(\d+)<\/certid>/i.exec(await outside.text())?.[1]
    await queue().enqueue({ kind: 'certs.sweep', key: 'certs-sweep:test' })
    await runUntilDone(['certs-sweep:test'])
    const tasks = (await t.app.inject({ url: '/tasks?status=open', headers: auth('ops') })).json().items.filter((x: { kind: string }) => x.kind === 'unrecorded_certificate')
    expect(tasks).toHaveLength(1)
    expect(tasks[0].title).toContain(String(outsideId))
  })

  it('reaps idempotency keys older than their retention, keeping younger ones', async () => {
    await t.db.pool.query(`INSERT INTO idempotency_key (id, caller, key, method, path, fingerprint, created_at) VALUES
      ('01900000-0000-7000-8000-000000000001', 'shop', 'old', 'POST', '/orders', 'x', now() - interval '73 hours'),
      ('01900000-0000-7000-8000-000000000002', 'shop', 'young', 'POST', '/orders', 'x', now() - interval '71 hours')`)
    await queue().enqueue({ kind: 'maintenance.reap', key: 'reap:test' })
    await runUntilDone(['reap:test'])
    expect((await t.db.pool.query('SELECT key FROM idempotency_key')).rows.map((r) => r.key)).toEqual(['young'])
  })
})
