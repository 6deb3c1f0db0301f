// Health, request ids, request logging, 404s and the API description.
import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { openDatabase } from '../../src/db/database.js'
import { TokenRegistry } from '../../src/domain/access.js'
import { SecretBox } from '../../src/domain/secrets.js'
import { createLogger } from '../../src/logger.js'
import { auth, createTestDatabase, startTestApp, testConfig, type TestApp, type TestDatabase } from '../support/app.js'

let database: TestDatabase
let t: TestApp

beforeAll(async () => {
  database = await createTestDatabase()
  t = await startTestApp(database)
})
afterAll(async () => {
  await t.close()
  await database.drop()
})

describe('GET /health', () => {
  it('reports the database up, with uptime and version', async () => {
    const res = await t.app.inject({ url: '/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok', db: 'up', uptimeSeconds: expect.any(Number), version: t.config.version })
    expect((await t.app.inject({ url: '/health/ready' })).json().db).toBe('up')
    expect((await t.app.inject({ url: '/health/live' })).json().status).toBe('ok')
  })

  it('is not logged at info level, while other requests are, once, with id, caller, route, status and duration', async () => {
    const before = t.logs.length
    await t.app.inject({ url: '/health' })
    await t.app.inject({ url: '/modules', headers: { ...auth('ops'), 'x-request-id': 'req-log-1' } })
    const lines = t.logs.slice(before).map((l) => JSON.parse(l))
    expect(lines.filter((l) => l.route?.startsWith('/health'))).toEqual([])
    const requestLines = lines.filter((l) => l.msg === 'request')
    expect(requestLines).toHaveLength(1)
    expect(requestLines[0]).toMatchObject({ requestId: 'req-log-1', caller: 'watch', route: '/modules', status: 200, method: 'GET', level: 'info' })
    expect(requestLines[0].durationMs).toEqual(expect.any(Number))
  })

  describe('when the database does not answer', () => {
    let blackHole: Server
    let port: number
    const sockets = new Set<Socket>()
    beforeAll(async () => {
      // Accepts connections and never says a word: the worst case for a probe.
      blackHole = createServer((socket) => { sockets.add(socket) })
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
      port = (blackHole.address() as { port: number }).port
    })
    afterAll(() => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      blackHole.close(() => resolve())
    }))

    const appWithDatabase = async (url: string, acquireTimeoutMs = 2000) => {
      const config = testConfig(url, { HEALTH_DB_TIMEOUT_MS: '300', DB_POOL_ACQUIRE_TIMEOUT_MS: String(acquireTimeoutMs) })
      const logger = createLogger('silent')
      const db = openDatabase({ url, max: 2, acquireTimeoutMs, log: logger })
      const app = await buildApp({ config, db, secrets: SecretBox.fromKeyring(config.secretsKey as string), tokens: TokenRegistry.parse(config.apiTokens as string), logger })
      return { app, close: async () => { await app.close(); await db.close().catch(() => undefined) } }
    }

    it('answers 503 db down within its time bound, and liveness stays 200', async () => {
      // The pool would wait 20 s for a connection: only the probe's own bound answers in time.
      const { app, close } = await appWithDatabase(`postgresql://postgres@127.0.0.1:${port}/nothing`, 20_000)
      try {
        const started = Date.now()
        const res = await app.inject({ url: '/health' })
        // Bounded by the 300 ms probe timeout; the margin is for a machine busy with other test files.
        expect(Date.now() - started).toBeLessThan(3000)
        expect(res.statusCode).toBe(503)
        expect(res.json()).toMatchObject({ status: 'unavailable', db: 'down' })
        expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(503)
        expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200)
      } finally {
        await close()
      }
    })

    it('answers data routes with 503 problem+json when the database refuses connections', async () => {
      const { app, close } = await appWithDatabase('postgresql://postgres@127.0.0.1:1/nothing')
      try {
        const res = await app.inject({ url: '/modules', headers: auth('admin') })
        expect(res.statusCode).toBe(503)
        expect(res.headers['retry-after']).toBeDefined()
        expect(res.json().code).toBe('DATABASE_UNAVAILABLE')
      } finally {
        await close()
      }
    })
  })
})

describe('X-Request-Id', () => {
  it('keeps a well-formed id, replaces a malformed one, and puts it in problem bodies', async () => {
    const kept = await t.app.inject({ url: '/modules/nope', headers: { ...auth('ops'), 'x-request-id': 'billing-42.a' } })
    expect(kept.headers['x-request-id']).toBe('billing-42.a')
    expect(kept.json().requestId).toBe('billing-42.a')
    const replaced = await t.app.inject({ url: '/health/live', headers: { 'x-request-id': 'has spaces and {braces}' } })
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const made = await t.app.inject({ url: '/health/live' })
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('unknown routes and bad bodies', () => {
  it('answers problem+json for an unknown route', async () => {
    const res = await t.app.inject({ url: '/nope' })
    expect(res.statusCode).toBe(404)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', status: 404 })
  })

  it('answers problem+json for URLs the router cannot take: bad percent-encoding, over-long path segments', async () => {
    const bad = await t.app.inject({ url: '/modules/%E0%A4%A', headers: auth('ops') })
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(bad.json()).toMatchObject({ code: 'BAD_URL', status: 400 })
    const long = await t.app.inject({ url: `/modules/${'a'.repeat(150)}`, headers: auth('ops') })
    expect(long.statusCode).toBe(414)
    expect(long.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(long.json()).toMatchObject({ code: 'URI_TOO_LONG', status: 414 })
  })

  it('refuses text PostgreSQL cannot store (NUL, unpaired surrogates) in bodies, queries and keys, naming the field', async () => {
    const cases = [
      { method: 'POST' as const, url: '/purchases/pause', payload: { reason: 'A\u0000B' }, field: 'body.reason' },
      { method: 'POST' as const, url: '/purchases/pause', payload: { reason: 'A\udfffB' }, field: 'body.reason' },
      { method: 'POST' as const, url: '/modules', payload: { name: 'x\ud800', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: 'https://reseller.enom.com/interface.asp', username: 'u', password: 'p', checkConnection: false }, field: 'body.name' },
      { method: 'GET' as const, url: '/modules?dataCenter=A%00a', field: 'query.dataCenter' },
      { method: 'GET' as const, url: '/audit?actor=%00', field: 'query.actor' }
    ]
    for (const c of cases) {
      const res = await t.app.inject({ method: c.method, url: c.url, headers: auth('admin'), ...(c.payload ? { payload: c.payload } : {}) })
      expect(res.statusCode, `${c.url}: ${res.body}`).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: c.field }] })
    }
    expect((await t.app.inject({ url: '/purchases/status', headers: auth('admin') })).json().paused).toBe(false)
    expect((await t.db.pool.query("SELECT count(*)::int AS n FROM processing_module WHERE name LIKE 'x%'")).rows[0].n).toBe(0)
  })

  it('refuses a date-time JavaScript or PostgreSQL cannot represent (a leap second, 30 February, year 0) with 400', async () => {
    for (const at of ['2016-12-31T23:59:60Z', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '0001-01-01T00:00:00%2B01:00']) {
      const res = await t.app.inject({ url: `/orders?expiringBefore=${at}`, headers: auth('ops') })
      expect(res.statusCode, at).toBe(400)
      expect(res.json().errors[0].field).toBe('query.expiringBefore')
    }
    expect((await t.app.inject({ url: '/orders?expiringBefore=2026-02-28T00:00:00.5%2B05:30', headers: auth('ops') })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/orders?expiringBefore=0001-01-01T00:00:00Z&moduleId=01a21751-e8ea-734c-8861-17cffaa894c0', headers: auth('ops') })).statusCode).toBe(200)
  })

  it('answers 400 for a PATCH with no body or a null body, not 500', async () => {
    const url = '/modules/01900000-0000-7000-8000-000000000000'
    for (const payload of [undefined, 'null']) {
      const res = await t.app.inject({ method: 'PATCH', url, headers: { ...auth('admin'), 'if-match': '"v1"', ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload } : {}) })
      expect(res.statusCode, res.body).toBe(400)
      expect(res.json().code).toBe('VALIDATION_FAILED')
    }
  })

  it('answers 400 INVALID_JSON, 415 for other media types, and 413 for oversized bodies', async () => {
    const broken = await t.app.inject({ method: 'POST', url: '/modules', headers: { ...auth('admin'), 'content-type': 'application/json' }, payload: '{"name": ' })
    expect(broken.statusCode).toBe(400)
    expect(broken.json().code).toBe('INVALID_JSON')
    const text = await t.app.inject({ method: 'POST', url: '/modules', headers: { ...auth('admin'), 'content-type': 'text/plain' }, payload: 'hello' })
    expect(text.statusCode).toBe(415)
    expect(text.json().code).toBe('UNSUPPORTED_MEDIA_TYPE')
    const big = await t.app.inject({ method: 'POST', url: '/modules', headers: { ...auth('admin'), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(100_000) }) })
    expect(big.statusCode).toBe(413)
    expect(big.json().code).toBe('PAYLOAD_TOO_LARGE')
  })
})

describe('API description', () => {
  it('serves an OpenAPI 3.1 document where every operation has tags, summary, operationId and problem responses', async () => {
    const res = await t.app.inject({ url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.components.schemas.Problem).toBeDefined()
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops as Record<string, Record<string, unknown>>).map(([method, op]) => ({ path, method, op })))
    expect(operations.length).toBeGreaterThan(5)
    const ids = new Set<string>()
    for (const { path, method, op } of operations) {
      const label = `${method} ${path}`
      expect(op.tags, label).toBeInstanceOf(Array)
      expect(op.summary, label).toEqual(expect.any(String))
      expect(op.operationId, label).toEqual(expect.any(String))
      ids.add(op.operationId as string)
      const responses = op.responses as Record<string, { content?: Record<string, unknown> }>
      expect(responses['500']?.content?.['application/problem+json'], label).toBeDefined()
    }
    expect(ids.size).toBe(operations.length)
    expect(doc.paths['/health'].get.security).toEqual([])
  })

  it('serves Swagger UI at /docs', async () => {
    const res = await t.app.inject({ url: '/docs' })
    expect(res.statusCode).toBe(200)
    expect(res.body.toLowerCase()).toContain('swagger')
  })
})
