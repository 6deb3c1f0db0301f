// Placing orders through POST /orders against the simulator over real HTTP: which module is
// chosen, what is checked against its live catalogue before anything is bought, the daily spend
// limits per caller, the order list and its filters, and deleting a module that has orders.
// The simulator's ledger tells which eNom account bought what.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Role } from '../../src/domain/access.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { contacts, makeCsr, startSimulatorForTest, type SimulatorForTest, type TestCsr } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let csr: TestCsr

const RAPID = 'certificate-rapidssl-rapidssl'
const RAPID_WILDCARD = 'certificate-rapidssl-rapidssl-wildcard'
const COMODO = 'certificate-comodo-essential'
const DOMAIN = 'www.example.com'
const ACCOUNTS = ['acct-a', 'acct-b', 'acct-c', 'acct-d', 'acct-e', 'acct-count', 'acct-amount', 'acct-burst']

interface ModuleJson { id: string, name: string, department: string, version: number, enabled: boolean }
interface OrderJson {
  id: string
  serviceId: string
  moduleId: string
  status: string
  environment: string
  enom: { certId: string | null, statusId: number | null }
  certificate: { expiresAt: string } | null
  error: { code: string, detail: string } | null
}

beforeAll(async () => {
  s = await startSimulatorForTest(ACCOUNTS.map((uid) => ({ uid, pw: `${uid}-pw`, balance: '5000.00' })), 600_000)
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, SPEND_LIMIT_DAILY_COUNT: '1000' })
  csr = await makeCsr(DOMAIN)
})
afterAll(async () => {
  await t?.close()
  await database?.drop()
  await s?.sim.close()
})
beforeEach(async () => {
  s.sim.state.reset()
  await truncate(t, 'processing_module, certificate_order, order_attempt, service_lock, idempotency_key, task, job')
})

async function createModule (app: TestApp, uid: string, over: Record<string, unknown> = {}): Promise<ModuleJson> {
  const res = await app.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: {
      name: `m-${randomUUID().slice(0, 8)}`,
      dataCenter: 'dc',
      department: 'ssl',
      sort: 1,
      apiUrl: s.liveUrl,
      username: uid,
      password: `${uid}-pw`,
      checkConnection: false,
      ...over
    }
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function patchModule (id: string, changes: Record<string, unknown>): Promise<void> {
  const current = await t.app.inject({ url: `/modules/${id}`, headers: auth('admin') })
  const res = await t.app.inject({ method: 'PATCH', url: `/modules/${id}`, headers: { ...auth('admin'), 'if-match': String(current.headers.etag) }, payload: changes })
  expect(res.statusCode, res.body).toBe(200)
}

async function readBalance (id: string): Promise<{ availableBalance: string, belowMinimal: boolean }> {
  const res = await t.app.inject({ url: `/modules/${id}/balance?refresh=true`, headers: auth('admin') })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

const orderBody = (over: Record<string, unknown> = {}) => ({ serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, ...over })
const place = (over: Record<string, unknown> = {}, role: Role = 'billing', app: TestApp = t) =>
  app.app.inject({ method: 'POST', url: '/orders', headers: { ...auth(role), 'idempotency-key': `"${randomUUID()}"` }, payload: orderBody(over) })
async function placed (over: Record<string, unknown> = {}): Promise<OrderJson> {
  const res = await place(over)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}
const action = (id: string, name: string, payload: Record<string, unknown> = {}) =>
  t.app.inject({ method: 'POST', url: `/orders/${id}/${name}`, headers: { ...auth('billing'), 'idempotency-key': `"${randomUUID()}"` }, payload })

/** The eNom accounts that bought, in order. */
const buyers = () => s.sim.state.ledger({ command: 'PurchaseServices' }).map((e) => e.uid)

async function expectBadRequest (over: Record<string, unknown>, code: string, field?: string) {
  const before = buyers().length
  const res = await place(over)
  expect(res.statusCode, res.body).toBe(400)
  expect(res.json().code).toBe(code)
  if (field) expect(res.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]))
  expect(buyers()).toHaveLength(before)
  return res.json() as { code: string, detail: string }
}

describe('module selection without moduleId', () => {
  it('takes the enabled module with the lowest sort, then the earliest created; disabled and deleted modules are skipped', async () => {
    const a = await createModule(t, 'acct-a', { sort: 2 })
    const b = await createModule(t, 'acct-b', { sort: 1 })
    const c = await createModule(t, 'acct-c', { sort: 1 })
    await createModule(t, 'acct-d', { sort: 0, enabled: false })
    const e = await createModule(t, 'acct-e', { sort: 0 })
    expect((await t.app.inject({ method: 'DELETE', url: `/modules/${e.id}`, headers: auth('admin') })).statusCode).toBe(200)

    expect((await placed()).moduleId).toBe(b.id)
    await patchModule(b.id, { enabled: false })
    expect((await placed()).moduleId).toBe(c.id)
    await patchModule(c.id, { sort: 3 })
    expect((await placed()).moduleId).toBe(a.id)
    expect(buyers()).toEqual(['acct-b', 'acct-c', 'acct-a'])
  })

  it('chooses among the modules of the environment and data center asked for', async () => {
    const liveEu = await createModule(t, 'acct-a', { sort: 1, dataCenter: 'eu' })
    const testEu = await createModule(t, 'acct-b', { sort: 0, dataCenter: 'eu', apiUrl: s.testUrl })
    const liveUs = await createModule(t, 'acct-c', { sort: 0, dataCenter: 'us' })

    const eu = await placed({ dataCenter: 'eu' })
    expect(eu).toMatchObject({ moduleId: liveEu.id, environment: 'live' })
    expect((await placed({ environment: 'test' }))).toMatchObject({ moduleId: testEu.id, environment: 'test' })
    expect((await placed({ environment: 'test', dataCenter: 'eu' })).moduleId).toBe(testEu.id)
    expect((await placed({ dataCenter: 'us' })).moduleId).toBe(liveUs.id)
    expect((await placed()).moduleId).toBe(liveUs.id)
    expect(buyers()).toEqual(['acct-a', 'acct-b', 'acct-b', 'acct-c', 'acct-c'])

    for (const over of [{ dataCenter: 'asia' }, { environment: 'test', dataCenter: 'us' }]) {
      const res = await place(over)
      expect(res.statusCode, res.body).toBe(409)
      expect(res.json().code).toBe('NO_MODULE_AVAILABLE')
    }
    expect(buyers()).toHaveLength(5)
    // No candidate at all: nobody to tell, so no task.
    expect((await t.app.inject({ url: '/tasks', headers: auth('ops') })).json().total).toBe(0)
  })

  it('skips a block-policy module whose known available balance is below its minimum, not a notify one or one whose balance is unknown', async () => {
    const blocked = await createModule(t, 'acct-a', { sort: 0, minimalBalance: '6000.00', minimalBalancePolicy: 'block' })
    const unknown = await createModule(t, 'acct-b', { sort: 1, minimalBalance: '6000.00', minimalBalancePolicy: 'block' })
    const notify = await createModule(t, 'acct-c', { sort: 2, minimalBalance: '6000.00', minimalBalancePolicy: 'notify' })
    expect(await readBalance(blocked.id)).toMatchObject({ availableBalance: '5000.00', belowMinimal: true })
    expect(await readBalance(notify.id)).toMatchObject({ belowMinimal: true })

    expect((await placed()).moduleId).toBe(unknown.id)
    expect((await readBalance(unknown.id)).belowMinimal).toBe(true)
    expect((await placed()).moduleId).toBe(notify.id)
    // Funded again (and the balance read), the first module is back in selection.
    s.sim.state.updateAccount('acct-a', { balance: '7000.00' })
    expect((await readBalance(blocked.id)).belowMinimal).toBe(false)
    expect((await placed()).moduleId).toBe(blocked.id)
    expect(buyers()).toEqual(['acct-b', 'acct-c', 'acct-a'])
  })

  it('answers 409 NO_MODULE_AVAILABLE when every candidate is blocked, with a task for the department of the first candidate', async () => {
    const first = await createModule(t, 'acct-a', { sort: 0, department: 'dept-first', minimalBalance: '6000.00', minimalBalancePolicy: 'block' })
    const second = await createModule(t, 'acct-b', { sort: 1, department: 'dept-second', minimalBalance: '6000.00', minimalBalancePolicy: 'block' })
    await readBalance(first.id)
    await readBalance(second.id)
    const res = await place()
    expect(res.statusCode, res.body).toBe(409)
    expect(res.json().code).toBe('NO_MODULE_AVAILABLE')
    expect(res.json().detail).toContain('dept-first')
    expect(buyers()).toEqual([])
    // Reading the balances also told both departments that they are low (low_balance tasks).
    const noModule = async (department: string) => ((await t.app.inject({ url: `/tasks?department=${department}`, headers: auth('ops') })).json().items as Array<{ kind: string }>)
      .filter((task) => task.kind === 'no_module_available')
    expect(await noModule('dept-first')).toEqual([expect.objectContaining({ moduleId: first.id, status: 'open', orderId: null })])
    expect(await noModule('dept-second')).toEqual([])
  })
})

describe('an explicit moduleId', () => {
  it('refuses a module of another environment than the one asked for: 400 ENVIRONMENT_MISMATCH, nothing bought', async () => {
    const testModule = await createModule(t, 'acct-a', { apiUrl: s.testUrl })
    const liveModule = await createModule(t, 'acct-b')
    await expectBadRequest({ moduleId: testModule.id, environment: 'live' }, 'ENVIRONMENT_MISMATCH', 'body.environment')
    await expectBadRequest({ moduleId: liveModule.id, environment: 'test' }, 'ENVIRONMENT_MISMATCH', 'body.environment')
    expect((await placed({ moduleId: testModule.id, environment: 'test' })).moduleId).toBe(testModule.id)
  })

  it('uses the named module even when another sorts first', async () => {
    await createModule(t, 'acct-a', { sort: 0 })
    const named = await createModule(t, 'acct-b', { sort: 9 })
    expect((await placed({ moduleId: named.id })).moduleId).toBe(named.id)
    expect(buyers()).toEqual(['acct-b'])
  })

  it('refuses a deleted or unknown module (400 MODULE_NOT_FOUND) and a disabled one (409 MODULE_DISABLED)', async () => {
    const deleted = await createModule(t, 'acct-a')
    await t.app.inject({ method: 'DELETE', url: `/modules/${deleted.id}`, headers: auth('admin') })
    await expectBadRequest({ moduleId: deleted.id }, 'MODULE_NOT_FOUND', 'body.moduleId')
    await expectBadRequest({ moduleId: randomUUID() }, 'MODULE_NOT_FOUND', 'body.moduleId')
    const disabled = await createModule(t, 'acct-b', { enabled: false })
    const res = await place({ moduleId: disabled.id })
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'MODULE_DISABLED', moduleId: disabled.id })
    expect(buyers()).toEqual([])
  })
})

describe("checks against the module's live catalogue, before anything is bought", () => {
  it('refuses a product the module does not offer or has disabled: 400 PRODUCT_NOT_AVAILABLE', async () => {
    await createModule(t, 'acct-a')
    await expectBadRequest({ productCode: 'certificate-no-such-product' }, 'PRODUCT_NOT_AVAILABLE', 'body.productCode')
    await expectBadRequest({ productCode: 'certificate-comodo-ev-sgc' }, 'PRODUCT_NOT_AVAILABLE', 'body.productCode')
  })

  it('refuses a term the product is not sold for: 400 YEARS_NOT_AVAILABLE naming the terms', async () => {
    await createModule(t, 'acct-a')
    const problem = await expectBadRequest({ years: 5 }, 'YEARS_NOT_AVAILABLE', 'body.years')
    expect(problem.detail).toContain('1, 2, 3')
    await expectBadRequest({ productCode: 'certificate-symantec-encryption-everywhere', years: 2 }, 'YEARS_NOT_AVAILABLE', 'body.years')
  })

  it('refuses a wildcard domain for a non-wildcard product and a plain domain for a wildcard product: 400 DOMAIN_WILDCARD_MISMATCH', async () => {
    await createModule(t, 'acct-a')
    await expectBadRequest({ domain: '*.example.com' }, 'DOMAIN_WILDCARD_MISMATCH', 'body.domain')
    await expectBadRequest({ productCode: RAPID_WILDCARD }, 'DOMAIN_WILDCARD_MISMATCH', 'body.domain')
    expect((await placed({ productCode: RAPID_WILDCARD, domain: '*.example.com' })).status).toBe('awaiting_configuration')
  })
})

describe('POST /orders with the configuration', () => {
  it('buys, configures and submits in one request: straight to processing, each eNom call once', async () => {
    await createModule(t, 'acct-a')
    const res = await place({ csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ status: 'processing', webServerType: 21, approverEmail: 'admin@example.com', enom: { statusId: 2 } })
    for (const command of ['PurchaseServices', 'CertConfigureCert', 'CertPurchaseCert']) {
      expect(s.sim.state.ledger({ command }), command).toHaveLength(1)
    }
  })

  it('takes a Comodo order with its configuration to awaiting_approval', async () => {
    await createModule(t, 'acct-a')
    const res = await place({ productCode: COMODO, csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ status: 'awaiting_approval', webServerType: 1002, enom: { statusId: 9 } })
  })

  it('refuses a partial configuration (400 CONFIGURATION_INCOMPLETE naming the missing fields) and a bad CSR before buying', async () => {
    await createModule(t, 'acct-a')
    const problem = await expectBadRequest({ csr: csr.pem, webServerType: 'apache' }, 'CONFIGURATION_INCOMPLETE', 'body.contacts')
    expect(problem.detail).toContain('together')
    await expectBadRequest({ approverEmail: 'admin@example.com' }, 'CONFIGURATION_INCOMPLETE')
    const other = await makeCsr('www.other.org')
    await expectBadRequest({ csr: other.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() }, 'CSR_DOMAIN_MISMATCH', 'body.csr')
    await expectBadRequest({ csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts({ city: 'Zürich' }) }, 'CONTACT_NOT_ASCII', 'body.contacts.admin.city')
    expect(s.sim.state.ledger({ command: 'CertConfigureCert' })).toHaveLength(0)
  })

  it('records on the order why a configuration sent with the purchase was not submitted (approver not listed by eNom)', async () => {
    await createModule(t, 'acct-a')
    const res = await place({ csr: csr.pem, webServerType: 'apache', approverEmail: 'ceo@example.com', contacts: contacts() })
    // The certificate is bought; its configuration failed after the purchase.
    expect(res.statusCode, res.body).toBe(201)
    expect(s.sim.state.ledger({ command: 'PurchaseServices' })).toHaveLength(1)
    expect(s.sim.state.ledger({ command: 'CertPurchaseCert' })).toHaveLength(0)
    const order = res.json() as OrderJson
    expect(order.status).toBe('awaiting_configuration')
    expect(order.error?.code).toBe('APPROVER_NOT_LISTED')
  })
})

describe('daily spend limits per caller', () => {
  let countDb: TestDatabase
  let amountDb: TestDatabase
  let countApp: TestApp
  let amountApp: TestApp
  let countModule: ModuleJson
  let amountModule: ModuleJson

  beforeAll(async () => {
    countDb = await createTestDatabase()
    amountDb = await createTestDatabase()
    countApp = await startTestApp(countDb, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, SPEND_LIMIT_DAILY_COUNT: '2' })
    amountApp = await startTestApp(amountDb, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, SPEND_LIMIT_DAILY_AMOUNT: '25.00' })
  })
  afterAll(async () => {
    await countApp?.close()
    await amountApp?.close()
    await countDb?.drop()
    await amountDb?.drop()
  })
  beforeEach(async () => {
    countModule = await createModule(countApp, 'acct-count')
    amountModule = await createModule(amountApp, 'acct-amount')
  })

  const bought = (uid: string) => s.sim.state.ledger({ uid, command: 'PurchaseServices' }).length

  it('refuses the order past SPEND_LIMIT_DAILY_COUNT with 409 SPEND_LIMIT_REACHED, buying nothing; another caller still orders', async () => {
    for (let i = 0; i < 2; i++) expect((await place({ moduleId: countModule.id }, 'billing', countApp)).statusCode).toBe(201)
    const third = await place({ moduleId: countModule.id }, 'billing', countApp)
    expect(third.statusCode, third.body).toBe(409)
    expect(third.json().code).toBe('SPEND_LIMIT_REACHED')
    expect(third.json().detail).toContain('SPEND_LIMIT_DAILY_COUNT')
    expect(bought('acct-count')).toBe(2)
    expect((await place({ moduleId: countModule.id }, 'admin', countApp)).statusCode).toBe(201)
    expect(bought('acct-count')).toBe(3)
    expect((await place({ moduleId: countModule.id }, 'billing', countApp)).statusCode).toBe(409)
    expect(bought('acct-count')).toBe(3)
  })

  it('refuses the order that would pass SPEND_LIMIT_DAILY_AMOUNT with 409 SPEND_LIMIT_REACHED, buying nothing; another caller still orders', async () => {
    expect((await place({ moduleId: amountModule.id }, 'billing', amountApp)).statusCode).toBe(201)
    expect((await place({ moduleId: amountModule.id }, 'billing', amountApp)).statusCode).toBe(201)
    const third = await place({ moduleId: amountModule.id }, 'billing', amountApp)
    expect(third.statusCode, third.body).toBe(409)
    expect(third.json().code).toBe('SPEND_LIMIT_REACHED')
    expect(third.json().detail).toContain('25.00')
    expect(bought('acct-amount')).toBe(2)
    const tooDear = await place({ moduleId: amountModule.id, productCode: 'certificate-comodo-ev' }, 'admin', amountApp)
    expect(tooDear.statusCode).toBe(409)
    expect(tooDear.json().code).toBe('SPEND_LIMIT_REACHED')
    expect((await place({ moduleId: amountModule.id }, 'admin', amountApp)).statusCode).toBe(201)
    expect(bought('acct-amount')).toBe(3)
  })

  it('holds the count limit exactly when a caller\'s orders arrive at once: each is counted with those committed before it', async () => {
    const db = await createTestDatabase()
    const app = await startTestApp(db, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, SPEND_LIMIT_DAILY_COUNT: '3' })
    try {
      const module = await createModule(app, 'acct-burst')
      const results = await Promise.all(Array.from({ length: 8 }, () => place({ moduleId: module.id }, 'billing', app)))
      const statuses = results.map((r) => r.statusCode).sort()
      expect(statuses, results.map((r) => r.body).join('\n')).toEqual([201, 201, 201, 409, 409, 409, 409, 409])
      for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().code).toBe('SPEND_LIMIT_REACHED')
      expect(bought('acct-burst')).toBe(3)
      // The refused ones left nothing behind: no order, attempt, service lock or event.
      const { rows } = await app.db.pool.query(`SELECT (SELECT count(*) FROM certificate_order)::int AS orders, (SELECT count(*) FROM order_attempt)::int AS attempts,
        (SELECT count(*) FROM service_lock)::int AS locks, (SELECT count(*) FROM outbox_event WHERE type = 'order.created')::int AS created`)
      expect(rows[0]).toEqual({ orders: 3, attempts: 3, locks: 3, created: 3 })
    } finally {
      await app.close()
      await db.drop()
    }
  })
})

describe('GET /orders', () => {
  let a: ModuleJson
  let b: ModuleJson
  let orders: OrderJson[]

  /** Four orders, oldest first: awaiting configuration (a), processing (a), issued (b), closed (b). */
  beforeEach(async () => {
    a = await createModule(t, 'acct-a', { sort: 0 })
    b = await createModule(t, 'acct-b', { sort: 1 })
    const o1 = await placed({ moduleId: a.id })
    const o2 = await placed({ moduleId: a.id })
    expect((await action(o2.id, 'configure', { csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() })).statusCode).toBe(200)
    const o3 = await placed({ moduleId: b.id })
    expect((await action(o3.id, 'configure', { csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() })).statusCode).toBe(200)
    await s.sim.state.setCertStatus(Number(o3.enom.certId), 4)
    expect((await action(o3.id, 'sync')).json().status).toBe('issued')
    const o4 = await placed({ moduleId: b.id })
    expect((await action(o4.id, 'close')).json().status).toBe('closed')
    orders = await Promise.all([o1, o2, o3, o4].map(async (o) => (await t.app.inject({ url: `/orders/${o.id}`, headers: auth('ops') })).json()))
  })

  const list = async (query: string, role: Role = 'ops') => {
    const res = await t.app.inject({ url: `/orders${query}`, headers: auth(role) })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { items: OrderJson[], total: number, limit: number, offset: number }
  }
  const ids = (page: { items: OrderJson[] }) => page.items.map((o) => o.id)
  const at = (i: number) => orders[i] as OrderJson

  it('lists newest first, filtered by serviceId, status, moduleId and expiringBefore', async () => {
    expect(ids(await list(''))).toEqual([at(3).id, at(2).id, at(1).id, at(0).id])
    expect(ids(await list(`?serviceId=${at(2).serviceId}`))).toEqual([at(2).id])
    expect(ids(await list('?status=processing'))).toEqual([at(1).id])
    expect(ids(await list('?status=issued'))).toEqual([at(2).id])
    expect(ids(await list('?status=closed'))).toEqual([at(3).id])
    expect(ids(await list('?status=rejected'))).toEqual([])
    expect(ids(await list(`?moduleId=${b.id}`))).toEqual([at(3).id, at(2).id])
    expect(ids(await list(`?moduleId=${a.id}&status=processing`))).toEqual([at(1).id])
    const expiresAt = at(2).certificate?.expiresAt as string
    expect(expiresAt).toEqual(expect.any(String))
    expect(ids(await list('?expiringBefore=2200-01-01T00:00:00Z'))).toEqual([at(2).id])
    expect(ids(await list(`?expiringBefore=${encodeURIComponent(new Date(Date.parse(expiresAt) + 1000).toISOString())}`))).toEqual([at(2).id])
    expect(ids(await list(`?expiringBefore=${encodeURIComponent(expiresAt)}`))).toEqual([])
    expect(ids(await list(`?expiringBefore=${encodeURIComponent(new Date().toISOString())}`))).toEqual([])
    const billing = await list(`?serviceId=${at(0).serviceId}`, 'billing')
    expect(billing.total).toBe(1)
  })

  it('pages with limit and offset, reporting the total of all pages', async () => {
    expect(await list('?limit=2')).toMatchObject({ total: 4, limit: 2, offset: 0 })
    expect(ids(await list('?limit=2'))).toEqual([at(3).id, at(2).id])
    expect(ids(await list('?limit=2&offset=2'))).toEqual([at(1).id, at(0).id])
    expect(await list('?limit=2&offset=4')).toMatchObject({ items: [], total: 4 })
    expect(await list(`?moduleId=${a.id}&limit=1&offset=1`)).toMatchObject({ total: 2, items: [expect.objectContaining({ id: at(0).id })] })
  })

  it('refuses malformed filters with 400', async () => {
    for (const query of ['?status=bogus', '?limit=0', '?limit=201', '?offset=-1', '?moduleId=not-a-uuid', '?expiringBefore=tomorrow', '?colour=red']) {
      const res = await t.app.inject({ url: `/orders${query}`, headers: auth('ops') })
      expect(res.statusCode, query).toBe(400)
      expect(res.json().code, query).toBe('VALIDATION_FAILED')
    }
  })
})

describe('GET /orders/:id', () => {
  it('answers 404 for an unknown order and 400 for a malformed id', async () => {
    const missing = await t.app.inject({ url: `/orders/${randomUUID()}`, headers: auth('billing') })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().code).toBe('NOT_FOUND')
    const malformed = await t.app.inject({ url: '/orders/not-a-uuid', headers: auth('billing') })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field: 'params.id' })] })
  })
})

describe('DELETE /modules/:id with orders', () => {
  it('refuses while an order is open (409 MODULE_HAS_OPEN_ORDERS naming it) and deletes once the order is closed', async () => {
    const m = await createModule(t, 'acct-a')
    const order = await placed({ moduleId: m.id })
    const refused = await t.app.inject({ method: 'DELETE', url: `/modules/${m.id}`, headers: auth('admin') })
    expect(refused.statusCode, refused.body).toBe(409)
    expect(refused.json()).toMatchObject({ code: 'MODULE_HAS_OPEN_ORDERS', orderIds: [order.id] })
    expect(refused.json().detail).toContain(order.id)
    expect((await t.app.inject({ url: `/modules/${m.id}`, headers: auth('admin') })).json().enabled).toBe(true)

    expect((await action(order.id, 'close')).statusCode).toBe(200)
    const deleted = await t.app.inject({ method: 'DELETE', url: `/modules/${m.id}`, headers: auth('admin') })
    expect(deleted.statusCode, deleted.body).toBe(200)
    expect(deleted.json().enabled).toBe(false)
    // The closed order keeps its module.
    expect((await t.app.inject({ url: `/orders/${order.id}`, headers: auth('ops') })).json().moduleId).toBe(m.id)
  })
})
