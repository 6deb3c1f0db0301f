// The wizard's last step over real sockets: the simulator for eNom's answers and faults, a
// closed port, a self-signed TLS server, an injected DNS resolver, and the URL policy.
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { LookupFunction } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { enomClientFor } from '../../src/app.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'
import { selfSignedCert } from '../enom/tls-cert.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let tls: Server
let tlsPort: number
let closedPort: number

const HINTS = [
  'Check the connection parameters: API URL, username and password (or API token).',
  'Check that the API URL is reachable from this server.',
  "Check that API calls are allowed from this server's IP address in the eNom account."
]

// DNS of the test's own: enom-sim.test resolves to the simulator, nxdomain.test to nothing.
const lookup: LookupFunction = (hostname, options, callback) => {
  const cb = callback as unknown as (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void
  if (hostname === 'nxdomain.test') {
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }) as NodeJS.ErrnoException
    return cb(err, undefined)
  }
  if ((options as { all?: boolean }).all) return cb(null, [{ address: '127.0.0.1', family: 4 }])
  return cb(null, '127.0.0.1', 4)
}

beforeAll(async () => {
  s = await startSimulatorForTest()
  const cert = await selfSignedCert()
  tls = createHttpsServer({ key: cert.key, cert: cert.cert }, (_req, res) => res.end('<interface-response/>'))
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
  tlsPort = (tls.address() as { port: number }).port
  const probe = createHttpsServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  closedPort = (probe.address() as { port: number }).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))

  database = await createTestDatabase()
  const port = new URL(s.sim.url).port
  const env = {
    ENOM_ALLOWED_ORIGINS: `${s.allowedOrigins},https://127.0.0.1:${tlsPort},http://127.0.0.1:${closedPort},http://nxdomain.test:${port},http://enom-sim.test:${port}`,
    ENOM_TIMEOUT_MS: '1500'
  }
  // The app gets an eNom client with the resolver above; everything else is as configured.
  t = await startTestApp(database, env, (config, logger) => enomClientFor(config, logger, { lookup, retry: { attempts: 1, baseDelayMs: 10 } }))
})

afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
  await new Promise<void>((resolve) => tls.close(() => resolve()))
})

// Requests a slow-eNom test left in the simulator still land after its reset; count from here.
let started = ''
const ledgerSinceStart = () => s.sim.state.ledger().filter((e) => e.at >= started)
beforeEach(async () => {
  started = new Date().toISOString()
  s.sim.state.reset()
  await truncate(t, 'processing_module')
})

const check = (apiUrl: string, username = 'resellid', password = 'resellpw') =>
  t.app.inject({ method: 'POST', url: '/modules/check-connection', headers: auth('admin'), payload: { apiUrl, username, password } })

async function expectFailure (apiUrl: string, cause: string, username?: string, password?: string) {
  const res = await check(apiUrl, username, password)
  expect(res.statusCode, res.body).toBe(422)
  const problem = res.json()
  expect(problem).toMatchObject({ code: 'CONNECTION_FAILED', title: 'Cannot connect to the processing module', cause, hints: HINTS })
  expect(problem.detail).toEqual(expect.any(String))
  return problem
}

describe('POST /modules/check-connection', () => {
  it('answers 200 with the balance the check read', async () => {
    const res = await check(s.liveUrl)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ ok: true, balance: '5000.00', availableBalance: '5000.00', currency: 'USD', account: expect.any(String) })
  })

  it('names auth and says that live and test credentials differ', async () => {
    const problem = await expectFailure(s.liveUrl, 'auth', 'resellid', 'wrong-password')
    expect(problem.detail).toMatch(/Live and test accounts have different passwords/)
    expect(problem.enomCode).toBe('304155')
  })

  it('names the IP to allow when eNom refuses the caller', async () => {
    s.sim.state.updateAccount('resellid', { allowedIps: ['203.0.113.9'] })
    const problem = await expectFailure(s.liveUrl, 'ip_not_allowed')
    expect(problem.ip).toBe('127.0.0.1')
    expect(problem.detail).toMatch(/add 127\.0\.0\.1 to the API IP allow-list/)
  })

  it('names connect for a closed port', async () => {
    await expectFailure(`http://127.0.0.1:${closedPort}/interface.asp`, 'connect')
  })

  it('names dns when the host does not resolve (injected resolver)', async () => {
    const port = new URL(s.sim.url).port
    await expectFailure(`http://nxdomain.test:${port}/interface.asp`, 'dns')
    // The same resolver reaches the simulator under another name: the injection is real DNS.
    expect((await check(`http://enom-sim.test:${port}/interface.asp`)).statusCode).toBe(200)
  })

  it('names tls for a server with a self-signed certificate', async () => {
    await expectFailure(`https://127.0.0.1:${tlsPort}/interface.asp`, 'tls')
  })

  it('names timeout when eNom answers too late', async () => {
    s.sim.state.addFault({ latencyMs: 2500, phase: 'before' })
    await expectFailure(s.liveUrl, 'timeout')
  })

  it('names http_status for a gateway error page', async () => {
    s.sim.state.addFault({ httpStatus: 503 })
    const problem = await expectFailure(s.liveUrl, 'http_status')
    expect(problem.detail).toMatch(/503/)
  })

  it.each([['malformedXml'], ['htmlPage'], ['truncate']])('names malformed_response for %s', async (kind) => {
    s.sim.state.addFault({ [kind]: true })
    await expectFailure(s.liveUrl, 'malformed_response')
  })

  it('names url_not_allowed and sends nothing', async () => {
    for (const url of ['https://evil.example/interface.asp', `http://127.0.0.1:${new URL(s.sim.url).port}/other.asp`, `http://user:pw@127.0.0.1:${new URL(s.sim.url).port}/interface.asp`]) {
      await expectFailure(url, 'url_not_allowed')
    }
    expect(ledgerSinceStart()).toEqual([])
  })

  it('never writes the password to the log, whatever eNom does', async () => {
    await check(s.liveUrl, 'resellid', 'wrong-password-xyz')
    await check(s.liveUrl)
    for (const fault of [{ httpStatus: 500 }, { redirect: 'http://127.0.0.1:1/x' }, { truncate: true }, { malformedXml: true }, { htmlPage: true }, { resetBeforeProcessing: true }, { resetAfterProcessing: true }]) {
      s.sim.state.clearFaults()
      s.sim.state.addFault(fault)
      expect((await check(s.liveUrl)).statusCode).toBe(422)
    }
    const text = t.logs.join('\n')
    expect(text).toMatch(/CheckLogin|GetBalance/)
    expect(text).not.toMatch(/wrong-password-xyz|resellpw|pw=/)
  })
})

describe('the check on create and update', () => {
  const module = (over: Record<string, unknown> = {}) => ({
    name: 'sim', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', ...over
  })

  it('saves nothing when the check fails, and records the check when it succeeds', async () => {
    const failed = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: module({ password: 'nope' }) })
    expect(failed.statusCode).toBe(422)
    expect(failed.json().cause).toBe('auth')
    expect((await t.db.pool.query('SELECT count(*)::int AS n FROM processing_module')).rows[0].n).toBe(0)

    const created = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: module() })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json()).toMatchObject({ lastCheck: { ok: true, cause: null }, lastBalance: { balance: '5000.00' }, enomAccount: expect.any(String) })
  })

  it('skips the check with checkConnection: false (nothing reaches eNom)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: module({ password: 'nope', checkConnection: false }) })
    expect(res.statusCode).toBe(201)
    expect(res.json().lastCheck).toBeNull()
    expect(ledgerSinceStart()).toEqual([])
  })

  it('checks a saved module and records the outcome', async () => {
    const created = (await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: module() })).json()
    s.sim.state.updateAccount('resellid', { allowedIps: ['203.0.113.9'] })
    const failed = await t.app.inject({ method: 'POST', url: `/modules/${created.id}/check-connection`, headers: auth('admin') })
    expect(failed.statusCode).toBe(422)
    expect(failed.json().cause).toBe('ip_not_allowed')
    const after = (await t.app.inject({ url: `/modules/${created.id}`, headers: auth('admin') })).json()
    expect(after.lastCheck).toMatchObject({ ok: false, cause: 'ip_not_allowed' })
    expect(after.version).toBe(created.version)
    s.sim.state.updateAccount('resellid', { allowedIps: ['*'] })
    const ok = await t.app.inject({ method: 'POST', url: `/modules/${created.id}/check-connection`, headers: auth('admin') })
    expect(ok.statusCode).toBe(200)
    expect((await t.app.inject({ url: `/modules/${created.id}`, headers: auth('admin') })).json().lastCheck.ok).toBe(true)
  })

  it('checks new credentials on PATCH; with orders they must reach the same eNom account', async () => {
    s.sim.state.addAccount({ uid: 'other', pw: 'otherpw', balance: '10.00' })
    const created = (await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: module() })).json()
    const patch = (payload: Record<string, unknown>, etag: string) => t.app.inject({ method: 'PATCH', url: `/modules/${created.id}`, headers: { ...auth('admin'), 'if-match': etag }, payload })

    const bad = await patch({ password: 'wrong' }, '"v1"')
    expect(bad.statusCode).toBe(422)
    expect(bad.json().cause).toBe('auth')

    await t.db.pool.query(`INSERT INTO certificate_order (id, module_id, caller, service_id, environment, product_code, prod_type, family, years, domain, sans, status, approvers, updated_at)
      VALUES ('01900000-0000-7000-8000-0000000000aa', $1, 'shop', 'svc-1', 'live', 'certificate-rapidssl-rapidssl', 23, 'geotrust', 1, 'example.com', '{}', 'issued', '{}', now())`, [created.id])
    const mismatch = await patch({ username: 'other', password: 'otherpw' }, '"v1"')
    expect(mismatch.statusCode).toBe(409)
    expect(mismatch.json().code).toBe('ACCOUNT_MISMATCH')
    const skip = await patch({ password: 'x', checkConnection: false }, '"v1"')
    expect(skip.statusCode).toBe(409)
    expect(skip.json().code).toBe('CHECK_REQUIRED')

    s.sim.state.updateAccount('resellid', { pw: 'rotated-pw' })
    const rotated = await patch({ password: 'rotated-pw' }, '"v1"')
    expect(rotated.statusCode, rotated.body).toBe(200)
    expect(rotated.json().version).toBe(2)
  })
})
