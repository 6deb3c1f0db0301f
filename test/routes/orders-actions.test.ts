// Every order action through the routes, against the simulator over real HTTP: the allowed case,
// and each status and product family in which eNom does not allow it (409 before anything is
// sent). The simulator's ledger counts what reached eNom, per CertID.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Role } from '../../src/domain/access.js'
import { applyDetail } from '../../src/domain/orders/sync.js'
import type { OrderDeps } from '../../src/domain/orders/context.js'
import type { OrderRow } from '../../src/db/order-repository.js'
import type { CertDetail } from '../../src/enom/client.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase } from '../support/app.js'
import { contacts, makeCsr, startSimulatorForTest, type SimulatorForTest, type TestCsr } from '../support/enom.js'
import { waitFor } from '../support/wait.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
/** eNom account whose certificates are issued only when a test forces it (issue delay: 10 minutes). */
let geo: string
/** eNom account with a 2 s issue delay: Comodo passes 9 → 10 → 4 by itself, reissues complete. */
let fast: string
/** eNom account whose purchase answers get lost before eNom processed them (outcome unknown, no CertID). */
let lost: string
/** eNom account whose purchase answer gets lost after eNom processed it (reconciliation finds the certificate). */
let drift: string

const RAPID = 'certificate-rapidssl-rapidssl'
const TRUE_BIZ = 'certificate-geotrust-truebizid'
const COMODO = 'certificate-comodo-essential'
const UCC = 'certificate-comodo-ucc-dv'
const DOMAIN = 'www.example.com'
const APPROVER = 'admin@example.com'

interface OrderJson {
  id: string
  serviceId: string
  moduleId: string
  status: string
  billmanagerStatus: string
  family: string
  productCode: string
  domain: string
  sans: string[]
  enom: { certId: string | null, orderId: string | null, statusId: number | null, statusText: string | null, statusUnknown: boolean, reissueStatus: string | null }
  webServerType: number | null
  approverEmail: string | null
  dcvMethod: string | null
  dcv: Record<string, string> | null
  approvers: string[]
  certificate: { serialNumber: string, issuedAt: string, expiresAt: string } | null
  renewalOf: string | null
  error: { code: string, detail: string } | null
  closedAt: string | null
}

interface ProblemJson {
  code: string
  detail?: string
  orderId?: string
  errors?: Array<{ field: string, message: string }>
}

beforeAll(async () => {
  s = await startSimulatorForTest([
    { uid: 'resellid', pw: 'resellpw', balance: '50000.00' },
    { uid: 'fastid', pw: 'fastpw', balance: '5000.00', issueDelayMs: 2000 },
    { uid: 'lostid', pw: 'lostpw', balance: '5000.00' },
    { uid: 'driftid', pw: 'driftpw', balance: '5000.00' }
  ], 600_000)
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, ENOM_TIMEOUT_MS: '5000' })
  geo = await createModule('geo', 'resellid', 'resellpw', 5)
  fast = await createModule('fast', 'fastid', 'fastpw', 0)
  lost = await createModule('lost', 'lostid', 'lostpw', 9)
  drift = await createModule('drift', 'driftid', 'driftpw', 9)
})

afterAll(async () => {
  await t?.close()
  await database?.drop()
  await s?.sim.close()
})

async function createModule (name: string, username: string, password: string, sort: number): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: { name, dataCenter: 'dc', department: `ssl-${name}`, sort, apiUrl: s.liveUrl, username, password, checkConnection: false }
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

/** A POST under /orders with a fresh Idempotency-Key; actions without input send `{}`. */
const post = (url: string, payload: Record<string, unknown> = {}, role: Role = 'billing') =>
  t.app.inject({ method: 'POST', url, headers: { ...auth(role), 'idempotency-key': `"${randomUUID()}"` }, payload })
/** The same without any body (no Content-Type either), as a client sends an action that takes no input. */
const postBare = (url: string) => t.app.inject({ method: 'POST', url, headers: { ...auth('billing'), 'idempotency-key': `"${randomUUID()}"` } })
const get = (url: string, role: Role = 'billing') => t.app.inject({ url, headers: auth(role) })
const read = async (id: string): Promise<OrderJson> => (await get(`/orders/${id}`, 'ops')).json()

/** The newest ledger sequence number: "nothing reached eNom since" is `sentSince(seq)` being empty. */
const lastSeq = () => s.sim.state.ledger().at(-1)?.seq ?? 0
const sentSince = (seq: number) => s.sim.state.ledger({ sinceSeq: seq }).map((e) => e.command)
const certIdOf = (order: OrderJson) => Number(order.enom.certId)
/** How many times `command` reached eNom for this order's certificate. */
const calls = (command: string, order: OrderJson) => s.sim.state.ledger({ command }).filter((e) => e.certId === certIdOf(order)).length

const csrs = new Map<string, Promise<TestCsr>>()
/** One CSR per common name (key generation is slow), or a fresh one. */
function csrFor (commonName: string, fresh = false): Promise<TestCsr> {
  if (fresh) return makeCsr(commonName)
  let csr = csrs.get(commonName)
  if (!csr) {
    csr = makeCsr(commonName)
    csrs.set(commonName, csr)
  }
  return csr
}

async function configuration (domain = DOMAIN, over: Record<string, unknown> = {}) {
  const base = domain.replace(/^\*\./, '').replace(/^www\./, '')
  return { csr: (await csrFor(domain)).pem, webServerType: 'apache', approverEmail: `admin@${base}`, contacts: contacts(), ...over }
}

async function place (over: Record<string, unknown> = {}): Promise<OrderJson> {
  const res = await post('/orders', { serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, moduleId: geo, ...over })
  expect(res.statusCode, res.body).toBe(201)
  const order = res.json() as OrderJson
  expect(order.status).toBe('awaiting_configuration')
  return order
}

async function configure (order: OrderJson, over: Record<string, unknown> = {}): Promise<OrderJson> {
  const res = await post(`/orders/${order.id}/configure`, await configuration(order.domain, over))
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** Placed and configured: GeoTrust is processing (eNom 2), Comodo awaiting_approval (eNom 9). */
async function submitted (over: Record<string, unknown> = {}): Promise<OrderJson> {
  return configure(await place(over))
}

async function sync (order: OrderJson): Promise<OrderJson> {
  const res = await post(`/orders/${order.id}/sync`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** Forces an eNom status on the order's certificate, then lets the service read it. */
async function force (order: OrderJson, statusId: number): Promise<OrderJson> {
  await s.sim.state.setCertStatus(certIdOf(order), statusId)
  return sync(order)
}

async function issued (over: Record<string, unknown> = {}): Promise<OrderJson> {
  const order = await force(await submitted(over), 4)
  expect(order.status).toBe('issued')
  expect(order.certificate).not.toBeNull()
  return order
}

async function outcomeUnknown (): Promise<OrderJson> {
  s.sim.state.addFault({ uid: 'lostid', command: 'PurchaseServices', resetBeforeProcessing: true, times: 1 })
  const res = await post('/orders', { serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, moduleId: lost })
  expect(res.statusCode, res.body).toBe(202)
  const order = res.json() as OrderJson
  expect(order).toMatchObject({ status: 'outcome_unknown', enom: { certId: null } })
  return order
}

/** Expects 409 ACTION_NOT_ALLOWED naming the status, and that nothing reached eNom. */
async function refused (request: () => Promise<{ statusCode: number, json: () => unknown, body: string }>, status: string) {
  const seq = lastSeq()
  const res = await request()
  expect(res.statusCode, res.body).toBe(409)
  const problem = res.json() as ProblemJson
  expect(problem.code).toBe('ACTION_NOT_ALLOWED')
  expect(problem.detail).toContain(`in status ${status}`)
  expect(sentSince(seq)).toEqual([])
  return problem
}

const until = <T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000) => waitFor(probe, { timeoutMs })

describe('POST /orders/:id/configure', () => {
  it('configures and submits a GeoTrust order once: processing (eNom 2), apache mapped to code 21', async () => {
    const order = await place()
    const configured = await configure(order)
    expect(configured).toMatchObject({
      status: 'processing',
      billmanagerStatus: 'enrolled',
      webServerType: 21,
      approverEmail: APPROVER,
      dcvMethod: 'email',
      enom: { statusId: 2, statusUnknown: false },
      error: null
    })
    expect(configured.approvers).toContain(APPROVER)
    expect(calls('CertConfigureCert', order)).toBe(1)
    expect(calls('CertPurchaseCert', order)).toBe(1)
    const atEnom = await s.sim.state.cert(certIdOf(order))
    expect(atEnom).toMatchObject({ statusId: 2, webServerType: 21, approverEmail: APPROVER, domain: DOMAIN })
  })

  it('maps apache to code 1002 for a Comodo product, which enters awaiting_approval (eNom 9)', async () => {
    const order = await place({ productCode: COMODO })
    const configured = await configure(order)
    expect(configured).toMatchObject({ status: 'awaiting_approval', billmanagerStatus: 'enrolled', family: 'comodo', webServerType: 1002, enom: { statusId: 9 } })
    expect((await s.sim.state.cert(certIdOf(order)))).toMatchObject({ statusId: 9, webServerType: 1002 })
    expect(calls('CertPurchaseCert', order)).toBe(1)
  })

  it("accepts a raw eNom code of the product's family and refuses another family's code or an unknown one (400, no eNom call)", async () => {
    const order = await place()
    for (const code of [1002, 9999, 5]) {
      const seq = lastSeq()
      const res = await post(`/orders/${order.id}/configure`, await configuration(DOMAIN, { webServerType: code }))
      expect(res.statusCode, `${code}: ${res.body}`).toBe(400)
      expect(res.json()).toMatchObject({ code: 'WEB_SERVER_TYPE_INVALID', errors: [{ field: 'body.webServerType' }] })
      expect(sentSince(seq)).toEqual([])
    }
    const comodo = await place({ productCode: COMODO })
    const wrongFamily = await post(`/orders/${comodo.id}/configure`, await configuration(DOMAIN, { webServerType: 21 }))
    expect(wrongFamily.statusCode).toBe(400)
    expect(wrongFamily.json().code).toBe('WEB_SERVER_TYPE_INVALID')
    expect(calls('CertConfigureCert', comodo)).toBe(0)

    const raw = await configure(order, { webServerType: 33 })
    expect(raw).toMatchObject({ status: 'processing', webServerType: 33 })
    expect((await s.sim.state.cert(certIdOf(order)))?.webServerType).toBe(33)
  })

  it('refuses configure of a processing order: 409 ACTION_NOT_ALLOWED naming the status, nothing sent', async () => {
    const order = await submitted()
    await refused(async () => post(`/orders/${order.id}/configure`, await configuration()), 'processing')
    expect(calls('CertConfigureCert', order)).toBe(1)
    expect(calls('CertPurchaseCert', order)).toBe(1)
  })

  it('refuses configure of an awaiting_approval Comodo order and of an issued order', async () => {
    const comodo = await submitted({ productCode: COMODO })
    await refused(async () => post(`/orders/${comodo.id}/configure`, await configuration()), 'awaiting_approval')
    const done = await issued()
    await refused(async () => post(`/orders/${done.id}/configure`, await configuration()), 'issued')
    expect(calls('CertPurchaseCert', done)).toBe(1)
  })

  it('lets a rejected order (eNom 6) be configured again, submitting it a second time', async () => {
    const order = await submitted()
    const rejected = await force(order, 6)
    expect(rejected).toMatchObject({ status: 'rejected', billmanagerStatus: 'requested', enom: { statusId: 6 } })
    const again = await configure(rejected)
    expect(again).toMatchObject({ status: 'processing', enom: { statusId: 2 } })
    expect(calls('CertConfigureCert', order)).toBe(2)
    expect(calls('CertPurchaseCert', order)).toBe(2)
    expect((await s.sim.state.cert(certIdOf(order)))?.statusId).toBe(2)
  })

  it('refuses an approver e-mail eNom did not list: 422 APPROVER_NOT_LISTED, configured at eNom but never submitted', async () => {
    const order = await place()
    const res = await post(`/orders/${order.id}/configure`, await configuration(DOMAIN, { approverEmail: 'ceo@example.com' }))
    expect(res.statusCode, res.body).toBe(422)
    const problem = res.json() as ProblemJson
    expect(problem).toMatchObject({ code: 'APPROVER_NOT_LISTED', orderId: order.id })
    expect(problem.detail).toContain('ceo@example.com')
    expect(problem.detail).toContain(APPROVER)
    expect(calls('CertConfigureCert', order)).toBe(1)
    expect(calls('CertPurchaseCert', order)).toBe(0)
    const after = await read(order.id)
    expect(after.status).toBe('awaiting_configuration')
    expect(after.approvers).toEqual(expect.arrayContaining([APPROVER, 'webmaster@example.com']))
    // Corrected, the same order is submitted.
    expect((await configure(order, { approverEmail: 'webmaster@example.com' })).status).toBe('processing')
    expect(calls('CertPurchaseCert', order)).toBe(1)
  })

  it('requires an approver e-mail for e-mail validation: 400 APPROVER_EMAIL_REQUIRED, no eNom call', async () => {
    const order = await place()
    const body = await configuration()
    delete (body as { approverEmail?: string }).approverEmail
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/configure`, body)
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('APPROVER_EMAIL_REQUIRED')
    expect(sentSince(seq)).toEqual([])
  })

  it('refuses a CSR for another domain: 400 CSR_DOMAIN_MISMATCH, no eNom call at all', async () => {
    const order = await place()
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/configure`, await configuration(DOMAIN, { csr: (await csrFor('www.other.org')).pem }))
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json()).toMatchObject({ code: 'CSR_DOMAIN_MISMATCH', errors: [{ field: 'body.csr' }] })
    expect(res.json().detail).toContain('www.other.org')
    expect(sentSince(seq)).toEqual([])
    expect((await read(order.id)).status).toBe('awaiting_configuration')
  })

  it('refuses a CSR with an RSA 1024 key: 400 CSR_WEAK_KEY, no eNom call', async () => {
    const order = await place()
    const weak = await makeCsr(DOMAIN, { bits: 1024 })
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/configure`, await configuration(DOMAIN, { csr: weak.pem }))
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().code).toBe('CSR_WEAK_KEY')
    expect(res.json().detail).toContain('1024')
    expect(sentSince(seq)).toEqual([])
  })

  it('refuses non-ASCII contact data for a GeoTrust product: 400 CONTACT_NOT_ASCII naming each field, no eNom call', async () => {
    const order = await place()
    const accented = contacts({ firstName: 'Zoë', city: 'München' })
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/configure`, await configuration(DOMAIN, { contacts: accented }))
    expect(res.statusCode, res.body).toBe(400)
    const problem = res.json() as ProblemJson
    expect(problem.code).toBe('CONTACT_NOT_ASCII')
    const fields = (problem.errors ?? []).map((e) => e.field).sort()
    expect(fields).toEqual(['admin', 'billing', 'tech'].flatMap((role) => [`body.contacts.${role}.city`, `body.contacts.${role}.firstName`]).sort())
    expect(sentSince(seq)).toEqual([])
  })

  it('accepts the same non-ASCII contact data for a Comodo product', async () => {
    const order = await place({ productCode: COMODO })
    const configured = await configure(order, { contacts: contacts({ firstName: 'Zoë', city: 'München' }) })
    expect(configured.status).toBe('awaiting_approval')
    expect(calls('CertConfigureCert', order)).toBe(1)
    expect(calls('CertPurchaseCert', order)).toBe(1)
  })

  it('refuses file and DNS validation for products without them (Comodo, GeoTrust True BusinessID): 400 DCV_METHOD_NOT_ALLOWED, no eNom call', async () => {
    for (const productCode of [COMODO, TRUE_BIZ]) {
      const order = await place({ productCode })
      for (const dcvMethod of ['file', 'dns']) {
        const seq = lastSeq()
        const res = await post(`/orders/${order.id}/configure`, await configuration(DOMAIN, { dcvMethod }))
        expect(res.statusCode, `${productCode} ${dcvMethod}: ${res.body}`).toBe(400)
        expect(res.json()).toMatchObject({ code: 'DCV_METHOD_NOT_ALLOWED', errors: [{ field: 'body.dcvMethod' }] })
        expect(sentSince(seq)).toEqual([])
      }
    }
  })

  it('validates a RapidSSL order by file when asked: the file to publish is on the order', async () => {
    const order = await place()
    const configured = await configure(order, { dcvMethod: 'file' })
    expect(configured).toMatchObject({ status: 'processing', dcvMethod: 'file', dcv: { fileName: 'fileauth.txt', fileContents: expect.any(String) } })
    expect((await s.sim.state.cert(certIdOf(order)))?.dvAuthMethod).toBe('File')
  })

  it('refuses SANs for a non-UCC product: 400 SANS_NOT_ALLOWED, nothing bought', async () => {
    const seq = lastSeq()
    const res = await post('/orders', { serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, moduleId: geo, sans: ['shop.example.com'] })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json()).toMatchObject({ code: 'SANS_NOT_ALLOWED', errors: [{ field: 'body.sans' }] })
    expect(sentSince(seq)).not.toContain('PurchaseServices')
  })

  it('orders and configures a UCC certificate with SANs: eNom gets the list, the certificate covers them', async () => {
    const sans = ['shop.example.com', 'mail.example.org']
    const order = await place({ productCode: UCC, sans })
    expect(order).toMatchObject({ family: 'ucc', sans })
    const configured = await configure(order, { sanApproverEmails: { 'mail.example.org': 'admin@mail.example.org' } })
    expect(configured.status).toBe('awaiting_approval')
    expect((await s.sim.state.cert(certIdOf(order)))?.sans).toEqual(sans)
    const done = await force(configured, 4)
    expect(done.status).toBe('issued')
    const pem = (await get(`/orders/${order.id}/certificate`)).body
    const { x509 } = await import('../../src/lib/x509.js')
    const leaf = new x509.X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0] ?? '')
    const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value)
    expect(names).toEqual(expect.arrayContaining([DOMAIN, ...sans]))
  })
})

describe('GET /orders/:id/approver-emails', () => {
  it("lists the approver addresses eNom gives for the order's base domain once the certificate is bought", async () => {
    const order = await place()
    const res = await get(`/orders/${order.id}/approver-emails`)
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as { orderId: string, domain: string, approvers: Array<{ email: string, type: string }> }
    expect(body.orderId).toBe(order.id)
    expect(body.approvers.map((a) => a.email)).toEqual(expect.arrayContaining(['admin', 'administrator', 'hostmaster', 'postmaster', 'webmaster'].map((m) => `${m}@example.com`)))
    expect(calls('CertGetApproverEmail', order)).toBe(1)
    expect((await read(order.id)).approvers).toContain('admin@example.com')
  })

  it('refuses approver e-mails, sync, configure and the certificate while the purchase outcome is unknown (no CertID yet)', async () => {
    const order = await outcomeUnknown()
    const seq = lastSeq()
    const approvers = await get(`/orders/${order.id}/approver-emails`)
    expect(approvers.statusCode).toBe(409)
    expect(approvers.json().code).toBe('ACTION_NOT_ALLOWED')
    expect(approvers.json().detail).toContain('CertID')
    const synced = await post(`/orders/${order.id}/sync`)
    expect(synced.statusCode).toBe(409)
    expect(synced.json().code).toBe('ACTION_NOT_ALLOWED')
    await refused(async () => post(`/orders/${order.id}/configure`, await configuration()), 'outcome_unknown')
    const cert = await get(`/orders/${order.id}/certificate`)
    expect(cert.statusCode).toBe(409)
    expect(cert.json().code).toBe('CERTIFICATE_NOT_ISSUED')
    expect(sentSince(seq)).toEqual([])
  })

  it('refuses approver e-mails of an issued certificate: 409', async () => {
    const order = await issued()
    await refused(() => get(`/orders/${order.id}/approver-emails`), 'issued')
  })
})

describe('POST /orders/:id/approver-email (change)', () => {
  it('changes the approver of a processing order, once at eNom', async () => {
    const order = await submitted()
    const res = await post(`/orders/${order.id}/approver-email`, { approverEmail: 'Hostmaster@example.com' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'processing', approverEmail: 'hostmaster@example.com' })
    expect(calls('CertChangeApproverEmail', order)).toBe(1)
    expect((await s.sim.state.cert(certIdOf(order)))?.approverEmail).toBe('hostmaster@example.com')
  })

  it('changes the approver of an awaiting_approval Comodo order', async () => {
    const order = await submitted({ productCode: COMODO })
    const res = await post(`/orders/${order.id}/approver-email`, { approverEmail: 'postmaster@example.com' })
    expect(res.statusCode, res.body).toBe(200)
    expect(calls('CertChangeApproverEmail', order)).toBe(1)
  })

  it('refuses an address eNom did not list: 422 APPROVER_NOT_LISTED, nothing sent', async () => {
    const order = await submitted()
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/approver-email`, { approverEmail: 'ceo@example.com' })
    expect(res.statusCode, res.body).toBe(422)
    expect(res.json().code).toBe('APPROVER_NOT_LISTED')
    expect(sentSince(seq)).toEqual([])
    expect((await read(order.id)).approverEmail).toBe(APPROVER)
  })

  it('refuses a change while awaiting configuration, once approved (eNom 10) and once issued: 409, nothing sent', async () => {
    const fresh = await place()
    await refused(() => post(`/orders/${fresh.id}/approver-email`, { approverEmail: APPROVER }), 'awaiting_configuration')
    const approved = await force(await submitted({ productCode: COMODO }), 10)
    expect(approved.status).toBe('approved')
    await refused(() => post(`/orders/${approved.id}/approver-email`, { approverEmail: APPROVER }), 'approved')
    const done = await issued()
    await refused(() => post(`/orders/${done.id}/approver-email`, { approverEmail: APPROVER }), 'issued')
  })
})

describe('POST /orders/:id/resend-approver-email', () => {
  it('resends the approver e-mail of a processing GeoTrust order and of an awaiting_approval Comodo order, once each', async () => {
    for (const productCode of [RAPID, COMODO]) {
      const order = await submitted({ productCode })
      const res = await post(`/orders/${order.id}/resend-approver-email`)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().status).toBe(productCode === RAPID ? 'processing' : 'awaiting_approval')
      expect(calls('CertResendApproverEmail', order)).toBe(1)
    }
  })

  it('refuses to resend while awaiting configuration and once issued: 409, nothing sent', async () => {
    const fresh = await place()
    await refused(() => post(`/orders/${fresh.id}/resend-approver-email`), 'awaiting_configuration')
    const done = await issued()
    await refused(() => post(`/orders/${done.id}/resend-approver-email`), 'issued')
  })
})

describe('POST /orders/:id/resend-fulfillment-email', () => {
  it('resends the fulfillment e-mail of an issued GeoTrust certificate, once', async () => {
    const order = await issued()
    const res = await post(`/orders/${order.id}/resend-fulfillment-email`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().status).toBe('issued')
    expect(calls('CertResendFulfillmentEmail', order)).toBe(1)
  })

  it('refuses it for an issued Comodo certificate: the family has no fulfillment e-mail (409, nothing sent)', async () => {
    const order = await issued({ productCode: COMODO })
    const problem = await refused(() => post(`/orders/${order.id}/resend-fulfillment-email`), 'issued')
    expect(problem.detail).toContain('Comodo')
  })

  it('refuses it before the GeoTrust certificate is issued: 409, nothing sent', async () => {
    const order = await submitted()
    const problem = await refused(() => post(`/orders/${order.id}/resend-fulfillment-email`), 'processing')
    expect(problem.detail).toContain('issued')
  })
})

describe('POST /orders/:id/reissue', () => {
  it('reissues an issued GeoTrust certificate once: it stays issued, shows the reissue, then carries the new key', async () => {
    const order = await submitted({ moduleId: fast })
    const first = await until(async () => { const o = await sync(order); return o.status === 'issued' ? o : undefined })
    const next = await csrFor(DOMAIN, true)
    const res = await post(`/orders/${order.id}/reissue`, { csr: next.pem })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'issued', enom: { statusId: 4, reissueStatus: 'requested' } })
    expect(calls('CertReissueCert', order)).toBe(1)
    // While eNom reissues, it reports the old certificate as issued, and so does the order.
    const during = await sync(order)
    expect(during.status).toBe('issued')
    expect(during.certificate?.serialNumber).toBe(first.certificate?.serialNumber)
    const again = await until(async () => { const o = await sync(order); return o.certificate?.serialNumber !== first.certificate?.serialNumber ? o : undefined })
    expect(again.status).toBe('issued')
    expect(again.enom.reissueStatus).toMatch(/complete/i)
    const pem = (await get(`/orders/${order.id}/certificate`)).body
    const { x509 } = await import('../../src/lib/x509.js')
    const leaf = new x509.X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0] ?? '')
    expect(Buffer.from(leaf.publicKey.rawData).toString('base64')).toBe(next.publicKey)
    expect(calls('CertReissueCert', order)).toBe(1)
  }, 30_000)

  it('refuses reissue of a Comodo certificate: the family has no reissue (409, nothing sent)', async () => {
    const order = await issued({ productCode: COMODO })
    const csr = await csrFor(DOMAIN, true)
    const problem = await refused(() => post(`/orders/${order.id}/reissue`, { csr: csr.pem }), 'issued')
    expect(problem.detail).toContain('Comodo')
    expect(calls('CertReissueCert', order)).toBe(0)
  })

  it('refuses reissue of a GeoTrust order that is not issued yet (409, nothing sent)', async () => {
    const processing = await submitted()
    await refused(async () => post(`/orders/${processing.id}/reissue`, { csr: (await csrFor(DOMAIN)).pem }), 'processing')
    const fresh = await place()
    await refused(async () => post(`/orders/${fresh.id}/reissue`, { csr: (await csrFor(DOMAIN)).pem }), 'awaiting_configuration')
  })

  it('refuses a reissue CSR for another domain: 400 CSR_DOMAIN_MISMATCH, nothing sent', async () => {
    const order = await issued()
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/reissue`, { csr: (await csrFor('www.other.org')).pem })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().code).toBe('CSR_DOMAIN_MISMATCH')
    expect(sentSince(seq)).toEqual([])
    expect((await read(order.id)).status).toBe('issued')
  })
})

describe('POST /orders/:id/cancel-configuration', () => {
  it('cancels the configuration of a processing order once (CertModifyOrder): back to awaiting configuration, configurable again', async () => {
    const order = await submitted()
    const res = await post(`/orders/${order.id}/cancel-configuration`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'awaiting_configuration', billmanagerStatus: 'requested', approverEmail: null, enom: { statusId: 1 } })
    expect(calls('CertModifyOrder', order)).toBe(1)
    expect((await s.sim.state.cert(certIdOf(order)))?.statusId).toBe(1)
    expect((await configure(order)).status).toBe('processing')
  })

  it('cancels the configuration of an awaiting_approval Comodo order', async () => {
    const order = await submitted({ productCode: COMODO })
    const res = await post(`/orders/${order.id}/cancel-configuration`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().status).toBe('awaiting_configuration')
    expect(calls('CertModifyOrder', order)).toBe(1)
  })

  it('refuses outside processing and awaiting_approval (awaiting configuration, approved, rejected, issued): 409, nothing sent', async () => {
    const fresh = await place()
    await refused(() => post(`/orders/${fresh.id}/cancel-configuration`), 'awaiting_configuration')
    const approved = await force(await submitted({ productCode: COMODO }), 10)
    await refused(() => post(`/orders/${approved.id}/cancel-configuration`), 'approved')
    const rejected = await force(await submitted(), 6)
    await refused(() => post(`/orders/${rejected.id}/cancel-configuration`), 'rejected')
    const done = await issued()
    await refused(() => post(`/orders/${done.id}/cancel-configuration`), 'issued')
    for (const o of [fresh, approved, rejected, done]) expect(calls('CertModifyOrder', o)).toBe(0)
  })
})

describe('POST /orders/:id/sync and eNom statuses', () => {
  it('follows a Comodo order through awaiting_approval (9), approved (10) and issued (4) by itself', async () => {
    const order = await submitted({ productCode: COMODO, moduleId: fast })
    expect(order.status).toBe('awaiting_approval')
    const seen: string[] = [order.status]
    const ids: number[] = [order.enom.statusId ?? 0]
    await until(async () => {
      const o = await sync(order)
      if (seen.at(-1) !== o.status) {
        seen.push(o.status)
        ids.push(o.enom.statusId ?? 0)
      }
      return o.status === 'issued' ? o : undefined
    })
    expect(seen).toEqual(['awaiting_approval', 'approved', 'issued'])
    expect(ids).toEqual([9, 10, 4])
    const final = await read(order.id)
    expect(final).toMatchObject({ billmanagerStatus: 'issued', certificate: { serialNumber: expect.any(String) } })
  }, 20_000)

  it('maps eNom 7 (refunded, no certificate) to refunded, which frees the service for a new order', async () => {
    const order = await submitted()
    const refunded = await force(order, 7)
    expect(refunded).toMatchObject({ status: 'refunded', billmanagerStatus: 'failed', enom: { statusId: 7, statusUnknown: false } })
    const again = await post('/orders', { serviceId: order.serviceId, productCode: RAPID, years: 1, domain: DOMAIN, moduleId: geo })
    expect(again.statusCode, again.body).toBe(201)
  })

  it('maps eNom 8 (refunded, certificate issued) to refunded', async () => {
    const order = await issued()
    const refunded = await force(order, 8)
    expect(refunded).toMatchObject({ status: 'refunded', enom: { statusId: 8 } })
  })

  it('keeps the last status and flags an eNom status id it does not know (12), and clears the flag when eNom is back on a known one', async () => {
    const order = await submitted()
    const unknown = await force(order, 12)
    expect(unknown).toMatchObject({ status: 'processing', enom: { statusId: 12, statusUnknown: true } })
    const known = await force(order, 4)
    expect(known).toMatchObject({ status: 'issued', enom: { statusId: 4, statusUnknown: false } })
  })

  it('reads eNom inline: the sync counts one CertGetCertDetail', async () => {
    const order = await submitted()
    const before = calls('CertGetCertDetail', order)
    expect((await sync(order)).status).toBe('processing')
    expect(calls('CertGetCertDetail', order)).toBe(before + 1)
  })
})

describe('actions that take no input', () => {
  it('accept a POST without a body (the body schema is optional): sync, resend, cancel-configuration, close', async () => {
    const order = await submitted()
    for (const action of ['sync', 'resend-approver-email', 'cancel-configuration', 'close']) {
      const res = await postBare(`/orders/${order.id}/${action}`)
      expect(res.statusCode, `${action}: ${res.body}`).toBe(200)
    }
    expect((await read(order.id)).status).toBe('closed')
  })
})

describe('applyDetail (eNom status ids the service does not know)', () => {
  it('keeps the status, records the id and text, and sets statusUnknown for an id such as 99', async () => {
    const row = (await t.db.prisma.certificateOrder.findUniqueOrThrow({ where: { id: (await submitted()).id } })) as OrderRow
    const deps = { orders: { update: async (_id: string, changes: Record<string, unknown>) => ({ ...row, ...changes }) } } as unknown as OrderDeps
    const detail = { statusId: 99, statusText: 'Something New' } as CertDetail
    const { order, changed } = await applyDetail(deps, row, detail)
    expect(order).toMatchObject({ status: 'processing', enomStatusId: 99, enomStatusText: 'Something New', enomStatusUnknown: true })
    expect(changed).toBe(false)
  })
})

describe('POST /orders/:id/close', () => {
  it('closes a processing order: cancels the configuration at eNom once and opens a refund_needed task', async () => {
    const order = await submitted()
    const res = await post(`/orders/${order.id}/close`, { reason: 'customer cancelled' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'closed', billmanagerStatus: 'failed', closedAt: expect.any(String) })
    expect(calls('CertModifyOrder', order)).toBe(1)
    expect((await s.sim.state.cert(certIdOf(order)))?.statusId).toBe(1)
    const tasks = (await get(`/tasks?orderId=${order.id}`, 'ops')).json()
    expect(tasks.items).toEqual([expect.objectContaining({ kind: 'refund_needed', department: 'ssl-geo', moduleId: geo, orderId: order.id, status: 'open' })])
    expect(tasks.items[0].message).toContain('customer cancelled')
    expect(tasks.items[0].message).toContain('CertModifyOrder')
  })

  it('closes an awaiting_approval Comodo order the same way', async () => {
    const order = await submitted({ productCode: COMODO })
    expect((await post(`/orders/${order.id}/close`)).json().status).toBe('closed')
    expect(calls('CertModifyOrder', order)).toBe(1)
  })

  it('closes the order together with its refund task or not at all', async () => {
    const order = await place()
    await t.db.pool.query(`CREATE FUNCTION refuse_refund_task() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.kind = 'refund_needed' THEN RAISE EXCEPTION 'task table refuses the row'; END IF; RETURN NEW; END $$`)
    await t.db.pool.query('CREATE TRIGGER refuse_refund_task BEFORE INSERT ON task FOR EACH ROW EXECUTE FUNCTION refuse_refund_task()')
    const headers = { ...auth('billing'), 'idempotency-key': `"${randomUUID()}"` }
    try {
      const failed = await t.app.inject({ method: 'POST', url: `/orders/${order.id}/close`, headers, payload: {} })
      expect(failed.statusCode).toBe(500)
      expect((await read(order.id)).status).toBe('awaiting_configuration')
    } finally {
      await t.db.pool.query('DROP TRIGGER refuse_refund_task ON task; DROP FUNCTION refuse_refund_task()')
    }
    // The 500 was not stored against the key: the same request now succeeds.
    const closed = await t.app.inject({ method: 'POST', url: `/orders/${order.id}/close`, headers, payload: {} })
    expect(closed.statusCode, closed.body).toBe(200)
    expect(closed.json().status).toBe('closed')
    expect((await get(`/tasks?orderId=${order.id}`, 'ops')).json().items.map((x: { kind: string }) => x.kind)).toEqual(['refund_needed'])
  })

  it('closes an order awaiting configuration without calling eNom, with a refund_needed task', async () => {
    const order = await place()
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/close`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().status).toBe('closed')
    expect(sentSince(seq)).toEqual([])
    const tasks = (await get(`/tasks?orderId=${order.id}`, 'ops')).json()
    expect(tasks.items.map((x: { kind: string }) => x.kind)).toEqual(['refund_needed'])
  })

  it('closes a refunded order without a refund task', async () => {
    const order = await force(await submitted(), 7)
    const res = await post(`/orders/${order.id}/close`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().status).toBe('closed')
    expect(calls('CertModifyOrder', order)).toBe(0)
    expect((await get(`/tasks?orderId=${order.id}`, 'ops')).json().total).toBe(0)
  })

  it('closes an issued order: the certificate stays downloadable and BILLmanager still sees it issued', async () => {
    const order = await issued()
    const res = await post(`/orders/${order.id}/close`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'closed', billmanagerStatus: 'issued' })
    expect(calls('CertModifyOrder', order)).toBe(0)
    const pem = await get(`/orders/${order.id}/certificate`)
    expect(pem.statusCode).toBe(200)
    expect(pem.body).toContain('-----BEGIN CERTIFICATE-----')
  })

  it('keeps an order closed that was closed while its purchase outcome was unknown, when reconciliation later finds the certificate, and tells the department', async () => {
    s.sim.state.addFault({ uid: 'driftid', command: 'PurchaseServices', resetAfterProcessing: true, times: 1 })
    const res = await post('/orders', { serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, moduleId: drift })
    expect(res.statusCode, res.body).toBe(202)
    const order = res.json() as OrderJson
    const closed = await post(`/orders/${order.id}/close`)
    expect(closed.statusCode, closed.body).toBe(200)
    expect(closed.json().status).toBe('closed')
    // What the reconcile job does for the lost purchase answer: eNom did buy the certificate.
    const attempt = await t.db.prisma.orderAttempt.findFirstOrThrow({ where: { orderId: order.id, command: 'PurchaseServices' } })
    expect(await t.app.services.orders.reconcile(attempt.id, 0, {}, 0)).toBe('found')
    const after = await read(order.id)
    expect(after.status).toBe('closed')
    const tasks = (await get(`/tasks?orderId=${order.id}`, 'ops')).json()
    expect(tasks.items.map((x: { kind: string }) => x.kind)).toContain('refund_needed')
  })

  it('refuses to close a closed order: 409 naming the status, no second task', async () => {
    const order = await submitted()
    expect((await post(`/orders/${order.id}/close`)).statusCode).toBe(200)
    const problem = await refused(() => post(`/orders/${order.id}/close`), 'closed')
    expect(problem.detail).toContain('already closed')
    expect(calls('CertModifyOrder', order)).toBe(1)
    expect((await get(`/tasks?orderId=${order.id}`, 'ops')).json().total).toBe(1)
  })
})

describe('POST /orders/:id/renew', () => {
  it('renews an issued certificate: a new order on the same module and service, linked to it, bought once', async () => {
    const order = await issued()
    const purchases = s.sim.state.ledger({ command: 'PurchaseServices' }).length
    // The fast module sorts first; a renewal still stays on the order's own module.
    const res = await post(`/orders/${order.id}/renew`)
    expect(res.statusCode, res.body).toBe(201)
    const renewal = res.json() as OrderJson
    expect(res.headers.location).toBe(`/orders/${renewal.id}`)
    expect(renewal).toMatchObject({
      status: 'awaiting_configuration',
      renewalOf: order.id,
      moduleId: geo,
      serviceId: order.serviceId,
      productCode: order.productCode,
      domain: order.domain
    })
    expect(renewal.id).not.toBe(order.id)
    expect(renewal.enom.certId).not.toBe(order.enom.certId)
    const bought = s.sim.state.ledger({ command: 'PurchaseServices' }).slice(purchases)
    expect(bought).toHaveLength(1)
    expect(bought[0]?.uid).toBe('resellid')
    expect(String(bought[0]?.certId)).toBe(renewal.enom.certId)
  })

  it('refuses a second renewal while the first is open: 409 ORDER_EXISTS naming it, nothing bought', async () => {
    const order = await issued()
    const renewal = (await post(`/orders/${order.id}/renew`)).json() as OrderJson
    const seq = lastSeq()
    const again = await post(`/orders/${order.id}/renew`)
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ code: 'ORDER_EXISTS', orderId: renewal.id })
    expect(sentSince(seq)).not.toContain('PurchaseServices')
  })

  it('renews a closed order that had a certificate', async () => {
    const order = await issued()
    expect((await post(`/orders/${order.id}/close`)).statusCode).toBe(200)
    const res = await post(`/orders/${order.id}/renew`)
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().renewalOf).toBe(order.id)
  })

  it('refuses to renew a closed order that was never issued (closed while awaiting configuration): 409, nothing bought', async () => {
    const order = await place()
    expect((await post(`/orders/${order.id}/close`)).json()).toMatchObject({ status: 'closed', billmanagerStatus: 'failed' })
    await refused(() => post(`/orders/${order.id}/renew`), 'closed')
  })

  it('does not buy a renewal through a module that was deleted after the order was issued', async () => {
    const doomed = await createModule('doomed', 'resellid', 'resellpw', 7)
    const order = await issued({ moduleId: doomed })
    const deleted = await t.app.inject({ method: 'DELETE', url: `/modules/${doomed}`, headers: auth('admin') })
    expect(deleted.statusCode, deleted.body).toBe(200)
    const seq = lastSeq()
    const res = await post(`/orders/${order.id}/renew`)
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400)
    expect(res.statusCode).toBeLessThan(500)
    expect(sentSince(seq)).not.toContain('PurchaseServices')
  })

  it('refuses to renew an order that is not issued (awaiting configuration, processing, refunded): 409, nothing bought', async () => {
    const fresh = await place()
    await refused(() => post(`/orders/${fresh.id}/renew`), 'awaiting_configuration')
    const processing = await submitted()
    await refused(() => post(`/orders/${processing.id}/renew`), 'processing')
    const refunded = await force(await submitted(), 7)
    await refused(() => post(`/orders/${refunded.id}/renew`), 'refunded')
  })
})

describe('GET /orders/:id/certificate', () => {
  it('answers 409 CERTIFICATE_NOT_ISSUED before issue and the PEM (certificate, then chain) once issued', async () => {
    const order = await submitted()
    const early = await get(`/orders/${order.id}/certificate`)
    expect(early.statusCode).toBe(409)
    expect(early.json()).toMatchObject({ code: 'CERTIFICATE_NOT_ISSUED', orderId: order.id })
    expect(early.json().detail).toContain('processing')
    await force(order, 4)
    const res = await get(`/orders/${order.id}/certificate`, 'ops')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/application\/x-pem-file/)
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${order.id}.pem"`)
    expect(res.body.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBeGreaterThanOrEqual(2)
    const atEnom = await s.sim.state.cert(certIdOf(order))
    expect(res.body.startsWith((atEnom?.certificatePem ?? 'missing').trim())).toBe(true)
  })

  it('answers 404 for an unknown order', async () => {
    const res = await get(`/orders/${randomUUID()}/certificate`)
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('NOT_FOUND')
  })
})
