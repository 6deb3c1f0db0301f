// Protections that would be easy to lose: key rotation, data retention, hostile API URLs and DNS
// answers, body size limits on every route, and crafted ids.
import type { LookupFunction } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { enomClientFor } from '../../src/app.js'
import { passwordAad } from '../../src/domain/modules.js'
import { rotateSecrets } from '../../src/domain/rotation.js'
import { SecretBox, SecretsError } from '../../src/domain/secrets.js'
import { checkApiUrl } from '../../src/domain/url-policy.js'
import { parseAllowedOrigins } from '../../src/config.js'
import { auth, createTestDatabase, SECRETS_KEY, startTestApp, type TestApp, type TestDatabase } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
// What the resolver answers for reseller.enom.com in the current test.
let answer = '127.0.0.1'
const lookup: LookupFunction = (_hostname, options, callback) => {
  const cb = callback as unknown as (err: null, address: unknown, family?: number) => void
  const family = answer.includes(':') ? 6 : 4
  if ((options as { all?: boolean }).all) return cb(null, [{ address: answer, family }])
  return cb(null, answer, family)
}

beforeAll(async () => {
  s = await startSimulatorForTest()
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_ANON_PER_MINUTE: '100000' },
    (config, logger) => enomClientFor(config, logger, { lookup, retry: { attempts: 1, baseDelayMs: 10 } }))
})
afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
})
beforeEach(async () => {
  s.sim.state.reset()
})

const moduleBody = (over: Record<string, unknown> = {}) => ({ name: `m-${Math.random()}`, dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false, ...over })

describe('key rotation', () => {
  it('re-encrypts every stored secret with the new key; old keys can then go, and a missing key fails closed', async () => {
    const m = (await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: moduleBody() })).json()
    const newKey = SecretBox.generateKeyEntry('rotated')
    const both = SecretBox.fromKeyring(`${newKey},${SECRETS_KEY}`)
    const report = await rotateSecrets(t.db.prisma, both)
    expect(report.moduleSecrets).toBeGreaterThanOrEqual(1)
    const { rows } = await t.db.pool.query('SELECT password_enc FROM processing_module WHERE id = $1', [m.id])
    expect(SecretBox.keyIdOf(rows[0].password_enc)).toBe('rotated')
    expect(SecretBox.fromKeyring(newKey).decrypt(rows[0].password_enc, passwordAad(m.id))).toBe('resellpw')
    expect(() => SecretBox.fromKeyring(SECRETS_KEY).decrypt(rows[0].password_enc, passwordAad(m.id))).toThrow(SecretsError)
    expect((await rotateSecrets(t.db.prisma, both)).moduleSecrets).toBe(0)
    // Back to the suite's key so that the other tests of this file keep reading their modules.
    await rotateSecrets(t.db.prisma, SecretBox.fromKeyring(`${SECRETS_KEY},${newKey}`))
  })
})

describe('retention', () => {
  it('purges CSRs, contacts and the eNom call audit of orders final for RETENTION_DAYS, and nothing else', async () => {
    const m = (await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: moduleBody() })).json()
    const insert = (id: string, status: string, age: string) => t.db.pool.query(`INSERT INTO certificate_order (id, module_id, caller, service_id, environment, product_code, prod_type, family, years, domain, sans, status, approvers, csr, contacts, created_at, updated_at)
      VALUES ($1::uuid, $2, 'shop', $5, 'live', 'p', 23, 'geotrust', 1, 'example.com', '{}', $3, '{}', 'CSR', '{"admin":{}}', now() - $4::interval, now() - $4::interval)`, [id, m.id, status, age, `svc-${id}`])
    await insert('01900000-0000-7000-8000-0000000000a1', 'issued', '500 days')
    await insert('01900000-0000-7000-8000-0000000000a2', 'issued', '10 days')
    await insert('01900000-0000-7000-8000-0000000000a3', 'processing', '500 days')
    for (const id of ['01900000-0000-7000-8000-0000000000a1', '01900000-0000-7000-8000-0000000000a2']) {
      await t.db.pool.query('INSERT INTO enom_call (id, module_id, order_id, command, started_at, duration_ms, outcome) VALUES (gen_random_uuid(), $1, $2, \'CertGetCertDetail\', now() - interval \'500 days\', 5, \'ok\')', [m.id, id])
    }
    await t.app.services.queue.enqueue({ kind: 'retention.purge', key: 'retention:test' })
    t.app.services.runner.start()
    try {
      for (let i = 0; i < 100 && (await t.db.pool.query("SELECT status FROM job WHERE key = 'retention:test'")).rows[0]?.status !== 'done'; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      await t.app.services.runner.stop(2000)
    }
    const { rows } = await t.db.pool.query("SELECT id, csr IS NULL AS csr_gone, contacts IS NULL AS contacts_gone FROM certificate_order WHERE id::text LIKE '01900000-0000-7000-8000-0000000000a%' ORDER BY id")
    expect(rows.map((r) => [r.csr_gone, r.contacts_gone])).toEqual([[true, true], [false, false], [false, false]])
    const calls = (await t.db.pool.query('SELECT order_id FROM enom_call WHERE order_id IS NOT NULL')).rows.map((r) => r.order_id)
    expect(calls).toEqual(['01900000-0000-7000-8000-0000000000a2'])
  })
})

describe('hostile API URLs', () => {
  const allowed = parseAllowedOrigins('https://reseller.enom.com,https://resellertest.enom.com')

  it.each([
    'https://user:pw@reseller.enom.com/interface.asp',
    'https://reseller.enom.com@127.0.0.1/interface.asp',
    'http://2130706433/interface.asp',
    'http://0177.0.0.1/interface.asp',
    'http://0x7f000001/interface.asp',
    'http://127.1/interface.asp',
    'http://[::ffff:127.0.0.1]/interface.asp',
    'http://[::1]/interface.asp',
    'http://localhost/interface.asp',
    'http://localhost./interface.asp',
    'https://reseller.enom.com./interface.asp',
    'https://reseller.enom.com:443/interface.asp',
    'https://reseller.enom.com.evil.example/interface.asp',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/interface.asp',
    'http://[fc00::1]/interface.asp',
    'http://reseller.enom.com/interface.asp',
    'file:///etc/passwd',
    'https://reseller.enom.com/interface.asp/../admin'
  ])('refuses %s before any connection', async (url) => {
    expect(checkApiUrl(url, allowed).ok).toBe(false)
    const res = await t.app.inject({ method: 'POST', url: '/modules/check-connection', headers: auth('admin'), payload: { apiUrl: url, username: 'u', password: 'p' } })
    expect(res.json().cause).toBe('url_not_allowed')
  })

  it.each(['127.0.0.1', '169.254.169.254', '10.1.2.3', '192.168.0.10', '100.64.0.1', '::1', 'fc00::1', '::ffff:127.0.0.1'])(
    'refuses eNom hosts whose DNS answer is %s, before connecting', async (address) => {
      answer = address
      const res = await t.app.inject({ method: 'POST', url: '/modules/check-connection', headers: auth('admin'), payload: { apiUrl: 'https://reseller.enom.com/interface.asp', username: 'u', password: 'p' } })
      expect(res.statusCode).toBe(422)
      expect(res.json().cause).toBe('url_not_allowed')
    })

  it('never follows a redirect', async () => {
    s.sim.state.addFault({ redirect: 'http://169.254.169.254/latest/meta-data/' })
    const res = await t.app.inject({ method: 'POST', url: '/modules/check-connection', headers: auth('admin'), payload: { apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw' } })
    expect(res.json()).toMatchObject({ code: 'CONNECTION_FAILED', cause: 'http_status' })
    expect(res.json().detail).toMatch(/302/)
  })
})

describe('request limits', () => {
  it('answers 413 PAYLOAD_TOO_LARGE on every route that takes a body', async () => {
    const big = JSON.stringify({ filler: 'x'.repeat(70 * 1024) })
    const id = '01900000-0000-7000-8000-000000000000'
    let checked = 0
    for (const route of t.app.routePermissions) {
      if (!['POST', 'PATCH', 'PUT'].includes(route.method)) continue
      const res = await t.app.inject({ method: route.method as 'POST', url: route.url.replace(/:\w+/g, id), headers: { ...auth('admin'), 'content-type': 'application/json', 'idempotency-key': '"big"' }, payload: big })
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(413)
      expect(res.json().code).toBe('PAYLOAD_TOO_LARGE')
      checked++
    }
    expect(checked).toBeGreaterThan(15)
  })

  it('answers 400 for malformed ids and 404 for ids of something else, never another record', async () => {
    const m = (await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: moduleBody() })).json()
    for (const bad of ["1' OR '1'='1", '..%2F..%2Fetc', '00000000-0000-0000-0000-00000000000g', `${m.id}x`, '%00']) {
      const res = await t.app.inject({ url: `/orders/${bad}`, headers: auth('admin') })
      expect([400, 404], bad).toContain(res.statusCode)
      expect(res.headers['content-type']).toMatch(/problem\+json/)
    }
    // A module's id is not an order, a task or a webhook.
    for (const path of [`/orders/${m.id}`, `/webhooks/${m.id}`, `/orders/${m.id}/certificate`]) {
      expect((await t.app.inject({ url: path, headers: auth('admin') })).statusCode, path).toBe(404)
    }
    expect((await t.app.inject({ method: 'POST', url: `/tasks/${m.id}/resolve`, headers: auth('admin'), payload: {} })).statusCode).toBe(404)
  })
})
