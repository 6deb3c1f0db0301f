// The typed client (clients/typescript) against the running service over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EnomSslClient, idempotencyKeyHeader } from '../../clients/typescript/src/index.js'
import { createTestDatabase, startTestApp, TOKENS, type TestApp, type TestDatabase } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let admin: EnomSslClient
let billing: EnomSslClient

beforeAll(async () => {
  s = await startSimulatorForTest()
  database = await createTestDatabase()
  t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins })
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' })
  admin = new EnomSslClient({ baseUrl: address, token: TOKENS.admin })
  billing = new EnomSslClient({ baseUrl: `${address}/`, token: TOKENS.billing })
})
afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
})

describe('the typed client', () => {
  it('creates a module, reads it back, and orders a certificate with an Idempotency-Key', async () => {
    const health = await admin.request('get', '/health')
    expect(health.ok && health.data.status).toBe('ok')

    const created = await admin.request('post', '/modules', {
      body: { name: 'client', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw' }
    })
    if (!created.ok) throw new Error(JSON.stringify(created.problem))
    expect(created.status).toBe(201)
    expect(created.data.passwordSet).toBe(true)
    const read = await admin.request('get', '/modules/{id}', { params: { id: created.data.id } })
    expect(read.ok && read.data.name).toBe('client')

    const body = { serviceId: 'svc-client', productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' }
    const first = await billing.request('post', '/orders', { body, idempotencyKey: 'client-key-1', requestId: 'client-req-1' })
    if (!first.ok) throw new Error(JSON.stringify(first.problem))
    expect(first.status).toBe(201)
    expect(first.headers.get('x-request-id')).toBe('client-req-1')
    const replay = await billing.request('post', '/orders', { body, idempotencyKey: 'client-key-1' })
    expect(replay.ok && replay.data.id).toBe(first.data.id)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(s.sim.state.ledger({ command: 'PurchaseServices' })).toHaveLength(1)

    const list = await billing.request('get', '/orders', { query: { serviceId: 'svc-client' } })
    expect(list.ok && list.data.total).toBe(1)
  })

  it('returns problems with their stable code', async () => {
    const missing = await admin.request('get', '/orders/{id}', { params: { id: '01900000-0000-7000-8000-000000000000' } })
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.problem).toMatchObject({ status: 404, code: 'NOT_FOUND' })
    const forbidden = await billing.request('post', '/purchases/pause', { body: {} })
    expect(!forbidden.ok && forbidden.problem.code).toBe('FORBIDDEN')
  })

  it('quotes keys as RFC 8941 strings', () => {
    expect(idempotencyKeyHeader('a"b\\c')).toBe('"a\\"b\\\\c"')
  })

  it('is typed from the OpenAPI document', () => {
    // Compile-time checks: these lines fail `npm run typecheck` if the types stop matching the API.
    const typed = async () => {
      // @ts-expect-error -- unknown route
      await admin.request('get', '/nope')
      // @ts-expect-error -- sort is an integer, not a string
      await admin.request('post', '/modules', { body: { name: 'x', dataCenter: 'd', department: 'd', sort: '1', apiUrl: 'u', username: 'u', password: 'p' } })
    }
    expect(typeof typed).toBe('function')
  })
})
