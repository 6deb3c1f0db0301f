// What ops rely on: /metrics, rate limits, load shedding, and the audit trail of admin actions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth, createTestDatabase, startTestApp, TOKENS, type TestApp, type TestDatabase } from '../support/app.js'
import { startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'

let database: TestDatabase
let s: SimulatorForTest

beforeAll(async () => {
  s = await startSimulatorForTest([{ uid: 'resellid', pw: 'resellpw', balance: '50.00' }])
  database = await createTestDatabase()
})
afterAll(async () => {
  await database.drop()
  await s.sim.close()
})

async function withApp (env: Record<string, string>, fn: (t: TestApp) => Promise<void>) {
  const t = await startTestApp(database, { ENOM_ALLOWED_ORIGINS: s.allowedOrigins, ...env })
  try {
    await fn(t)
  } finally {
    await t.close()
  }
}

const moduleBody = (name: string, password = 'Pa55-not-in-audit') => ({ name, dataCenter: 'dc', department: 'ssl', sort: 1, minimalBalance: '100.00', apiUrl: s.liveUrl, username: 'resellid', password, checkConnection: false })

describe('GET /metrics', () => {
  it('exposes requests, eNom calls, balances, orders, tasks, jobs, the pool and the kill switch', async () => {
    await withApp({ METRICS_TOKEN: 'scraper-token-0123456789' }, async (t) => {
      const m = (await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: moduleBody('metrics', 'resellpw') })).json()
      const balance = await t.app.inject({ url: `/modules/${m.id}/balance`, headers: auth('ops') })
      expect(balance.statusCode, balance.body).toBe(200)
      const res = await t.app.inject({ url: '/metrics', headers: auth('ops') })
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/plain/)
      const text = res.body
      expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/modules\/:id\/balance",status="200"\} 1/)
      expect(text).toMatch(/enom_call_duration_seconds_count\{command="GetBalance",outcome="ok"\} 1/)
      expect(text).toContain(`enom_available_balance_usd{module_id="${m.id}",module="metrics"} 50`)
      expect(text).toContain(`enom_balance_below_minimal{module_id="${m.id}",module="metrics"} 1`)
      expect(text).toMatch(/tasks_open\{department="ssl"\} 1/)
      expect(text).toMatch(/db_pool_connections\{state="max"\} 10/)
      expect(text).toMatch(/^purchases_paused 0$/m)
      expect(text).toMatch(/# TYPE orders gauge/)
      expect(text).toMatch(/# TYPE jobs_queued gauge/)
      expect(text).not.toContain('Pa55-not-in-audit')
      expect((await t.app.inject({ url: '/metrics', headers: auth('billing') })).statusCode).toBe(403)
      expect((await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer scraper-token-0123456789' } })).statusCode).toBe(200)
      // The scraper's token opens /metrics and nothing else.
      expect((await t.app.inject({ url: '/modules', headers: { authorization: 'Bearer scraper-token-0123456789' } })).statusCode).toBe(401)
    })
  })
})

describe('rate limits', () => {
  it('limits each caller per minute with 429 problem+json and Retry-After, leaving other callers and health alone', async () => {
    await withApp({ RATE_LIMIT_PER_MINUTE: '5', RATE_LIMIT_ANON_PER_MINUTE: '3' }, async (t) => {
      const codes = []
      for (let i = 0; i < 6; i++) codes.push((await t.app.inject({ url: '/modules', headers: auth('ops') })).statusCode)
      expect(codes).toEqual([200, 200, 200, 200, 200, 429])
      const limited = await t.app.inject({ url: '/modules', headers: auth('ops') })
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(limited.json().code).toBe('RATE_LIMITED')
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
      expect(limited.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': limited.headers['retry-after'] })
      expect((await t.app.inject({ url: '/modules', headers: auth('billing') })).statusCode).toBe(200)
      const anonymous = []
      for (let i = 0; i < 4; i++) anonymous.push((await t.app.inject({ url: '/openapi.json' })).statusCode)
      expect(anonymous).toEqual([200, 200, 200, 429])
      // A wrong token counts against the address, not against a caller.
      expect((await t.app.inject({ url: '/modules', headers: { authorization: 'Bearer not-a-token-at-all-x' } })).statusCode).toBe(429)
      for (let i = 0; i < 10; i++) expect((await t.app.inject({ url: '/health' })).statusCode).toBe(200)
    })
  })
})

describe('load shedding', () => {
  it('answers 503 OVERLOADED with Retry-After when queries queue for the pool, and health still answers', async () => {
    await withApp({ DB_POOL_MAX: '1', LOAD_SHED_POOL_QUEUE: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '5000' }, async (t) => {
      const held = await t.db.pool.connect()
      try {
        const waiting = t.app.inject({ url: '/modules', headers: auth('ops') })
        for (let i = 0; i < 50 && t.db.pool.waitingCount === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
        expect(t.db.pool.waitingCount).toBe(1)
        const shed = await t.app.inject({ url: '/modules', headers: auth('ops') })
        expect(shed.statusCode).toBe(503)
        expect(shed.json().code).toBe('OVERLOADED')
        expect(shed.headers['retry-after']).toBe('1')
        expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200)
        held.release()
        expect((await waiting).statusCode).toBe(200)
      } finally {
        if (t.db.pool.totalCount > 0 && t.db.pool.idleCount === 0) held.release()
      }
    })
  })

  it('answers 503 OVERLOADED when the event loop lags', async () => {
    await withApp({ LOAD_SHED_EVENT_LOOP_DELAY_MS: '50' }, async (t) => {
      const until = Date.now() + 1500
      while (Date.now() < until) { /* block the event loop, as a CPU-bound overload would */ }
      await new Promise((resolve) => setTimeout(resolve, 50))
      const res = await t.app.inject({ url: '/modules', headers: auth('ops') })
      expect(res.statusCode).toBe(503)
      expect(res.json().code).toBe('OVERLOADED')
      expect(res.headers['retry-after']).toBeDefined()
      expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200)
    })
  })
})

describe('audit trail', () => {
  it('records who did what to which record under which request, never the secret', async () => {
    await withApp({}, async (t) => {
      const created = await t.app.inject({ method: 'POST', url: '/modules', headers: { ...auth('admin'), 'x-request-id': 'audit-1' }, payload: moduleBody('audited') })
      const m = created.json()
      await t.app.inject({ method: 'PATCH', url: `/modules/${m.id}`, headers: { ...auth('admin'), 'if-match': '"v1"', 'x-request-id': 'audit-2' }, payload: { password: 'N3w-secret-value', sort: 4, checkConnection: false } })
      await t.app.inject({ method: 'POST', url: '/purchases/pause', headers: auth('admin'), payload: { reason: 'maintenance' } })
      await t.app.inject({ method: 'POST', url: '/purchases/resume', headers: auth('admin') })
      await t.app.inject({ method: 'DELETE', url: `/modules/${m.id}`, headers: auth('admin') })
      await t.app.inject({ method: 'PATCH', url: `/modules/${m.id}`, headers: { ...auth('admin'), 'if-match': '"v1"' }, payload: { sort: 1 } })
      const res = await t.app.inject({ url: `/audit?targetId=${m.id}`, headers: auth('admin') })
      expect(res.statusCode).toBe(200)
      const events = res.json().items.reverse()
      expect(events.map((e: { action: string }) => e.action)).toEqual(['module.created', 'module.updated', 'module.deleted'])
      expect(events[0]).toMatchObject({ actor: 'root', role: 'admin', requestId: 'audit-1', targetType: 'module' })
      expect(events[1]).toMatchObject({ requestId: 'audit-2', details: { fields: ['password', 'sort'], passwordChanged: true } })
      const all = (await t.app.inject({ url: '/audit?limit=200', headers: auth('admin') })).json()
      expect(all.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['purchases.paused', 'purchases.resumed']))
      expect(JSON.stringify(all)).not.toMatch(/N3w-secret-value|Pa55-not-in-audit/)
      const { rows } = await t.db.pool.query('SELECT details::text AS d FROM audit_event')
      expect(rows.map((r) => r.d).join()).not.toMatch(/N3w-secret-value|Pa55-not-in-audit/)
      expect((await t.app.inject({ url: '/audit', headers: auth('ops') })).statusCode).toBe(403)
      expect(TOKENS.admin).toBeDefined()
    })
  })
})
