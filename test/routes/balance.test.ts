// Balances and products against the simulator: cache, single flight (counted in the simulator's
// ledger), stale answers when eNom fails, the dashboard that never fails as a whole, persistence.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp

beforeAll(async () => {
  s = await startSimulatorForTest([{ uid: 'resellid', pw: 'resellpw', balance: '5000.00' }])
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, ENOM_TIMEOUT_MS: '1500', BALANCE_TTL_SECONDS: '60' })
})
afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
})
// Requests a slow-eNom test left in the simulator still land after its reset; count from here.
let started = ''
beforeEach(async () => {
  started = new Date().toISOString()
  s.sim.state.reset()
  await truncate(t, 'processing_module')
})

async function createModule (over: Record<string, unknown> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: { name: `m-${Math.random().toString(36).slice(2)}`, dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false, ...over }
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

const balanceCalls = (uid = 'resellid') => s.sim.state.ledger({ uid, command: 'GetBalance' }).filter((e) => e.at >= started).length

describe('GET /modules/:id/balance', () => {
  it('reads live, then from the cache, and refresh=true asks eNom again', async () => {
    const m = await createModule({ minimalBalance: '6000.00' })
    const first = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toMatchObject({
      moduleId: m.id,
      balance: '5000.00',
      availableBalance: '5000.00',
      currency: 'USD',
      minimalBalance: '6000.00',
      belowMinimal: true,
      source: 'live',
      stale: false
    })
    const second = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('billing') })
    expect(second.json()).toMatchObject({ source: 'cache', stale: false })
    expect(balanceCalls()).toBe(1)
    await t.app.inject({ url: `/modules/${m.id}/balance?refresh=true`, headers: auth('ops') })
    expect(balanceCalls()).toBe(2)
  })

  it('shares the module read too: a burst of cold requests costs one read of the module, not one per request', async () => {
    const m = await createModule()
    const reads: string[] = []
    const query = t.db.pool.query.bind(t.db.pool) as (...args: unknown[]) => Promise<unknown>
    const spy = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text ?? ''
      if (/FROM processing_module WHERE id/.test(text)) reads.push(text)
      return query(...args)
    }
    Object.assign(t.db.pool, { query: spy })
    try {
      const answers = await Promise.all(Array.from({ length: 300 }, () => t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })))
      expect(answers.map((a) => a.statusCode).filter((code) => code !== 200)).toEqual([])
    } finally {
      Object.assign(t.db.pool, { query })
    }
    expect(reads).toHaveLength(1)
    expect(balanceCalls()).toBe(1)
  })

  it('answers a fresh cached balance from memory alone, and drops it when the module changes here', async () => {
    const m = await createModule({ name: 'before', minimalBalance: '100.00' })
    expect((await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })).json().source).toBe('live')
    // A change the database has but this instance has not seen (as if made by another instance)
    // shows once the entry expires: the cached answer never reads the database.
    await t.db.pool.query("UPDATE processing_module SET name = 'renamed elsewhere' WHERE id = $1", [m.id])
    const cached = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    expect(cached.json()).toMatchObject({ source: 'cache', moduleName: 'before', minimalBalance: '100.00' })
    // A change through this instance drops the entry: the next answer reflects the module as it is.
    const etag = (await t.app.inject({ url: `/modules/${m.id}`, headers: auth('ops') })).headers.etag as string
    const patched = await t.app.inject({ method: 'PATCH', url: `/modules/${m.id}`, headers: { ...auth('admin'), 'if-match': etag }, payload: { minimalBalance: '9000.00' } })
    expect(patched.statusCode, patched.body).toBe(200)
    const after = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    expect(after.json()).toMatchObject({ source: 'cache', moduleName: 'renamed elsewhere', minimalBalance: '9000.00', belowMinimal: true })
    expect(balanceCalls()).toBe(1)
  })

  it('shares one eNom call among concurrent requests for one module (cold cache, 300 ms eNom)', async () => {
    const m = await createModule()
    s.sim.state.addFault({ latencyMs: 300 })
    const results = await Promise.all(Array.from({ length: 100 }, () => t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })))
    expect(results.every((r) => r.statusCode === 200)).toBe(true)
    expect(balanceCalls()).toBe(1)
  })

  it('reports negative balances and no alert without a minimum', async () => {
    s.sim.state.updateAccount('resellid', { balance: '-1,832.23', availableBalance: '6,193.37' })
    const m = await createModule()
    expect((await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })).json())
      .toMatchObject({ balance: '-1832.23', availableBalance: '6193.37', minimalBalance: null, belowMinimal: false })
  })

  it('serves the last known balance, stale with its age and the error, when eNom fails', async () => {
    const m = await createModule()
    await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    s.sim.state.addFault({ httpStatus: 503 })
    const res = await t.app.inject({ url: `/modules/${m.id}/balance?refresh=true`, headers: auth('ops') })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ balance: '5000.00', stale: true, source: 'cache', ageSeconds: expect.any(Number), error: { cause: 'http_status', code: 'ENOM_BAD_RESPONSE' } })
  })

  it('answers 502 or 504 problem+json with the cause when no balance is known', async () => {
    const m = await createModule()
    s.sim.state.addFault({ malformedXml: true, times: 10 })
    const bad = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    expect(bad.statusCode).toBe(502)
    expect(bad.json()).toMatchObject({ code: 'ENOM_BAD_RESPONSE', cause: 'malformed_response' })
    s.sim.state.clearFaults()
    s.sim.state.addFault({ latencyMs: 2500, phase: 'before' })
    const slow = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    expect(slow.statusCode).toBe(504)
    expect(slow.json()).toMatchObject({ code: 'ENOM_TIMEOUT', cause: 'timeout' })
  })

  it('keeps the last balance on the module, so another instance knows it', async () => {
    const m = await createModule()
    await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
    const other = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins })
    try {
      const res = await other.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
      expect(res.json()).toMatchObject({ balance: '5000.00', source: 'cache' })
      expect(balanceCalls()).toBe(1)
      expect((await other.app.inject({ url: `/modules/${m.id}`, headers: auth('ops') })).json().lastBalance).toMatchObject({ balance: '5000.00' })
    } finally {
      await other.close()
    }
  })
})

describe('GET /balance', () => {
  it('lists every enabled module; one failing module never fails the others', async () => {
    s.sim.state.addAccount({ uid: 'broken', pw: 'brokenpw', balance: '1.00' })
    const good = await createModule({ name: 'good', minimalBalance: '100.00' })
    const broken = await createModule({ name: 'broken', username: 'broken', password: 'brokenpw' })
    await createModule({ name: 'off', enabled: false })
    s.sim.state.addFault({ uid: 'broken', resetBeforeProcessing: true })
    const res = await t.app.inject({ url: '/balance', headers: auth('billing') })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.items.map((i: { moduleId: string }) => i.moduleId)).toEqual([good.id])
    expect(body.items[0]).toMatchObject({ belowMinimal: false, minimalBalance: '100.00' })
    expect(body.failures).toEqual([{ moduleId: broken.id, moduleName: 'broken', error: expect.objectContaining({ cause: 'reset', code: 'ENOM_UNREACHABLE' }) }])
  })
})

describe('GET /modules/:id/products', () => {
  it("lists the module's catalogue with family rules, from the cache after the first read", async () => {
    const m = await createModule()
    const res = await t.app.inject({ url: `/modules/${m.id}/products`, headers: auth('billing') })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body.source).toBe('live')
    const rapid = body.items.find((p: { productCode: string }) => p.productCode === 'certificate-rapidssl-rapidssl')
    expect(rapid).toMatchObject({ prodType: 23, family: 'geotrust', enabled: true, allows: { sans: false, reissue: true, resendFulfillment: true, dcvMethods: ['email', 'file', 'dns'] } })
    expect(rapid.resellerPrice).toMatch(/^\d+\.\d{2}$/)
    const ucc = body.items.find((p: { family: string }) => p.family === 'ucc')
    expect(ucc.allows).toMatchObject({ sans: true, maxSans: 100, reissue: false, approvalStatuses: true })
    expect(body.items.some((p: { enabled: boolean }) => !p.enabled)).toBe(true)
    expect((await t.app.inject({ url: `/modules/${m.id}/products`, headers: auth('billing') })).json().source).toBe('cache')
    expect(s.sim.state.ledger({ command: 'GetCerts' })).toHaveLength(1)
  })

  it('is not for ops, and 404 for an unknown module', async () => {
    const m = await createModule()
    expect((await t.app.inject({ url: `/modules/${m.id}/products`, headers: auth('ops') })).statusCode).toBe(403)
    expect((await t.app.inject({ url: '/modules/01900000-0000-7000-8000-000000000000/products', headers: auth('billing') })).statusCode).toBe(404)
  })
})
