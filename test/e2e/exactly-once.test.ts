// Never charged twice, never an order lost: idempotency keys, unknown outcomes and their
// reconciliation, spend guards. The simulator's ledger is the count of purchases.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'
import { fingerprintOf } from '../../src/plugins/idempotency.js'
import { waitFor } from '../support/wait.js'
import { accountKey } from '../../src/domain/orders/accounts.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp

const RAPID = 'certificate-rapidssl-rapidssl'

beforeAll(async () => {
  s = await startSimulatorForTest()
  database = await createTestDatabase()
  t = await startTestApp(database, {
    ENOM_ALLOWED_ORIGINS: s.allowedOrigins,
    ENOM_PURCHASE_TIMEOUT_MS: '1500',
    JOB_POLL_MS: '50',
    RECONCILE_DELAY_SECONDS: '0',
    SPEND_LIMIT_DAILY_COUNT: '1000'
  })
  t.app.services.startJobs()
})
afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
})
beforeEach(async () => {
  s.sim.state.reset()
  await truncate(t, 'processing_module, certificate_order, order_attempt, service_lock, idempotency_key, task, job, setting')
  const m = await t.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: { name: 'sim', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false }
  })
  expect(m.statusCode).toBe(201)
})

const order = (over: Record<string, unknown> = {}) => ({ serviceId: `svc-${Math.random().toString(36).slice(2)}`, productCode: RAPID, years: 1, domain: 'www.example.com', ...over })
/** `key: null` sends no Idempotency-Key at all. */
const place = (body: Record<string, unknown>, key: string | null = `"${Math.random()}"`, role: 'billing' | 'admin' = 'billing') =>
  t.app.inject({ method: 'POST', url: '/orders', headers: { ...auth(role), ...(key === null ? {} : { 'idempotency-key': key }) }, payload: body })
const purchases = () => s.sim.state.ledger({ command: 'PurchaseServices' })

const until = <T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000) => waitFor(probe, { timeoutMs, intervalMs: 50 })

const orderStatus = async (id: string) => (await t.app.inject({ url: `/orders/${id}`, headers: auth('ops') })).json()

describe('Idempotency-Key', () => {
  it('replays the stored answer for the same key and body; the purchase happens once', async () => {
    const body = order()
    const first = await place(body, '"key-1"')
    expect(first.statusCode, first.body).toBe(201)
    const second = await place(body, '"key-1"')
    expect(second.statusCode).toBe(201)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(second.json()).toEqual(first.json())
    expect(purchases()).toHaveLength(1)
  })

  it('answers before the outcome is stored; a retry with the key waits for it here, and so does idempotencyStored', async () => {
    const repo = t.app.services.idempotency
    const complete = repo.complete
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    repo.complete = async (...args: Parameters<typeof complete>) => { await gate; return complete.apply(repo, args) }
    try {
      const body = order()
      const first = await place(body, '"key-behind"')
      expect(first.statusCode, first.body).toBe(201)
      const stored = async () => (await t.db.pool.query("SELECT completed_at FROM idempotency_key WHERE key = 'key-behind'")).rows[0]?.completed_at
      expect(await stored()).toBeNull()
      let retried = false
      const retry = place(body, '"key-behind"').finally(() => { retried = true })
      let flushed = false
      const allStored = t.app.idempotencyStored().then(() => { flushed = true })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(retried).toBe(false)
      expect(flushed).toBe(false)
      open()
      const second = await retry
      await allStored
      expect(second.statusCode).toBe(201)
      expect(second.headers['idempotent-replayed']).toBe('true')
      expect(second.json()).toEqual(first.json())
      expect(await stored()).toBeInstanceOf(Date)
      expect(purchases()).toHaveLength(1)
    } finally {
      repo.complete = complete
      open()
    }
  })

  it('closing waits for an order still being bought, although Fastify has no connection to wait for', async () => {
    const app = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, SPEND_LIMIT_DAILY_COUNT: '1000' })
    s.sim.state.addFault({ command: 'PurchaseServices', latencyMs: 400 })
    try {
      const serviceId = `svc-closing-${Math.random().toString(36).slice(2)}`
      let answered: number | undefined
      const inFlight = app.app.inject({ method: 'POST', url: '/orders', headers: { ...auth('billing'), 'idempotency-key': '"key-closing"' }, payload: order({ serviceId }) })
        .then((r) => { answered = r.statusCode })
      await until(async () => purchases().length === 1 ? true : undefined)
      await app.close()
      expect(answered).toBe(201)
      const { rows } = await t.db.pool.query(`SELECT o.status::text AS status, a.state::text AS state, k.completed_at IS NOT NULL AS stored
        FROM certificate_order o JOIN order_attempt a ON a.order_id = o.id JOIN idempotency_key k ON k.order_id = o.id WHERE o.service_id = $1`, [serviceId])
      expect(rows).toEqual([{ status: 'awaiting_configuration', state: 'succeeded', stored: true }])
      await inFlight
    } finally {
      s.sim.state.clearFaults()
    }
  })

  it('answers 422 for the same key with another body, and 400 for a missing or malformed key', async () => {
    expect((await place(order({ serviceId: 'a' }), '"key-2"')).statusCode).toBe(201)
    const reused = await place(order({ serviceId: 'b' }), '"key-2"')
    expect(reused.statusCode).toBe(422)
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    const missing = await place(order(), null)
    expect(missing.statusCode).toBe(400)
    expect(missing.json().code).toBe('IDEMPOTENCY_KEY_REQUIRED')
    for (const bad of ['"unterminated', '"' + 'x'.repeat(256) + '"', '""', 'two words', '"tab\there"']) {
      const res = await place(order(), bad)
      expect(res.statusCode, bad).toBe(400)
      expect(res.json().code).toBe('IDEMPOTENCY_KEY_INVALID')
    }
    expect((await place(order(), 'plain-token-42')).statusCode).toBe(201)
    expect(purchases()).toHaveLength(2)
  })

  it('answers 409 while the first request with the key is in flight', async () => {
    s.sim.state.addFault({ command: 'PurchaseServices', latencyMs: 700, phase: 'before' })
    const body = order()
    const first = place(body, '"key-3"')
    await until(async () => (await t.db.pool.query("SELECT 1 FROM idempotency_key WHERE key = 'key-3'")).rowCount ? true : undefined)
    const second = await place(body, '"key-3"')
    expect(second.statusCode).toBe(409)
    expect(second.json().code).toBe('IDEMPOTENCY_KEY_IN_USE')
    expect((await first).statusCode).toBe(201)
    expect(purchases()).toHaveLength(1)
  })

  it('releases the key after a validation failure, so a corrected retry succeeds', async () => {
    const bad = await place(order({ years: 7 }), '"key-4"')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().code).toBe('YEARS_NOT_AVAILABLE')
    const good = await place(order({ years: 1 }), '"key-4"')
    expect(good.statusCode, good.body).toBe(201)
  })

  it('never replays a 5xx: without an order the retry runs again, with one it answers with that order', async () => {
    s.sim.state.addFault({ command: 'GetBalance', httpStatus: 503 })
    const body = order()
    const failed = await place(body, '"key-5xx"')
    expect(failed.statusCode, failed.body).toBe(502)
    expect(purchases()).toHaveLength(0)
    s.sim.state.clearFaults()
    const retried = await place(body, '"key-5xx"')
    expect(retried.statusCode, retried.body).toBe(201)
    expect(retried.headers['idempotent-replayed']).toBeUndefined()
    expect(purchases()).toHaveLength(1)

    // A request that created its order and then died on an unexpected error hands its key back
    // open to take-over; the retry answers with the order, buying nothing.
    const second = order()
    const { rows: [row] } = await t.db.pool.query(
      "INSERT INTO idempotency_key (id, caller, key, method, path, fingerprint, locked_at, created_at) VALUES (gen_random_uuid(), 'shop', 'key-500', 'POST', '/orders', $1, now(), now()) RETURNING id",
      [fingerprintOf('POST', '/orders', second)])
    const placed = await place(second)
    expect(placed.statusCode).toBe(201)
    await t.db.pool.query('UPDATE idempotency_key SET order_id = $1 WHERE id = $2', [placed.json().id, row.id])
    await t.app.services.idempotency.giveBack(row.id)
    const answer = await place(second, '"key-500"')
    expect(answer.statusCode, answer.body).toBe(200)
    expect(answer.headers['idempotent-replayed']).toBe('true')
    expect(answer.json().id).toBe(placed.json().id)
    expect(purchases()).toHaveLength(2)
  })

  it('keeps keys per caller', async () => {
    const body = order()
    expect((await place(body, '"shared"', 'billing')).statusCode).toBe(201)
    // Another caller with the same key is a new request (and finds the service's open order).
    const other = await place(body, '"shared"', 'admin')
    expect(other.statusCode).toBe(409)
    expect(other.json().code).toBe('ORDER_EXISTS')
  })
})

describe('one open order per service', () => {
  it('answers 409 with the existing order, whatever the key', async () => {
    const first = (await place(order({ serviceId: 'svc-one' }))).json()
    const second = await place(order({ serviceId: 'svc-one', years: 2 }))
    expect(second.statusCode).toBe(409)
    expect(second.json()).toMatchObject({ code: 'ORDER_EXISTS', orderId: first.id })
    expect(purchases()).toHaveLength(1)
  })
})

describe('unknown outcomes', () => {
  it('attaches the exact CertID when the connection broke after eNom debited the purchase', async () => {
    s.sim.state.addFault({ command: 'PurchaseServices', resetAfterProcessing: true, times: 1 })
    const res = await place(order())
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json().status).toBe('outcome_unknown')
    const bought = purchases()
    expect(bought).toHaveLength(1)
    expect(bought[0]?.processed).toBe(true)
    const attached = await until(async () => { const o = await orderStatus(res.json().id); return o.status === 'awaiting_configuration' ? o : undefined })
    expect(attached.enom.certId).toBe(String(bought[0]?.certId))
    expect(purchases()).toHaveLength(1)
    const attempts = (await t.db.pool.query('SELECT state FROM order_attempt WHERE order_id = $1', [res.json().id])).rows
    expect(attempts.map((a) => a.state)).toEqual(['reconciled_found'])
  })

  it('attaches after a timeout too (eNom answered after the purchase timeout)', async () => {
    s.sim.state.addFault({ command: 'PurchaseServices', latencyMs: 2500, times: 1 })
    const res = await place(order())
    expect(res.statusCode, res.body).toBe(202)
    const attached = await until(async () => { const o = await orderStatus(res.json().id); return o.status === 'awaiting_configuration' ? o : undefined })
    expect(attached.enom.certId).toBe(String(purchases()[0]?.certId))
    expect(purchases()).toHaveLength(1)
  })

  it('fails the order and opens a task when the connection broke before eNom processed it', async () => {
    s.sim.state.addFault({ command: 'PurchaseServices', resetBeforeProcessing: true, times: 1 })
    const res = await place(order())
    expect(res.statusCode).toBe(202)
    const failed = await until(async () => { const o = await orderStatus(res.json().id); return o.status === 'failed' ? o : undefined })
    expect(failed.error.code).toBe('PURCHASE_NOT_MADE')
    expect(s.sim.state.ledger({ command: 'PurchaseServices' }).filter((e) => e.processed)).toHaveLength(0)
    const tasks = (await t.app.inject({ url: `/tasks?orderId=${failed.id}`, headers: auth('ops') })).json()
    expect(tasks.items).toEqual([expect.objectContaining({ kind: 'purchase_absent', department: 'ssl', status: 'open' })])
    // The service can be ordered for again, and nothing was resent in between.
    expect((await place(order({ serviceId: failed.serviceId }))).statusCode).toBe(201)
    expect(s.sim.state.ledger({ command: 'PurchaseServices' })).toHaveLength(2)
  })

  it('does not mistake a purchase made outside the service for its own', async () => {
    s.sim.state.addFault({ command: 'PurchaseServices', resetBeforeProcessing: true, times: 1 })
    const res = await place(order())
    expect(res.statusCode).toBe(202)
    const outside = await fetch(`${s.liveUrl}?command=PurchaseServices&uid=resellid&pw=resellpw&responsetype=xml&Service=${RAPID}&NumYears=1`)
    expect(await outside.text()).toMatch(/<certid>/i)
    const failed = await until(async () => { const o = await orderStatus(res.json().id); return o.status === 'failed' ? o : undefined })
    expect(failed.enom.certId).toBeNull()
  })

  it('settles concurrent purchases on one account together when several answers are lost: each certificate bought goes to exactly one order', async () => {
    // Of ten purchases sent at once, three are debited and lose their answer, one is lost before
    // eNom processes it; the rest answer. Their windows overlap, so they are judged together.
    s.sim.state.addFault({ command: 'PurchaseServices', resetAfterProcessing: true, times: 3 })
    s.sim.state.addFault({ command: 'PurchaseServices', resetBeforeProcessing: true, times: 1 })
    const results = await Promise.all(Array.from({ length: 10 }, () => place(order())))
    for (const r of results) expect([201, 202, 503], r.body).toContain(r.statusCode)
    const placed = results.filter((r) => r.statusCode !== 503).map((r) => r.json().id as string)
    // All four lost answers belong to orders that were accepted: judged as one group of four.
    expect(results.filter((r) => r.statusCode === 202)).toHaveLength(4)
    const settled = await until(async () => {
      const all = await Promise.all(placed.map(orderStatus))
      return all.every((o) => !['purchasing', 'outcome_unknown'].includes(o.status)) ? all : undefined
    }, 20_000)
    const bought = purchases().filter((p) => p.processed).map((p) => String(p.certId)).sort()
    const owned = settled.map((o) => o.enom.certId).filter((c): c is string => c !== null).sort()
    expect(owned).toEqual(bought)
    expect(new Set(owned).size).toBe(owned.length)
    // Exactly the purchase lost before processing failed; nothing was left to people.
    expect(purchases().length - bought.length).toBe(1)
    expect(settled.filter((o) => o.status === 'failed').map((o) => o.error.code)).toEqual(['PURCHASE_NOT_MADE'])
    const { rows } = await t.db.pool.query("SELECT kind FROM task WHERE kind = 'reconciliation_ambiguous'")
    expect(rows).toHaveLength(0)
    // Nothing was bought twice: one purchase call per order that got past the guards.
    expect(purchases()).toHaveLength(placed.length)
  }, 30_000)

  it('waits for a purchase still in flight on the account before judging one whose answer was lost', async () => {
    // A is debited at once and loses its answer 800 ms later; B, sent meanwhile, is debited at
    // once and answers after 1 s. When A is judged, B's certificate is in A's window but not yet
    // recorded: judged then, A would have two candidates.
    s.sim.state.addFault({ command: 'PurchaseServices', resetAfterProcessing: true, latencyMs: 800, times: 1 })
    s.sim.state.addFault({ command: 'PurchaseServices', latencyMs: 1000, times: 1 })
    const a = place(order())
    await until(async () => purchases().some((p) => p.processed) ? true : undefined)
    const b = await place(order())
    expect(b.statusCode, b.body).toBe(201)
    const lost = await a
    expect(lost.statusCode, lost.body).toBe(202)
    const [first, second] = purchases()
    const attached = await until(async () => { const o = await orderStatus(lost.json().id); return o.status === 'awaiting_configuration' ? o : undefined })
    expect(attached.enom.certId).toBe(String(first?.certId))
    expect(b.json().enom.certId).toBe(String(second?.certId))
    expect((await t.db.pool.query("SELECT 1 FROM task WHERE kind = 'reconciliation_ambiguous'")).rowCount).toBe(0)
  })

  it('refuses a new purchase on an account whose earlier purchase has an unknown outcome, buying nothing, and asks for its reconciliation', async () => {
    const module = (await t.db.pool.query<{ id: string }>('SELECT id::text FROM processing_module')).rows[0] as { id: string }
    const repo = t.app.services.orderRepo
    const lostId = '01900000-0000-7000-8000-00000000abc1'
    await repo.insert({ id: lostId, moduleId: module.id, caller: 'shop', serviceId: 'svc-lost', environment: 'live', productCode: RAPID, prodType: 180, family: 'rapidssl', years: 1, domain: 'lost.example.com', sans: [], status: 'outcome_unknown', amount: '10.00', renewalOfId: null })
    const attempt = await repo.insertAttempt({ id: '01900000-0000-7000-8000-00000000abc2', orderId: lostId, accountKey: accountKey(s.liveUrl, 'resellid'), command: 'PurchaseServices', state: 'unknown', caller: 'shop', requestId: null, startedAt: new Date(), snapshot: { maxCertId: 0 } })
    const refused = await place(order())
    expect(refused.statusCode, refused.body).toBe(503)
    expect(refused.json().code).toBe('RECONCILIATION_PENDING')
    expect(refused.headers['retry-after']).toBe('30')
    expect(purchases()).toHaveLength(0)
    const { rows } = await t.db.pool.query('SELECT kind FROM job WHERE key = $1', [`reconcile:${attempt.id}`])
    expect(rows).toEqual([{ kind: 'order.reconcile' }])
  })

  it('shares one CertID snapshot among orders arriving together on one account, read before any of their purchases', async () => {
    // An account of its own: a job of an earlier test (a reconciliation paging CertGetCerts on
    // the shared account) may still be running.
    s.sim.state.addAccount({ uid: 'sharer', pw: 'sharer-pw', balance: '5000.00' })
    const m = await t.app.inject({
      method: 'POST',
      url: '/modules',
      headers: auth('admin'),
      payload: { name: 'sharer', dataCenter: 'dc', department: 'ssl', sort: 2, apiUrl: s.liveUrl, username: 'sharer', password: 'sharer-pw', checkConnection: false }
    })
    expect(m.statusCode, m.body).toBe(201)
    // Long enough for all five to arrive while the first reading is out, even on a busy machine.
    s.sim.state.addFault({ uid: 'sharer', command: 'CertGetCerts', latencyMs: 1000 })
    const results = await Promise.all(Array.from({ length: 5 }, () => place(order({ moduleId: m.json().id }))))
    expect(results.map((r) => r.statusCode), results.map((r) => r.body).join('\n')).toEqual([201, 201, 201, 201, 201])
    const [snapshotRead, ...others] = s.sim.state.ledger({ uid: 'sharer', command: 'CertGetCerts' })
    expect(others).toHaveLength(0)
    const bought = s.sim.state.ledger({ uid: 'sharer', command: 'PurchaseServices' })
    expect(bought).toHaveLength(5)
    for (const p of bought) expect(p.seq).toBeGreaterThan(snapshotRead?.seq as number)
    const { rows } = await t.db.pool.query("SELECT DISTINCT (a.snapshot->>'maxCertId')::int AS max FROM order_attempt a JOIN certificate_order o ON o.id = a.order_id WHERE a.command = 'PurchaseServices' AND o.module_id = $1", [m.json().id])
    expect(rows).toHaveLength(1)
    for (const r of results) expect(Number(r.json().enom.certId)).toBeGreaterThan(rows[0].max)
    s.sim.state.clearFaults()
  })

  it('finds the certificate by OrderID when eNom confirms a purchase without a CertID', async () => {
    s.sim.state.updateAccount('resellid', { omitCertIdInPurchase: true })
    const res = await place(order())
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().enom.certId).toBe(String(purchases()[0]?.certId))
  })
})

describe('spend guards', () => {
  it('refuses when the live available balance is below the price, with a task, buying nothing', async () => {
    s.sim.state.updateAccount('resellid', { balance: '1.00' })
    const res = await place(order())
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('INSUFFICIENT_FUNDS')
    expect(purchases()).toHaveLength(0)
    const tasks = (await t.app.inject({ url: '/tasks?status=open', headers: auth('ops') })).json()
    expect(tasks.items.map((x: { kind: string }) => x.kind)).toContain('insufficient_funds')
  })

  it('keeps the live balance an order read on the module, and a low one opens its task, without holding the purchase', async () => {
    await t.app.inject({ method: 'PATCH', url: `/modules/${(await t.db.pool.query<{ id: string }>('SELECT id::text FROM processing_module')).rows[0]?.id}`, headers: { ...auth('admin'), 'if-match': '*' }, payload: { minimalBalance: '1000000.00' } })
    s.sim.state.updateAccount('resellid', { balance: '500.00' })
    const res = await place(order())
    expect(res.statusCode, res.body).toBe(201)
    const kept = await until(async () => {
      const { rows } = await t.db.pool.query<{ available: string, low: Date | null }>('SELECT available_balance::text AS available, low_balance_since AS low FROM processing_module')
      return rows[0]?.low ? rows[0] : undefined
    })
    expect(kept.available).toBe('500.00')
    const tasks = (await t.app.inject({ url: '/tasks?status=open', headers: auth('ops') })).json()
    expect(tasks.items.map((x: { kind: string }) => x.kind)).toContain('low_balance')
  })

  it('honours the kill switch until purchases resume', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/purchases/pause', headers: auth('billing'), payload: {} })).statusCode).toBe(403)
    const paused = await t.app.inject({ method: 'POST', url: '/purchases/pause', headers: auth('admin'), payload: { reason: 'incident 42' } })
    expect(paused.json()).toMatchObject({ paused: true, reason: 'incident 42', by: 'root' })
    const body = order()
    const refused = await place(body, '"paused-key"')
    expect(refused.statusCode).toBe(503)
    expect(refused.json().code).toBe('PURCHASES_PAUSED')
    expect(purchases()).toHaveLength(0)
    await t.app.inject({ method: 'POST', url: '/purchases/resume', headers: auth('admin') })
    // The refusal released the key: the same request succeeds now.
    expect((await place(body, '"paused-key"')).statusCode).toBe(201)
    expect(purchases()).toHaveLength(1)
  })
})
