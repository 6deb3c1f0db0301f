// The role matrix, cell by cell, as the running service applies it: every registered route is
// called without a token, with a wrong token, and with each role's token.
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import authPlugin from '../../src/plugins/auth.js'
import errorsPlugin from '../../src/plugins/errors.js'
import { PERMISSIONS, ROLES, TokenRegistry, roleHolds, type Permission } from '../../src/domain/access.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase } from '../support/app.js'

let database: TestDatabase
let t: TestApp

beforeAll(async () => {
  database = await createTestDatabase()
  // Every route is called without a valid token a few times: keep the per-address limit out of the way.
  t = await startTestApp(database, { RATE_LIMIT_ANON_PER_MINUTE: '100000' })
})
afterAll(async () => {
  await t.close()
  await database.drop()
})

const SOME_ID = '01900000-0000-7000-8000-000000000000'
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, SOME_ID)

describe('role matrix', () => {
  it('matches the issue: admin everything, billing orders/csr/reads, ops reads and task resolution', () => {
    const expected: Record<Permission, string[]> = {
      public: [],
      'modules.read': ['admin', 'billing', 'ops'],
      'modules.write': ['admin'],
      'products.read': ['admin', 'billing'],
      'balance.read': ['admin', 'billing', 'ops'],
      'orders.read': ['admin', 'billing', 'ops'],
      'orders.write': ['admin', 'billing'],
      'csr.parse': ['admin', 'billing'],
      'tasks.read': ['admin', 'ops'],
      'tasks.resolve': ['admin', 'ops'],
      'metrics.read': ['admin', 'ops'],
      'purchases.control': ['admin'],
      'audit.read': ['admin'],
      'webhooks.manage': ['admin']
    }
    expect(PERMISSIONS).toEqual(expected)
    for (const p of Object.keys(PERMISSIONS) as Permission[]) {
      if (p !== 'public') expect(roleHolds('admin', p)).toBe(true)
    }
  })

  it('registers every route with a permission', () => {
    expect(t.app.routePermissions.length).toBeGreaterThan(5)
    for (const r of t.app.routePermissions) expect(Object.keys(PERMISSIONS)).toContain(r.permission)
  })

  it('answers 401 without a token, 401 with a wrong one, 403 for a role without the permission, and lets the others through', async () => {
    let checked = 0
    for (const route of t.app.routePermissions) {
      const url = concrete(route.url)
      const call = (headers: Record<string, string>) => t.app.inject({ method: route.method as 'GET', url, headers, payload: ['GET', 'DELETE'].includes(route.method) ? undefined : {} })
      if (route.permission === 'public') {
        const res = await call({})
        expect([401, 403], `${route.method} ${route.url} is public`).not.toContain(res.statusCode)
        continue
      }
      const none = await call({})
      expect(none.statusCode, `${route.method} ${route.url} without a token`).toBe(401)
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/)
      expect(none.json().code).toBe('UNAUTHORIZED')
      const wrong = await call({ authorization: 'Bearer not-a-valid-token-at-all' })
      expect(wrong.statusCode).toBe(401)
      for (const role of ROLES) {
        const res = await call(auth(role))
        const label = `${route.method} ${route.url} as ${role}`
        if (roleHolds(role, route.permission)) {
          expect([401, 403], label).not.toContain(res.statusCode)
        } else {
          expect(res.statusCode, label).toBe(403)
          expect(res.json().code).toBe('FORBIDDEN')
        }
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(t.app.routePermissions.filter((r) => r.permission !== 'public').length * 3)
  })

  it('accepts the scheme in any case and rejects other schemes', async () => {
    const token = auth('ops').authorization.slice('Bearer '.length)
    expect((await t.app.inject({ url: '/modules', headers: { authorization: `bearer ${token}` } })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/modules', headers: { authorization: `Basic ${token}` } })).statusCode).toBe(401)
    expect((await t.app.inject({ url: '/modules', headers: { authorization: `Bearer ${token} extra` } })).statusCode).toBe(401)
  })
})

describe('fail-closed authentication', () => {
  it('refuses anyone without a token on a route registered before the auth plugin', async () => {
    const app = Fastify()
    await app.register(errorsPlugin)
    app.get('/early', { config: { permission: 'modules.read' } }, async () => ({ secret: 'data' }))
    await app.register(authPlugin, { tokens: TokenRegistry.parse('a:admin:aaaaaaaaaaaaaaaaaaaa') })
    app.get('/late', { config: { permission: 'modules.read' } }, async () => ({ ok: true }))
    try {
      expect((await app.inject({ url: '/early' })).statusCode).toBe(401)
      expect((await app.inject({ url: '/late' })).statusCode).toBe(401)
      expect((await app.inject({ url: '/late', headers: { authorization: 'Bearer aaaaaaaaaaaaaaaaaaaa' } })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})

describe('API_TOKENS parsing', () => {
  it('identifies callers by name and role, and refuses weak or malformed entries without echoing tokens', () => {
    const registry = TokenRegistry.parse('a:admin:aaaaaaaaaaaaaaaaaaaa,\nb:ops:bbbbbbbbbbbbbbbbbbbb')
    expect(registry.identify('aaaaaaaaaaaaaaaaaaaa')).toEqual({ name: 'a', role: 'admin' })
    expect(registry.identify('bbbbbbbbbbbbbbbbbbbb')).toEqual({ name: 'b', role: 'ops' })
    expect(registry.identify('cccccccccccccccccccc')).toBeUndefined()
    const bad = [
      'a:admin:short',
      'a:root:aaaaaaaaaaaaaaaaaaaa',
      'a:admin',
      'a b:admin:aaaaaaaaaaaaaaaaaaaa',
      'a:admin:aaaaaaaaaaaaaaaaaaaa,a:ops:bbbbbbbbbbbbbbbbbbbb',
      'a:admin:aaaaaaaaaaaaaaaaaaaa,b:ops:aaaaaaaaaaaaaaaaaaaa'
    ]
    for (const text of bad) {
      let message = ''
      try {
        TokenRegistry.parse(text)
      } catch (err) {
        message = (err as Error).message
      }
      expect(message, text).toMatch(/API_TOKENS/)
      expect(message).not.toMatch(/aaaaaaaa|bbbbbbbb|short/)
    }
  })
})
