import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { passwordAad } from '../../src/domain/modules.js'

let database: TestDatabase
let t: TestApp

const valid = (over: Record<string, unknown> = {}) => ({
  name: 'eNom live',
  dataCenter: 'dc-1',
  department: 'ssl-team',
  sort: 10,
  apiUrl: 'https://reseller.enom.com/interface.asp',
  username: 'reseller1',
  password: 'S3cret-Pa55word!',
  // These tests are about the records; the connection check has tests of its own.
  checkConnection: false,
  ...over
})

async function create (over: Record<string, unknown> = {}) {
  const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid(over) })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

beforeAll(async () => {
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_SIGNUP_URL: 'https://signup.example.test/enom' })
})
afterAll(async () => {
  await t.close()
  await database.drop()
})
beforeEach(async () => {
  await truncate(t, 'processing_module')
})

describe('POST /modules', () => {
  it('creates a module, derives its environment, and never returns the password', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid({ minimalBalance: '100.00' }) })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({
      name: 'eNom live',
      productType: 'ssl_certificate',
      handler: 'enom',
      environment: 'live',
      minimalBalance: '100.00',
      minimalBalancePolicy: 'notify',
      passwordSet: true,
      addNewClient: false,
      registrationUrl: null,
      enabled: true,
      deletedAt: null,
      version: 1
    })
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.etag).toBe('"v1"')
    expect(res.headers.location).toBe(`/modules/${body.id}`)
    expect(res.body).not.toContain('S3cret-Pa55word!')
    expect(body).not.toHaveProperty('password')
  })

  it('stores the password encrypted and bound to the module id', async () => {
    const body = await create()
    const { rows } = await t.db.pool.query('SELECT password_enc FROM processing_module WHERE id = $1', [body.id])
    const stored = rows[0].password_enc as string
    expect(stored).toMatch(/^v1:test1:/)
    expect(stored).not.toContain('S3cret')
    expect(t.secrets.decrypt(stored, passwordAad(body.id))).toBe('S3cret-Pa55word!')
    expect(() => t.secrets.decrypt(stored, passwordAad('00000000-0000-7000-8000-000000000000'))).toThrow(/failed authentication/)
  })

  it('takes the test environment from the test host and shows the sign-up link with addNewClient', async () => {
    const body = await create({ apiUrl: 'https://resellertest.enom.com/interface.asp', addNewClient: true, minimalBalancePolicy: 'block' })
    expect(body.environment).toBe('test')
    expect(body.registrationUrl).toBe('https://signup.example.test/enom')
    expect(body.minimalBalancePolicy).toBe('block')
  })

  it('rejects unknown fields instead of dropping them', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid({ isAdmin: true }) })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'body.isAdmin', message: 'is not a known field' }] })
  })

  it.each([
    ['sort as a string', { sort: '10' }, 'body.sort'],
    ['enabled as a string', { enabled: 'true' }, 'body.enabled'],
    ['money as a JSON number', { minimalBalance: 100 }, 'body.minimalBalance'],
    ['money without two decimals', { minimalBalance: '100' }, 'body.minimalBalance'],
    ['negative money', { minimalBalance: '-1.00' }, 'body.minimalBalance'],
    ['negative sort', { sort: -1 }, 'body.sort'],
    ['fractional sort', { sort: 1.5 }, 'body.sort'],
    ['a name over 100 characters', { name: 'x'.repeat(101) }, 'body.name'],
    ['a blank data center', { dataCenter: '   ' }, 'body.dataCenter'],
    ['an unknown policy', { minimalBalancePolicy: 'stop' }, 'body.minimalBalancePolicy']
  ])('rejects %s without coercing it', async (_label, over, field) => {
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid(over) })
    expect(res.statusCode).toBe(400)
    const problem = res.json()
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field)
    const { rows } = await t.db.pool.query('SELECT count(*)::int AS n FROM processing_module')
    expect(rows[0].n).toBe(0)
  })

  it('names every missing field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: { name: 'x' } })
    expect(res.statusCode).toBe(400)
    const fields = res.json().errors.map((e: { field: string }) => e.field)
    expect(fields).toEqual(expect.arrayContaining(['body.dataCenter', 'body.department', 'body.sort', 'body.apiUrl', 'body.username', 'body.password']))
  })

  it('answers 409 for a duplicate name', async () => {
    await create()
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid({ username: 'other' }) })
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('MODULE_NAME_TAKEN')
  })

  it.each([
    ['another host', 'https://evil.example.com/interface.asp'],
    ['userinfo', 'https://user:pw@reseller.enom.com/interface.asp'],
    ['plain http to eNom', 'http://reseller.enom.com/interface.asp'],
    ['another path', 'https://reseller.enom.com/other.asp'],
    ['a query string', 'https://reseller.enom.com/interface.asp?command=GetBalance'],
    ['a non-default port', 'https://reseller.enom.com:8443/interface.asp'],
    ['a trailing dot', 'https://reseller.enom.com./interface.asp'],
    ['not a URL', 'reseller.enom.com/interface.asp']
  ])('refuses an API URL with %s (422 URL_NOT_ALLOWED)', async (_label, apiUrl) => {
    const res = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid({ apiUrl }) })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'URL_NOT_ALLOWED', errors: [{ field: 'body.apiUrl' }] })
    expect(res.body).not.toContain('S3cret')
  })
})

describe('GET /modules', () => {
  it('lists by sort, then creation order, with filters and pagination', async () => {
    const c = await create({ name: 'c', sort: 5 })
    const a = await create({ name: 'a', sort: 1, dataCenter: 'dc-2' })
    const b = await create({ name: 'b', sort: 5, apiUrl: 'https://resellertest.enom.com/interface.asp', enabled: false })
    const all = (await t.app.inject({ url: '/modules', headers: auth('ops') })).json()
    expect(all.items.map((m: { id: string }) => m.id)).toEqual([a.id, c.id, b.id])
    expect(all).toMatchObject({ total: 3, limit: 50, offset: 0 })

    const page = (await t.app.inject({ url: '/modules?limit=1&offset=1', headers: auth('ops') })).json()
    expect(page.items.map((m: { id: string }) => m.id)).toEqual([c.id])
    expect(page.total).toBe(3)

    const dc = (await t.app.inject({ url: '/modules?dataCenter=dc-2', headers: auth('billing') })).json()
    expect(dc.items.map((m: { name: string }) => m.name)).toEqual(['a'])
    const enabled = (await t.app.inject({ url: '/modules?enabled=false', headers: auth('billing') })).json()
    expect(enabled.items.map((m: { name: string }) => m.name)).toEqual(['b'])
    const test = (await t.app.inject({ url: '/modules?environment=test', headers: auth('billing') })).json()
    expect(test.items.map((m: { name: string }) => m.name)).toEqual(['b'])
  })

  it('rejects unknown filters and out-of-range pages', async () => {
    expect((await t.app.inject({ url: '/modules?color=red', headers: auth('ops') })).statusCode).toBe(400)
    expect((await t.app.inject({ url: '/modules?limit=0', headers: auth('ops') })).statusCode).toBe(400)
    expect((await t.app.inject({ url: '/modules?limit=201', headers: auth('ops') })).statusCode).toBe(400)
    expect((await t.app.inject({ url: '/modules?enabled=maybe', headers: auth('ops') })).statusCode).toBe(400)
  })
})

describe('GET /modules/:id', () => {
  it('returns the module with its ETag', async () => {
    const m = await create()
    const res = await t.app.inject({ url: `/modules/${m.id}`, headers: auth('billing') })
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toBe('"v1"')
    expect(res.json()).toEqual(m)
  })

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await t.app.inject({ url: '/modules/01900000-0000-7000-8000-000000000000', headers: auth('ops') })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().code).toBe('NOT_FOUND')
    const malformed = await t.app.inject({ url: '/modules/not-a-uuid', headers: auth('ops') })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json().errors[0].field).toBe('params.id')
  })
})

describe('PATCH /modules/:id', () => {
  const patch = (id: string, payload: Record<string, unknown>, ifMatch?: string) => t.app.inject({
    method: 'PATCH', url: `/modules/${id}`, payload, headers: { ...auth('admin'), ...(ifMatch ? { 'if-match': ifMatch } : {}) }
  })

  it('requires If-Match (428) and refuses a stale ETag (412)', async () => {
    const m = await create()
    const missing = await patch(m.id, { sort: 3 })
    expect(missing.statusCode).toBe(428)
    expect(missing.json().code).toBe('PRECONDITION_REQUIRED')
    const ok = await patch(m.id, { sort: 3 }, '"v1"')
    expect(ok.statusCode).toBe(200)
    expect(ok.headers.etag).toBe('"v2"')
    expect(ok.json()).toMatchObject({ sort: 3, version: 2 })
    const stale = await patch(m.id, { sort: 4 }, '"v1"')
    expect(stale.statusCode).toBe(412)
    expect(stale.json().code).toBe('PRECONDITION_FAILED')
    expect((await t.app.inject({ url: `/modules/${m.id}`, headers: auth('admin') })).json().sort).toBe(3)
  })

  it('lets exactly one of two concurrent updates with the same ETag through', async () => {
    const m = await create()
    const results = await Promise.all([patch(m.id, { sort: 7 }, '"v1"'), patch(m.id, { sort: 8 }, '"v1"')])
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 412])
  })

  it('re-encrypts a new password, recomputes the environment, and clears the minimal balance', async () => {
    const m = await create({ minimalBalance: '50.00' })
    const res = await patch(m.id, { password: 'n3w-pass', apiUrl: 'https://resellertest.enom.com/interface.asp', minimalBalance: null, checkConnection: false }, '"v1"')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ environment: 'test', minimalBalance: null, passwordSet: true })
    expect(res.body).not.toContain('n3w-pass')
    const { rows } = await t.db.pool.query('SELECT password_enc FROM processing_module WHERE id = $1', [m.id])
    expect(t.secrets.decrypt(rows[0].password_enc, passwordAad(m.id))).toBe('n3w-pass')
  })

  it('rejects an empty patch, unknown fields, a taken name and a disallowed URL', async () => {
    const m = await create()
    await create({ name: 'other' })
    expect((await patch(m.id, {}, '"v1"')).statusCode).toBe(400)
    expect((await patch(m.id, { id: 'x' }, '"v1"')).json().errors[0].field).toBe('body.id')
    expect((await patch(m.id, { environment: 'test' }, '"v1"')).statusCode).toBe(400)
    const taken = await patch(m.id, { name: 'other' }, '"v1"')
    expect(taken.statusCode).toBe(409)
    expect(taken.json().code).toBe('MODULE_NAME_TAKEN')
    const url = await patch(m.id, { apiUrl: 'https://169.254.169.254/interface.asp' }, '"v1"')
    expect(url.statusCode).toBe(422)
    expect((await t.app.inject({ url: `/modules/${m.id}`, headers: auth('admin') })).json().version).toBe(1)
  })
})

describe('DELETE /modules/:id', () => {
  it('disables the module and keeps it for history', async () => {
    const m = await create()
    const res = await t.app.inject({ method: 'DELETE', url: `/modules/${m.id}`, headers: auth('admin') })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ id: m.id, enabled: false, version: 2 })
    expect(res.json().deletedAt).not.toBeNull()
    expect((await t.app.inject({ url: '/modules', headers: auth('admin') })).json().total).toBe(0)
    expect((await t.app.inject({ url: '/modules?includeDeleted=true', headers: auth('admin') })).json().total).toBe(1)
    expect((await t.app.inject({ url: `/modules/${m.id}`, headers: auth('admin') })).statusCode).toBe(200)
    const again = await t.app.inject({ method: 'PATCH', url: `/modules/${m.id}`, headers: { ...auth('admin'), 'if-match': '"v2"' }, payload: { enabled: true } })
    expect(again.statusCode).toBe(409)
    expect(again.json().code).toBe('MODULE_DELETED')
  })

  it('answers 404 for an unknown module', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/modules/01900000-0000-7000-8000-000000000000', headers: auth('admin') })
    expect(res.statusCode).toBe(404)
  })
})

describe('secrets in logs', () => {
  it('never writes a module password to the log', async () => {
    await create()
    await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid({ apiUrl: 'https://x.example/interface.asp' }) })
    await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: valid({ sort: 'x' }) })
    expect(t.logs.length).toBeGreaterThan(0)
    expect(t.logs.join('\n')).not.toContain('S3cret-Pa55word!')
  })
})
