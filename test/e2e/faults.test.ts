// Faults a production service meets: its database goes away under traffic (through a TCP proxy
// the test owns, never the shared server), and a SIGTERM lands during a burst of orders.
import { createServer, type Server, type Socket, connect } from 'node:net'
import pg from 'pg'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, TOKENS, type TestDatabase } from '../support/app.js'
import { call, freePort, startServiceProcess, startSimulatorProcess, type RunningProcess, type SimulatorProcess } from '../support/processes.js'
import { waitFor } from '../support/wait.js'

interface LedgerEntry { command: string, processed: boolean, certId?: number }

/** A TCP proxy to PostgreSQL that the test can cut and restore. */
class DatabaseProxy {
  private server?: Server
  private readonly sockets = new Set<Socket>()
  constructor (readonly port: number, private readonly target: { host: string, port: number }) {}

  async up (): Promise<void> {
    if (this.server) return
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host)
      this.sockets.add(client).add(upstream)
      const drop = () => { client.destroy(); upstream.destroy(); this.sockets.delete(client); this.sockets.delete(upstream) }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve))
  }

  /** The database is gone: open connections break, new ones are refused. */
  async down (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await new Promise<void>((resolve) => this.server ? this.server.close(() => resolve()) : resolve())
    this.server = undefined
  }
}

let database: TestDatabase
let sim: SimulatorProcess
let proxy: DatabaseProxy
let proxiedUrl: string
let db: pg.Pool
const running: RunningProcess[] = []

const ledger = async (command: string) => sim.control<LedgerEntry[]>('GET', `/ledger?command=${command}`)
const order = (serviceId: string) => ({ serviceId, productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' })

const until = <T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(probe, { timeoutMs, ignoreErrors: true })

beforeAll(async () => {
  sim = await startSimulatorProcess({ SIM_ACCOUNTS: 'resellid:resellpw:100000.00' })
  database = await createTestDatabase()
  db = new pg.Pool({ connectionString: database.url, max: 2 })
  const url = new URL(database.url)
  proxy = new DatabaseProxy(await freePort(), { host: url.hostname, port: Number(url.port || 5432) })
  await proxy.up()
  url.host = `127.0.0.1:${proxy.port}`
  proxiedUrl = url.toString()
}, 60_000)

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()))
  await proxy?.down()
  await db?.end()
  await sim?.kill()
  await database?.drop()
})

async function service (extra: Record<string, string> = {}) {
  const p = await startServiceProcess(proxiedUrl, {
    ENOM_ALLOWED_ORIGINS: `https://reseller.enom.com,${sim.url}`,
    DB_POOL_ACQUIRE_TIMEOUT_MS: '1000',
    HEALTH_DB_TIMEOUT_MS: '500',
    ENOM_PURCHASE_TIMEOUT_MS: '1500',
    RECONCILE_DELAY_SECONDS: '0',
    SCHEDULER_TICK_MS: '500',
    JOB_POLL_MS: '100',
    SPEND_LIMIT_DAILY_COUNT: '100000',
    ...extra
  })
  running.push(p)
  return p
}

describe('the database goes away under traffic', () => {
  it('answers 503 fast while it is gone, recovers without a restart, and loses or doubles no order', async () => {
    const s = await service({ JOBS_ENABLED: 'true' })
    const created = await call(s.url, 'POST', '/modules', TOKENS.admin, { name: 'db-fault', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: sim.apiUrl, username: 'resellid', password: 'resellpw' })
    expect(created.status, created.text).toBe(201)
    let n = 0
    const results: Array<{ status: number, ms: number, code?: string, id?: string }> = []
    const traffic = { on: true }
    const loop = (async () => {
      while (traffic.on) {
        const started = Date.now()
        const res = await call(s.url, 'POST', '/orders', TOKENS.billing, order(`svc-db-${n}`), { 'idempotency-key': `"db-${n++}"` }).catch(() => ({ status: 0, json: undefined }))
        results.push({ status: res.status, ms: Date.now() - started, code: res.json?.code, id: res.json?.id })
      }
    })()
    await until(async () => results.filter((r) => r.status === 201).length >= 3 ? true : undefined)

    await proxy.down()
    const downAt = results.length
    const started = Date.now()
    // /health may answer from its one-second cache of the last probe first; then the probe
    // fails within HEALTH_DB_TIMEOUT_MS (500). The margin is for a machine busy with other files.
    let health = await request(`${s.url}/health`)
    while (health.statusCode === 200 && Date.now() - started < 3000) {
      await health.body.dump()
      await new Promise((resolve) => setTimeout(resolve, 100))
      health = await request(`${s.url}/health`)
    }
    expect(health.statusCode).toBe(503)
    expect((await health.body.json() as { db: string }).db).toBe('down')
    expect(Date.now() - started).toBeLessThan(3000)
    const read = await call(s.url, 'GET', '/orders', TOKENS.ops)
    expect(read.status).toBe(503)
    expect(read.json.code).toBe('DATABASE_UNAVAILABLE')
    expect((await request(`${s.url}/health/live`)).statusCode).toBe(200)
    await until(async () => results.length >= downAt + 3 ? true : undefined)

    await proxy.up()
    await until(async () => (await request(`${s.url}/health`)).statusCode === 200 ? true : undefined)
    const before = results.filter((r) => r.status === 201).length
    await until(async () => results.filter((r) => r.status === 201).length > before + 2 ? true : undefined)
    traffic.on = false
    await loop

    // While the database was gone, requests failed fast with 503s, never hung.
    const outage = results.slice(downAt).filter((r) => r.status === 503)
    expect(outage.length).toBeGreaterThan(0)
    expect(Math.max(...outage.map((r) => r.ms))).toBeLessThan(8000)
    expect(results.every((r) => [201, 202, 503].includes(r.status) || (r.status === 502 && r.code === 'OUTCOME_UNKNOWN'))).toBe(true)

    // Every purchase eNom made belongs to exactly one order, once reconciliation is done.
    await until(async () => {
      const { rows } = await db.query("SELECT count(*)::int AS n FROM certificate_order WHERE status IN ('purchasing', 'outcome_unknown')")
      return rows[0].n === 0 ? true : undefined
    }, 40_000)
    const purchases = (await ledger('PurchaseServices')).filter((p) => p.processed)
    const { rows } = await db.query('SELECT enom_cert_id FROM certificate_order WHERE enom_cert_id IS NOT NULL')
    expect(rows.map((r) => r.enom_cert_id).sort()).toEqual(purchases.map((p) => String(p.certId)).sort())
    for (const accepted of results.filter((r) => r.status === 201)) {
      expect((await db.query('SELECT 1 FROM certificate_order WHERE id = $1', [accepted.id])).rowCount).toBe(1)
    }
    expect(await s.stop()).toBe(0)
  }, 120_000)
})

describe('SIGTERM during a burst of orders', () => {
  it('finishes the requests in flight, refuses new ones, releases its jobs, exits 0, and keeps every accepted order', async () => {
    await proxy.up() // in case the test above failed while the database was cut off
    // Each purchase takes 700 ms at eNom; the burst ends well inside the grace period.
    const s = await service({ JOBS_ENABLED: 'true', SHUTDOWN_GRACE_MS: '20000', JOB_LEASE_SECONDS: '60' })
    const created = await call(s.url, 'POST', '/modules', TOKENS.admin, { name: `sigterm-${Date.now()}`, dataCenter: 'dc', department: 'ssl', sort: 0, apiUrl: sim.apiUrl, username: 'resellid', password: 'resellpw', checkConnection: false })
    // A job the instance is busy with when the signal comes: a status read that hangs.
    const busy = await call(s.url, 'POST', '/orders', TOKENS.billing, { ...order('svc-term-job'), moduleId: created.json.id }, { 'idempotency-key': '"term-job"' })
    expect(busy.status).toBe(201)
    await sim.control('POST', '/faults', { command: 'CertGetCertDetail', latencyMs: 60_000, phase: 'before' })
    await db.query('UPDATE job SET run_at = now() WHERE key = $1', [`sync:${busy.json.id}`])
    await until(async () => (await db.query("SELECT 1 FROM job WHERE key = $1 AND status = 'running'", [`sync:${busy.json.id}`])).rowCount === 1 ? true : undefined)

    await sim.control('POST', '/faults', { command: 'PurchaseServices', latencyMs: 700 })
    const burst = Array.from({ length: 12 }, (_, i) =>
      call(s.url, 'POST', '/orders', TOKENS.billing, { ...order(`svc-term-${i}`), moduleId: created.json.id }, { 'idempotency-key': `"term-${i}"` })
        .then((r) => ({ status: r.status, id: r.json?.id as string | undefined }), () => ({ status: 0, id: undefined })))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const exit = s.stop('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const late = await call(s.url, 'GET', '/health/live', TOKENS.ops).then((r) => r.status, () => 0)
    expect([0, 503]).toContain(late)
    const outcomes = await Promise.all(burst)
    expect(await exit).toBe(0)

    const accepted = outcomes.filter((o) => o.status === 201)
    expect(accepted.length).toBeGreaterThan(0)
    for (const o of outcomes) expect([201, 503, 0], JSON.stringify(o)).toContain(o.status)
    for (const o of accepted) {
      const { rows } = await db.query('SELECT enom_cert_id FROM certificate_order WHERE id = $1', [o.id])
      expect(rows[0]?.enom_cert_id).toEqual(expect.any(String))
    }
    // The connections of the answered requests were closed as they became idle: the server did
    // not wait for their keep-alive timeout past the grace period.
    expect(s.output()).not.toContain('requests still running after the grace period are cut')
    const job = (await db.query('SELECT status, locked_by FROM job WHERE key = $1', [`sync:${busy.json.id}`])).rows[0]
    expect(job, s.output().split('\n').filter((l) => /job|releas|shut|stop/i.test(l)).join('\n').slice(-6000)).toMatchObject({ status: 'pending', locked_by: null })
    await sim.control('DELETE', '/faults')
  }, 90_000)
})
