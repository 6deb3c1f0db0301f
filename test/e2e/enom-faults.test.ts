// eNom misbehaving in every way the simulator can, against every route that talks to eNom: each
// answers within its time bound with the problem code that names the fault, and the calls that
// spend money end outcome_unknown, are reconciled from eNom's records, and are never sent twice.
// Each case has an eNom account of its own, so cases run side by side without seeing each other.
import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FaultInput } from '../../src/simulator/faults.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase } from '../support/app.js'
import { contacts, makeCsr, startSimulatorForTest, type SimulatorForTest, type TestCsr } from '../support/enom.js'
import { waitFor } from '../support/wait.js'

const TIMEOUT_MS = 400
const PURCHASE_TIMEOUT_MS = 1500
// A read-only command is tried three times, each try bounded by ENOM_TIMEOUT_MS, with a backoff
// under 250 + 500 ms between the tries. The slack covers the database work around the calls.
const READ_BOUND_MS = 3 * TIMEOUT_MS + 750 + 1000
// A purchase is sent once and bounded by ENOM_PURCHASE_TIMEOUT_MS; around it the route reads the
// price, the balance and the newest CertID before, and the newest CertID again after a failure.
const MONEY_BOUND_MS = PURCHASE_TIMEOUT_MS + 2 * READ_BOUND_MS

const RAPID = 'certificate-rapidssl-rapidssl'
const DOMAIN = 'www.example.com'

interface Case {
  name: string
  fault: FaultInput
  /** The problem a read-only route answers while the fault lasts. */
  status: 502 | 504
  code: string
}

const FAULTS: Case[] = [
  { name: 'latency beyond the timeout', fault: { latencyMs: 4 * TIMEOUT_MS }, status: 504, code: 'ENOM_TIMEOUT' },
  { name: 'a body trickling in past the timeout', fault: { slowBodyMs: TIMEOUT_MS, chunkBytes: 32 }, status: 504, code: 'ENOM_TIMEOUT' },
  { name: 'HTTP 503 before processing', fault: { httpStatus: 503 }, status: 502, code: 'ENOM_BAD_RESPONSE' },
  { name: 'HTTP 500 after processing', fault: { httpStatus: 500, phase: 'after' }, status: 502, code: 'ENOM_BAD_RESPONSE' },
  { name: 'a reset before processing', fault: { resetBeforeProcessing: true }, status: 502, code: 'ENOM_UNREACHABLE' },
  { name: 'a reset after processing', fault: { resetAfterProcessing: true }, status: 502, code: 'ENOM_UNREACHABLE' },
  { name: 'a truncated answer', fault: { truncate: true }, status: 502, code: 'ENOM_BAD_RESPONSE' },
  { name: 'malformed XML', fault: { malformedXml: true }, status: 502, code: 'ENOM_BAD_RESPONSE' },
  { name: 'an HTML page with status 200', fault: { htmlPage: true }, status: 502, code: 'ENOM_BAD_RESPONSE' }
]

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let csr: TestCsr
let accounts = 0

beforeAll(async () => {
  // Certificates stay where the test puts them: nothing is issued behind its back.
  s = await startSimulatorForTest(undefined, 3_600_000)
  database = await createTestDatabase()
  t = await startTestApp(database, {
    ENOM_ALLOWED_ORIGINS: s.allowedOrigins,
    ENOM_TIMEOUT_MS: String(TIMEOUT_MS),
    ENOM_PURCHASE_TIMEOUT_MS: String(PURCHASE_TIMEOUT_MS),
    JOB_POLL_MS: '50',
    RECONCILE_DELAY_SECONDS: '0',
    SPEND_LIMIT_DAILY_COUNT: '100000'
  })
  t.app.services.startJobs()
  csr = await makeCsr(DOMAIN)
})

afterAll(async () => {
  await t?.close()
  await database?.drop()
  await s?.sim.close()
})

const idempotent = (role: 'admin' | 'billing' = 'billing') => ({ ...auth(role), 'idempotency-key': `"${randomUUID()}"` })

/** A module on an eNom account of its own; faults are then aimed at that account only. */
async function freshModule (): Promise<{ id: string, uid: string }> {
  const uid = `fault${++accounts}`
  s.sim.state.addAccount({ uid, pw: `${uid}-pw`, balance: '5000.00' })
  const res = await t.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: { name: uid, dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: uid, password: `${uid}-pw`, checkConnection: false }
  })
  expect(res.statusCode, res.body).toBe(201)
  return { id: res.json().id, uid }
}

async function placeOrder (moduleId: string) {
  const res = await t.app.inject({ method: 'POST', url: '/orders', headers: idempotent(), payload: { serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, moduleId } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string, enom: { certId: string } }
}

const configuration = () => ({
  csr: csr.pem,
  webServerType: 'apache',
  approverEmail: 'admin@example.com',
  contacts: contacts()
})

async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - started }
}

const until = <T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(probe, { timeoutMs })

const readOrder = async (id: string) => (await t.app.inject({ url: `/orders/${id}`, headers: auth('ops') })).json()

interface ReadRoute {
  name: string
  /** Prepares what the route needs (without faults), then returns the request to send. */
  prepare: () => Promise<{ uid: string, send: () => Promise<LightMyRequestResponse> }>
}

const READ_ROUTES: ReadRoute[] = [
  {
    name: 'GET /modules/:id/balance?refresh=true',
    prepare: async () => {
      const m = await freshModule()
      return { uid: m.uid, send: () => t.app.inject({ url: `/modules/${m.id}/balance?refresh=true`, headers: auth('ops') }) }
    }
  },
  {
    name: 'GET /modules/:id/products?refresh=true',
    prepare: async () => {
      const m = await freshModule()
      return { uid: m.uid, send: () => t.app.inject({ url: `/modules/${m.id}/products?refresh=true`, headers: auth('billing') }) }
    }
  },
  {
    name: 'GET /orders/:id/approver-emails',
    prepare: async () => {
      const m = await freshModule()
      const order = await placeOrder(m.id)
      return { uid: m.uid, send: () => t.app.inject({ url: `/orders/${order.id}/approver-emails`, headers: auth('billing') }) }
    }
  },
  {
    name: 'POST /orders/:id/sync',
    prepare: async () => {
      const m = await freshModule()
      const order = await placeOrder(m.id)
      return { uid: m.uid, send: () => t.app.inject({ method: 'POST', url: `/orders/${order.id}/sync`, headers: idempotent() }) }
    }
  }
]

describe.concurrent('read-only routes while eNom misbehaves', () => {
  for (const route of READ_ROUTES) {
    for (const c of FAULTS) {
      it(`${route.name}: ${c.name} → ${c.status} ${c.code}`, async ({ expect }) => {
        const { uid, send } = await route.prepare()
        s.sim.state.addFault({ ...c.fault, uid })
        const { value: res, ms } = await timed(send)
        expect(res.statusCode, res.body).toBe(c.status)
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(res.json().code).toBe(c.code)
        expect(ms).toBeLessThan(READ_BOUND_MS)
        // Retried, but never more than three times per command.
        const perCommand = new Map<string, number>()
        for (const e of s.sim.state.ledger({ uid })) perCommand.set(e.command, (perCommand.get(e.command) ?? 0) + 1)
        for (const [command, n] of perCommand) expect(n, command).toBeLessThanOrEqual(command === 'PurchaseServices' ? 1 : 3)
      })
    }
  }

  it('POST /modules/:id/check-connection names the cause within its bound', async ({ expect }) => {
    for (const c of FAULTS) {
      const m = await freshModule()
      s.sim.state.addFault({ ...c.fault, uid: m.uid })
      const { value: res, ms } = await timed(() => t.app.inject({ method: 'POST', url: `/modules/${m.id}/check-connection`, headers: auth('admin') }))
      expect(res.statusCode, `${c.name}: ${res.body}`).toBe(422)
      expect(res.json().code).toBe('CONNECTION_FAILED')
      expect(['timeout', 'http_status', 'connect', 'malformed_response']).toContain(res.json().cause)
      expect(ms, c.name).toBeLessThan(2 * READ_BOUND_MS)
    }
  })
})

describe.concurrent('money-spending calls while eNom misbehaves', () => {
  for (const c of FAULTS) {
    it(`POST /orders: ${c.name} → 202 outcome_unknown, reconciled, PurchaseServices sent once`, async ({ expect }) => {
      const m = await freshModule()
      s.sim.state.addFault({ ...c.fault, uid: m.uid, command: 'PurchaseServices', times: 1 })
      const { value: res, ms } = await timed(() => t.app.inject({
        method: 'POST', url: '/orders', headers: idempotent(), payload: { serviceId: `svc-${randomUUID()}`, productCode: RAPID, years: 1, domain: DOMAIN, moduleId: m.id }
      }))
      expect(ms).toBeLessThan(MONEY_BOUND_MS)
      expect(res.statusCode, res.body).toBe(202)
      expect(res.json().status).toBe('outcome_unknown')
      const final = await until(async () => {
        const o = await readOrder(res.json().id)
        return o.status === 'outcome_unknown' ? undefined : o
      })
      const sent = s.sim.state.ledger({ uid: m.uid, command: 'PurchaseServices' })
      expect(sent).toHaveLength(1)
      if (sent[0]?.processed) {
        expect(final).toMatchObject({ status: 'awaiting_configuration', enom: { certId: String(sent[0].certId) } })
      } else {
        expect(final).toMatchObject({ status: 'failed', error: { code: 'PURCHASE_NOT_MADE' }, enom: { certId: null } })
      }
    })

    it(`POST /orders/:id/configure: ${c.name} on CertPurchaseCert → 502 OUTCOME_UNKNOWN, reconciled, sent once`, async ({ expect }) => {
      const m = await freshModule()
      const order = await placeOrder(m.id)
      s.sim.state.addFault({ ...c.fault, uid: m.uid, command: 'CertPurchaseCert', times: 1 })
      const { value: res, ms } = await timed(() => t.app.inject({ method: 'POST', url: `/orders/${order.id}/configure`, headers: idempotent(), payload: configuration() }))
      expect(ms).toBeLessThan(MONEY_BOUND_MS)
      expect(res.statusCode, res.body).toBe(502)
      expect(res.json()).toMatchObject({ code: 'OUTCOME_UNKNOWN', orderId: order.id })
      const final = await until(async () => {
        const o = await readOrder(order.id)
        return o.status === 'outcome_unknown' ? undefined : o
      })
      const sent = s.sim.state.ledger({ uid: m.uid, command: 'CertPurchaseCert' })
      expect(sent).toHaveLength(1)
      if (sent[0]?.processed) {
        expect(final.status).toBe('processing')
      } else {
        expect(final).toMatchObject({ status: 'awaiting_configuration', error: { code: 'SUBMISSION_NOT_MADE' } })
      }
    })
  }
})
