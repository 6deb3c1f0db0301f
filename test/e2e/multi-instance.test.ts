// Several instances on one database, each a separate OS process with its own pool, the simulator
// a third process whose ledger is the count: idempotency and one-order-per-service hold across
// instances, concurrent purchases on one account each buy once, a job held by a killed instance is taken
// over after its lease, and an order whose instance died mid-purchase is reconciled, not rebought.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, TOKENS, type TestDatabase } from '../support/app.js'
import { call, startServiceProcess, startSimulatorProcess, type RunningProcess, type SimulatorProcess } from '../support/processes.js'
import { contacts, makeCsr } from '../support/enom.js'
import { waitFor } from '../support/wait.js'

interface LedgerEntry { command: string, processed: boolean, certId?: number, outcome: string }

let database: TestDatabase
let db: pg.Pool
let sim: SimulatorProcess
let env: Record<string, string>
const running: RunningProcess[] = []

async function instance (extra: Record<string, string> = {}): Promise<RunningProcess> {
  const p = await startServiceProcess(database.url, { ...env, ...extra })
  running.push(p)
  return p
}

const ledger = async (command: string) => (await sim.control<LedgerEntry[]>('GET', `/ledger?command=${command}`))

const until = <T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(probe, { timeoutMs })

const order = (serviceId: string) => ({ serviceId, productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' })

beforeAll(async () => {
  sim = await startSimulatorProcess({ SIM_ACCOUNTS: 'resellid:resellpw:100000.00' })
  database = await createTestDatabase()
  db = new pg.Pool({ connectionString: database.url, max: 2 })
  env = {
    ENOM_ALLOWED_ORIGINS: `https://reseller.enom.com,${sim.url}`,
    JOBS_ENABLED: 'false',
    JOB_POLL_MS: '100',
    ENOM_PURCHASE_TIMEOUT_MS: '1500',
    RECONCILE_DELAY_SECONDS: '0',
    SCHEDULER_TICK_MS: '500',
    JOB_LEASE_SECONDS: '5',
    SYNC_INTERVAL_SECONDS: '1'
  }
  const first = await instance()
  const created = await call(first.url, 'POST', '/modules', TOKENS.admin, {
    name: 'sim', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: sim.apiUrl, username: 'resellid', password: 'resellpw'
  })
  expect(created.status, created.text).toBe(201)
  await instance()
}, 90_000)

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()))
  await sim?.kill()
  await db?.end()
  await database?.drop()
})

describe('two service processes on one database', () => {
  it('buy once for one Idempotency-Key sent to both at the same moment', async () => {
    const [a, b] = running as [RunningProcess, RunningProcess]
    const before = (await ledger('PurchaseServices')).length
    const body = order('svc-idem')
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      call((i % 2 === 0 ? a : b).url, 'POST', '/orders', TOKENS.billing, body, { 'idempotency-key': '"same-key-both"' })))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 201).length, statuses.join(',')).toBeGreaterThanOrEqual(1)
    expect(statuses.every((s) => s === 201 || s === 409), statuses.join(',')).toBe(true)
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.json.id))
    expect(ids.size).toBe(1)
    expect((await ledger('PurchaseServices')).length - before).toBe(1)
    // Later retries replay the stored answer on either instance.
    const replay = await call(b.url, 'POST', '/orders', TOKENS.billing, body, { 'idempotency-key': '"same-key-both"' })
    expect(replay.status).toBe(201)
    expect(replay.json.id).toBe([...ids][0])
  }, 60_000)

  it('keep one open order per service across instances, whatever the keys', async () => {
    const [a, b] = running as [RunningProcess, RunningProcess]
    const before = (await ledger('PurchaseServices')).length
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      call((i % 2 === 0 ? a : b).url, 'POST', '/orders', TOKENS.billing, order('svc-single'), { 'idempotency-key': `"k-${i}"` })))
    expect(results.filter((r) => r.status === 201)).toHaveLength(1)
    expect(results.filter((r) => r.status === 409).every((r) => r.json.code === 'ORDER_EXISTS')).toBe(true)
    expect((await ledger('PurchaseServices')).length - before).toBe(1)
  }, 60_000)

  it('buy each of many concurrent orders exactly once, each with its own certificate', async () => {
    const [a, b] = running as [RunningProcess, RunningProcess]
    const before = (await ledger('PurchaseServices')).length
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      call((i % 2 === 0 ? a : b).url, 'POST', '/orders', TOKENS.billing, order(`svc-many-${i}`), { 'idempotency-key': `"many-${i}"` })))
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(201))
    const purchases = (await ledger('PurchaseServices')).slice(before)
    expect(purchases).toHaveLength(16)
    const certIds = results.map((r) => r.json.enom.certId)
    expect(new Set(certIds).size).toBe(16)
    expect(certIds.sort()).toEqual(purchases.map((p) => String(p.certId)).sort())
  }, 90_000)
})

describe('instances that die', () => {
  it('hand a job held by a SIGKILLed instance to another one after its lease', async () => {
    // Enough job slots that the syncs of the earlier tests' orders (stuck like this one once the
    // fault below is set) cannot keep this order's sync from being claimed.
    const worker = await instance({ JOBS_ENABLED: 'true', JOB_CONCURRENCY: '32' })
    const placed = await call(worker.url, 'POST', '/orders', TOKENS.billing, order('svc-takeover'), { 'idempotency-key': '"takeover"' })
    expect(placed.status, placed.text).toBe(201)
    // Every status read hangs, so the worker is stuck inside the order's sync job when it dies.
    await sim.control('POST', '/faults', { command: 'CertGetCertDetail', latencyMs: 60_000, phase: 'before' })
    const csr = await makeCsr('www.example.com')
    const configured = await call(worker.url, 'POST', `/orders/${placed.json.id}/configure`, TOKENS.billing,
      { csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() }, { 'idempotency-key': '"takeover-configure"' })
    expect(configured.status, configured.text).toBe(200)
    // The worker holds the order's sync job (claimed, leased, stuck in eNom) when it dies.
    const jobKey = `sync:${placed.json.id}`
    const held = await until(async () => {
      const { rows } = await db.query('SELECT status, locked_by, attempts FROM job WHERE key = $1', [jobKey])
      return rows[0]?.status === 'running' ? rows[0] : undefined
    })
    await worker.kill()
    await sim.control('DELETE', '/faults')
    const rescuer = await instance({ JOBS_ENABLED: 'true' })
    const issued = await until(async () => {
      const o = await call(rescuer.url, 'GET', `/orders/${placed.json.id}`, TOKENS.ops)
      return o.json.status === 'issued' ? o.json : undefined
    }, 40_000)
    expect(issued.certificate.serialNumber).toEqual(expect.any(String))
    const after = (await db.query('SELECT locked_by, attempts FROM job WHERE key = $1', [jobKey])).rows[0]
    // The same job row, claimed again by the rescuer (or finished by it), after the lease ran out.
    expect(after.attempts).toBeGreaterThanOrEqual(0)
    expect(held.locked_by).not.toBe(after.locked_by)
    await rescuer.stop()
  }, 90_000)

  it('reconcile an order whose instance was SIGKILLed mid-purchase: exactly one purchase', async () => {
    const victim = await instance()
    const before = (await ledger('PurchaseServices')).length
    // eNom processes the purchase, then takes long to answer: the instance dies waiting.
    await sim.control('POST', '/faults', { command: 'PurchaseServices', latencyMs: 30_000, times: 1 })
    const pending = call(victim.url, 'POST', '/orders', TOKENS.billing, order('svc-crash'), { 'idempotency-key': '"crash"' }).catch(() => undefined)
    await until(async () => (await ledger('PurchaseServices')).length > before ? true : undefined)
    await victim.kill()
    await pending
    const survivor = await instance({ JOBS_ENABLED: 'true' })
    const attached = await until(async () => {
      const list = await call(survivor.url, 'GET', '/orders?serviceId=svc-crash', TOKENS.ops)
      const o = list.json.items[0]
      return o && o.status === 'awaiting_configuration' ? o : undefined
    }, 40_000).catch(async (e) => {
      console.log('DBG attempts', JSON.stringify((await db.query("SELECT a.command, a.state, a.snapshot, a.error_code, a.started_at, o.status, o.service_id, o.error_code AS oerr FROM order_attempt a JOIN certificate_order o ON o.id = a.order_id WHERE a.command = 'PurchaseServices' AND (a.state <> 'succeeded' OR o.service_id = 'svc-crash')")).rows))
      console.log('DBG jobs', JSON.stringify((await db.query("SELECT key, status, attempts, last_error, run_at, locked_by, payload FROM job WHERE kind <> 'attempts.recover' OR status = 'running' ORDER BY key")).rows))
      console.log('DBG tasks', JSON.stringify((await db.query('SELECT kind, message FROM task')).rows))
      throw e
    })
    const purchases = (await ledger('PurchaseServices')).slice(before)
    expect(purchases).toHaveLength(1)
    expect(attached.enom.certId).toBe(String(purchases[0]?.certId))
    // A retry of the dead request's key answers with that order, buying nothing.
    const retry = await call(survivor.url, 'POST', '/orders', TOKENS.billing, order('svc-crash'), { 'idempotency-key': '"crash"' })
    expect([200, 409]).toContain(retry.status)
    expect((await ledger('PurchaseServices')).slice(before)).toHaveLength(1)
    await survivor.stop()
  }, 90_000)
})
