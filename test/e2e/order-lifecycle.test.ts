// The whole lifecycle over real HTTP against the simulator: order → approver e-mails → configure
// → the sync job brings it to issued by itself → download → openssl verify → reissue.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { x509 } from '../../src/lib/x509.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase } from '../support/app.js'
import { contacts, makeCsr, startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let moduleId: string
let dir: string

beforeAll(async () => {
  s = await startSimulatorForTest([{ uid: 'resellid', pw: 'resellpw', balance: '500.00' }], 300)
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, SYNC_INTERVAL_SECONDS: '1', JOB_POLL_MS: '50', RECONCILE_DELAY_SECONDS: '0' })
  t.app.services.startJobs()
  const m = await t.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: { name: 'sim', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw' }
  })
  expect(m.statusCode, m.body).toBe(201)
  moduleId = m.json().id
  dir = mkdtempSync(join(tmpdir(), 'enom-ssl-e2e-'))
})

afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
  rmSync(dir, { recursive: true, force: true })
})

const post = (url: string, payload: unknown, key = `"${Math.random()}"`) =>
  t.app.inject({ method: 'POST', url, headers: { ...auth('billing'), 'idempotency-key': key }, payload: payload as Record<string, unknown> })

async function waitFor (orderId: string, status: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const order = (await t.app.inject({ url: `/orders/${orderId}`, headers: auth('ops') })).json()
    if (order.status === status) return order
    if (Date.now() > deadline) throw new Error(`order stayed ${order.status}, expected ${status}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function publicKeyOf (pem: string): string {
  return Buffer.from(new x509.X509Certificate(pem).publicKey.rawData).toString('base64')
}

function opensslVerify (pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  writeFileSync(join(dir, 'leaf.pem'), blocks[0] + '\n')
  writeFileSync(join(dir, 'chain.pem'), blocks.slice(1).join('\n') + '\n')
  return execFileSync('openssl', ['verify', '-CAfile', join(dir, 'chain.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' })
}

describe('certificate order lifecycle', () => {
  it('goes from order to issued by itself, downloads as verifiable PEM, and reissues', async () => {
    const placed = await post('/orders', { serviceId: 'svc-100', productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' })
    expect(placed.statusCode, placed.body).toBe(201)
    const order = placed.json()
    expect(order).toMatchObject({ status: 'awaiting_configuration', billmanagerStatus: 'requested', moduleId, family: 'geotrust', enom: { certId: expect.stringMatching(/^\d+$/) } })
    expect(order.amount).toMatch(/^\d+\.\d{2}$/)

    const early = await t.app.inject({ url: `/orders/${order.id}/certificate`, headers: auth('billing') })
    expect(early.statusCode).toBe(409)
    expect(early.json().code).toBe('CERTIFICATE_NOT_ISSUED')

    const approvers = (await t.app.inject({ url: `/orders/${order.id}/approver-emails`, headers: auth('billing') })).json()
    expect(approvers.approvers.map((a: { email: string }) => a.email)).toContain('admin@example.com')

    const csr = await makeCsr('www.example.com')
    const configured = await post(`/orders/${order.id}/configure`, { csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() })
    expect(configured.statusCode, configured.body).toBe(200)
    expect(configured.json()).toMatchObject({ status: 'processing', billmanagerStatus: 'enrolled', webServerType: 21, approverEmail: 'admin@example.com' })

    const issued = await waitFor(order.id, 'issued')
    expect(issued.billmanagerStatus).toBe('issued')
    expect(issued.certificate).toMatchObject({ serialNumber: expect.any(String), expiresAt: expect.any(String) })
    const download = await t.app.inject({ url: `/orders/${order.id}/certificate`, headers: auth('billing') })
    expect(download.statusCode).toBe(200)
    expect(download.headers['content-type']).toMatch(/application\/x-pem-file/)
    expect(publicKeyOf(download.body)).toBe(csr.publicKey)
    expect(opensslVerify(download.body)).toMatch(/leaf\.pem: OK/)
    expect(execFileSync('openssl', ['x509', '-noout', '-subject'], { input: download.body, encoding: 'utf8' })).toMatch(/www\.example\.com/)

    const next = await makeCsr('www.example.com')
    const reissued = await post(`/orders/${order.id}/reissue`, { csr: next.pem })
    expect(reissued.statusCode, reissued.body).toBe(200)
    const deadline = Date.now() + 15_000
    let pem = ''
    for (;;) {
      const res = await t.app.inject({ url: `/orders/${order.id}/certificate`, headers: auth('billing') })
      pem = res.body
      if (res.statusCode === 200 && publicKeyOf(pem) === next.publicKey) break
      if (Date.now() > deadline) throw new Error('the reissued certificate never arrived')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(opensslVerify(pem)).toMatch(/OK/)
    expect((await t.app.inject({ url: `/orders/${order.id}`, headers: auth('ops') })).json().certificate.serialNumber).not.toBe(issued.certificate.serialNumber)
  }, 60_000)
})
