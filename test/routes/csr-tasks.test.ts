// POST /csr/parse (local checks, exact codes), the tasks the departments get (filters, resolve),
// and who may read or flip the purchase kill switch.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Role } from '../../src/domain/access.js'
import { subtle, x509 } from '../../src/lib/x509.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { makeCsr, startSimulatorForTest, type SimulatorForTest, type TestCsr } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let rsa: TestCsr

beforeAll(async () => {
  s = await startSimulatorForTest([
    { uid: 'acct-a', pw: 'acct-a-pw', balance: '5000.00' },
    { uid: 'acct-b', pw: 'acct-b-pw', balance: '5000.00' }
  ], 600_000)
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins })
  rsa = await makeCsr('www.example.com', { sans: ['www.example.com', 'Shop.Example.com'] })
})
afterAll(async () => {
  await t?.close()
  await database?.drop()
  await s?.sim.close()
})

const parse = (payload: Record<string, unknown>, role: Role | null = 'billing') =>
  t.app.inject({ method: 'POST', url: '/csr/parse', headers: role ? auth(role) : {}, payload })

/** The CSR's DER with one byte of the signed subject changed: still well-formed, no longer signed. */
function tamper (pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64')
  const at = der.indexOf(Buffer.from('Example Inc'))
  expect(at).toBeGreaterThan(0)
  der[at] = 'F'.charCodeAt(0)
  return toPem(der)
}

function toPem (der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE REQUEST-----\n`
}

/** A CSR with the subject given as is (makeCsr always puts a CN in). */
async function csrWithSubject (name: string): Promise<string> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await subtle.generateKey(algorithm, true, ['sign', 'verify'])
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys: keys as never, signingAlgorithm: algorithm as never })
  return csr.toString('pem')
}

async function expectInvalid (payload: Record<string, unknown>, code: string) {
  const res = await parse(payload)
  expect(res.statusCode, res.body).toBe(400)
  const problem = res.json() as { code: string, detail: string, errors: Array<{ field: string, message: string }> }
  expect(problem.code).toBe(code)
  expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'body.csr' })]))
  return problem
}

describe('POST /csr/parse', () => {
  it('reads an RSA 2048 CSR: common name, SANs, subject, key, signature algorithm', async () => {
    const res = await parse({ csr: rsa.pem })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({
      commonName: 'www.example.com',
      sans: ['www.example.com', 'shop.example.com'],
      subject: { organization: 'Example Inc', organizationalUnit: null, locality: 'Kirkland', state: 'WA', country: 'US', email: null },
      keyType: 'RSA',
      keySize: 2048,
      signatureAlgorithm: 'RSASSA-PKCS1-v1_5 with SHA-256',
      signatureValid: true
    })
  })

  it('reads an EC P-256 CSR', async () => {
    const ec = await makeCsr('shop.example.org', { ec: true })
    const res = await parse({ csr: ec.pem, domain: 'shop.example.org' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ commonName: 'shop.example.org', sans: [], keyType: 'EC', keySize: 256, signatureAlgorithm: 'ECDSA with SHA-256', signatureValid: true })
  })

  it('checks the CN against the domain when one is given: 400 CSR_DOMAIN_MISMATCH naming both, case and trailing dot aside', async () => {
    expect((await parse({ csr: rsa.pem, domain: 'WWW.Example.com.' })).statusCode).toBe(200)
    const problem = await expectInvalid({ csr: rsa.pem, domain: 'example.com' }, 'CSR_DOMAIN_MISMATCH')
    expect(problem.detail).toContain('www.example.com')
    expect(problem.detail).toContain('example.com')
  })

  it('refuses text that is not a PEM certificate request: 400 CSR_MALFORMED', async () => {
    await expectInvalid({ csr: 'hello' }, 'CSR_MALFORMED')
    await expectInvalid({ csr: rsa.pem.replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE') }, 'CSR_MALFORMED')
    await expectInvalid({ csr: rsa.pem.replace('-----END CERTIFICATE REQUEST-----', '') }, 'CSR_MALFORMED')
  })

  it('refuses damaged base64 inside the PEM armour: 400 CSR_MALFORMED (could not be decoded)', async () => {
    const lines = rsa.pem.trim().split('\n')
    const truncated = [...lines.slice(0, Math.floor(lines.length / 2)), lines.at(-1)].join('\n')
    const problem = await expectInvalid({ csr: truncated }, 'CSR_MALFORMED')
    expect(problem.detail).toContain('decoded')
    const garbled = rsa.pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + '*'.repeat(64) + '\n')
    expect(garbled).not.toBe(rsa.pem)
    expect((await expectInvalid({ csr: garbled }, 'CSR_MALFORMED')).detail).toContain('decoded')
  })

  it('refuses a CSR whose signature does not verify (one byte of the subject changed): 400 CSR_SIGNATURE_INVALID', async () => {
    await expectInvalid({ csr: tamper(rsa.pem) }, 'CSR_SIGNATURE_INVALID')
  })

  it('refuses an RSA 1024 key: 400 CSR_WEAK_KEY', async () => {
    const weak = await makeCsr('www.example.com', { bits: 1024 })
    const problem = await expectInvalid({ csr: weak.pem }, 'CSR_WEAK_KEY')
    expect(problem.detail).toContain('1024')
  })

  it('refuses a CSR without a common name: 400 CSR_NO_COMMON_NAME', async () => {
    await expectInvalid({ csr: await csrWithSubject('O=Example Inc, C=US') }, 'CSR_NO_COMMON_NAME')
  })

  it("refuses a CSR longer than eNom's 4,500 characters with 400, naming body.csr and the limit", async () => {
    const sans = Array.from({ length: 120 }, (_, i) => `host-${i}.a-rather-long-domain-name.example.com`)
    const long = await makeCsr('www.example.com', { sans })
    expect(long.pem.length).toBeGreaterThan(4500)
    const res = await parse({ csr: long.pem })
    expect(res.statusCode, res.body).toBe(400)
    const problem = res.json() as { code: string, errors: Array<{ field: string, message: string }> }
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'body.csr', message: expect.stringContaining('4500') })])
  })

  it('lets admin and billing parse; ops gets 403 and no token 401', async () => {
    expect((await parse({ csr: rsa.pem }, 'admin')).statusCode).toBe(200)
    expect((await parse({ csr: rsa.pem }, 'billing')).statusCode).toBe(200)
    const ops = await parse({ csr: rsa.pem }, 'ops')
    expect(ops.statusCode).toBe(403)
    expect((await parse({ csr: rsa.pem }, null)).statusCode).toBe(401)
  })
})

interface TaskJson {
  id: string
  department: string
  moduleId: string | null
  orderId: string | null
  kind: string
  status: string
  resolvedBy: string | null
  resolution: string | null
  resolvedAt: string | null
}

describe('tasks', () => {
  let moduleA: string
  let moduleB: string
  let orderA: string
  let orderB: string
  /** Oldest first: refund for orderA (ssl-a), refund for orderB (ssl-b), insufficient funds on module B (ssl-b). */
  let tasks: TaskJson[]

  beforeEach(async () => {
    s.sim.state.reset()
    await truncate(t, 'processing_module, certificate_order, order_attempt, service_lock, idempotency_key, task, job, setting')
    moduleA = await createModule('acct-a', 'ssl-a')
    moduleB = await createModule('acct-b', 'ssl-b')
    orderA = await placeAndClose(moduleA)
    orderB = await placeAndClose(moduleB)
    s.sim.state.updateAccount('acct-b', { balance: '1.00' })
    const poor = await order(moduleB)
    expect(poor.statusCode, poor.body).toBe(409)
    expect(poor.json().code).toBe('INSUFFICIENT_FUNDS')
    const all = (await list('')).items
    expect(all.map((x) => x.kind)).toEqual(['insufficient_funds', 'refund_needed', 'refund_needed'])
    tasks = all.reverse()
  })

  async function createModule (uid: string, department: string): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/modules',
      headers: auth('admin'),
      payload: { name: `m-${uid}`, dataCenter: 'dc', department, sort: 1, apiUrl: s.liveUrl, username: uid, password: `${uid}-pw`, checkConnection: false }
    })
    expect(res.statusCode, res.body).toBe(201)
    return res.json().id
  }

  const order = (moduleId: string) => t.app.inject({
    method: 'POST',
    url: '/orders',
    headers: { ...auth('billing'), 'idempotency-key': `"${randomUUID()}"` },
    payload: { serviceId: `svc-${randomUUID()}`, productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com', moduleId }
  })

  async function placeAndClose (moduleId: string): Promise<string> {
    const placed = await order(moduleId)
    expect(placed.statusCode, placed.body).toBe(201)
    const id = placed.json().id as string
    const closed = await t.app.inject({ method: 'POST', url: `/orders/${id}/close`, headers: { ...auth('billing'), 'idempotency-key': `"${randomUUID()}"` }, payload: {} })
    expect(closed.statusCode, closed.body).toBe(200)
    return id
  }

  async function list (query: string, role: Role = 'ops') {
    const res = await t.app.inject({ url: `/tasks${query}`, headers: auth(role) })
    expect(res.statusCode, res.body).toBe(200)
    return res.json() as { items: TaskJson[], total: number, limit: number, offset: number }
  }
  const ids = (page: { items: TaskJson[] }) => page.items.map((x) => x.id)
  const task = (i: number) => tasks[i] as TaskJson
  const resolve = (id: string, role: Role = 'ops', payload: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url: `/tasks/${id}/resolve`, headers: auth(role), payload })

  it('names the department, module and order of each task', () => {
    expect(task(0)).toMatchObject({ kind: 'refund_needed', department: 'ssl-a', moduleId: moduleA, orderId: orderA, status: 'open', resolvedBy: null, resolvedAt: null })
    expect(task(1)).toMatchObject({ kind: 'refund_needed', department: 'ssl-b', moduleId: moduleB, orderId: orderB, status: 'open' })
    expect(task(2)).toMatchObject({ kind: 'insufficient_funds', department: 'ssl-b', moduleId: moduleB, orderId: null, status: 'open' })
  })

  it('filters by department, status, moduleId and orderId, newest first, with paging', async () => {
    expect(ids(await list('?department=ssl-a'))).toEqual([task(0).id])
    expect(ids(await list('?department=ssl-b'))).toEqual([task(2).id, task(1).id])
    expect(ids(await list('?department=nobody'))).toEqual([])
    expect(ids(await list(`?moduleId=${moduleB}`))).toEqual([task(2).id, task(1).id])
    expect(ids(await list(`?orderId=${orderA}`))).toEqual([task(0).id])
    expect(ids(await list(`?department=ssl-b&orderId=${orderB}`))).toEqual([task(1).id])
    expect(ids(await list(`?department=ssl-a&moduleId=${moduleB}`))).toEqual([])
    expect((await list('?status=open')).total).toBe(3)
    expect((await list('?status=resolved')).total).toBe(0)
    expect(await list('?limit=1&offset=1')).toMatchObject({ total: 3, limit: 1, offset: 1, items: [expect.objectContaining({ id: task(1).id })] })
    await resolve(task(1).id)
    expect(ids(await list('?status=resolved'))).toEqual([task(1).id])
    expect(ids(await list('?status=open&department=ssl-b'))).toEqual([task(2).id])
  })

  it('refuses malformed filters with 400', async () => {
    for (const query of ['?status=done', '?moduleId=nope', '?orderId=nope', '?department=', '?limit=0', '?extra=1']) {
      const res = await t.app.inject({ url: `/tasks${query}`, headers: auth('ops') })
      expect(res.statusCode, query).toBe(400)
      expect(res.json().code, query).toBe('VALIDATION_FAILED')
    }
  })

  it('resolves a task once (200 with who and why), then answers 409 TASK_ALREADY_RESOLVED; 404 for an unknown task', async () => {
    const first = await resolve(task(0).id, 'ops', { resolution: 'eNom support refunded ticket 4711' })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toMatchObject({ id: task(0).id, status: 'resolved', resolvedBy: 'watch', resolution: 'eNom support refunded ticket 4711', resolvedAt: expect.any(String) })
    const again = await resolve(task(0).id, 'admin', { resolution: 'me too' })
    expect(again.statusCode).toBe(409)
    expect(again.json().code).toBe('TASK_ALREADY_RESOLVED')
    expect(again.json().detail).toContain('watch')
    expect((await list(`?orderId=${orderA}`)).items[0]).toMatchObject({ resolvedBy: 'watch', resolution: 'eNom support refunded ticket 4711' })
    const unknown = await resolve(randomUUID())
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().code).toBe('NOT_FOUND')
    expect((await resolve('not-a-uuid')).statusCode).toBe(400)
  })

  it('lets admin resolve without a resolution text', async () => {
    const res = await resolve(task(2).id, 'admin')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'resolved', resolvedBy: 'root', resolution: null })
  })

  it('resolves with no request body at all (the body is optional)', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/tasks/${task(1).id}/resolve`, headers: auth('ops') })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().status).toBe('resolved')
  })

  it('keeps tasks from billing: 403 to list and to resolve, and the task stays open', async () => {
    expect((await t.app.inject({ url: '/tasks', headers: auth('billing') })).statusCode).toBe(403)
    expect((await resolve(task(0).id, 'billing')).statusCode).toBe(403)
    expect((await list(`?orderId=${orderA}`)).items[0]?.status).toBe('open')
    expect((await t.app.inject({ url: '/tasks' })).statusCode).toBe(401)
  })
})

describe('purchases kill switch', () => {
  const status = (role: Role) => t.app.inject({ url: '/purchases/status', headers: auth(role) })
  const flip = (what: 'pause' | 'resume', role: Role) => t.app.inject({ method: 'POST', url: `/purchases/${what}`, headers: auth(role), payload: {} })

  it('lets every role read the switch and only admin flip it', async () => {
    for (const role of ['admin', 'billing', 'ops'] as const) {
      const res = await status(role)
      expect(res.statusCode, role).toBe(200)
      expect(res.json()).toMatchObject({ paused: false })
    }
    expect((await t.app.inject({ url: '/purchases/status' })).statusCode).toBe(401)
    for (const role of ['billing', 'ops'] as const) {
      expect((await flip('pause', role)).statusCode, role).toBe(403)
      expect((await flip('resume', role)).statusCode, role).toBe(403)
    }
    expect((await status('ops')).json().paused).toBe(false)

    const paused = await t.app.inject({ method: 'POST', url: '/purchases/pause', headers: auth('admin'), payload: { reason: 'eNom incident' } })
    expect(paused.statusCode).toBe(200)
    expect(paused.json()).toMatchObject({ paused: true, reason: 'eNom incident', by: 'root', since: expect.any(String) })
    expect((await status('billing')).json()).toMatchObject({ paused: true, reason: 'eNom incident', by: 'root' })
    expect((await flip('resume', 'ops')).statusCode).toBe(403)
    expect((await status('ops')).json().paused).toBe(true)

    const resumed = await flip('resume', 'admin')
    expect(resumed.statusCode).toBe(200)
    expect(resumed.json().paused).toBe(false)
    expect((await status('ops')).json().paused).toBe(false)
  })
})
