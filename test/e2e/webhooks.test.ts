// Events to the billing backend: the transactional outbox, signed deliveries to a real HTTP
// receiver, retries, per-order ordering, 410, redelivery, and delivery across a restart.
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verifyWebhook } from '../../clients/typescript/src/index.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase, truncate } from '../support/app.js'
import { contacts, makeCsr, startSimulatorForTest, type SimulatorForTest } from '../support/enom.js'
import { waitFor } from '../support/wait.js'

interface Received { headers: IncomingHttpHeaders, body: string, event: { id: string, type: string, data: Record<string, unknown> }, answered: number }

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp
let receiver: Server
let receiverUrl: string
let received: Received[] = []
/** What the receiver answers next (default 200). */
let answers: Array<number | { status: number, delayMs: number }> = []

function env () {
  return {
    ENOM_ALLOWED_ORIGINS: s.allowedOrigins,
    WEBHOOK_ALLOWED_ORIGINS: new URL(receiverUrl).origin,
    WEBHOOK_RETRY_BASE_MS: '50',
    JOB_POLL_MS: '20',
    SYNC_INTERVAL_SECONDS: '1',
    RECONCILE_DELAY_SECONDS: '0'
  }
}

beforeAll(async () => {
  s = await startSimulatorForTest([{ uid: 'resellid', pw: 'resellpw', balance: '5000.00' }], 200)
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString('utf8') })
    req.on('end', () => {
      const next = answers.shift() ?? 200
      const { status, delayMs } = typeof next === 'number' ? { status: next, delayMs: 0 } : next
      setTimeout(() => {
        received.push({ headers: req.headers, body, event: JSON.parse(body), answered: status })
        res.statusCode = status
        res.end()
      }, delayMs)
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/enom`
  database = await createTestDatabase()
  t = await startTestApp(database, env())
  t.app.services.startJobs()
})

afterAll(async () => {
  await t.close()
  await database.drop()
  await s.sim.close()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
})

let moduleId: string
beforeEach(async () => {
  received = []
  answers = []
  s.sim.state.reset()
  await truncate(t, 'webhook_subscription, webhook_delivery, webhook_attempt, outbox_event, processing_module, certificate_order, order_attempt, service_lock, idempotency_key, task, setting')
  await t.db.pool.query("DELETE FROM job WHERE kind NOT IN ('attempts.recover', 'maintenance.reap', 'orders.expiry')")
  const m = await t.app.inject({ method: 'POST', url: '/modules', headers: auth('admin'), payload: { name: 'sim', dataCenter: 'dc', department: 'ssl', sort: 1, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', checkConnection: false } })
  moduleId = m.json().id
})

async function subscribe (eventTypes?: string[]) {
  const res = await t.app.inject({ method: 'POST', url: '/webhooks', headers: auth('admin'), payload: { url: receiverUrl, ...(eventTypes ? { eventTypes } : {}) } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string, secret: string }
}

const until = <T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000) =>
  waitFor(probe, { timeoutMs, intervalMs: 25, describe: () => `received: ${received.map((r) => r.event.type).join(', ')}` })

const placeOrder = (serviceId: string, headers: Record<string, string> = {}) => t.app.inject({
  method: 'POST', url: '/orders', headers: { ...auth('billing'), 'idempotency-key': `"${serviceId}"`, ...headers }, payload: { serviceId, productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com', moduleId }
})

describe('the outbox', () => {
  it('emits nothing for a change that is rolled back, and always for one that commits', async () => {
    await subscribe()
    const { events } = t.app.services
    await expect(t.db.prisma.$transaction(async (tx) => {
      await events.emit(tx, { type: 'task.created', data: { probe: 'rolled back' } })
      throw new Error('the change failed')
    })).rejects.toThrow('the change failed')
    const counts = async () => (await t.db.pool.query(`SELECT (SELECT count(*) FROM outbox_event)::int AS events, (SELECT count(*) FROM webhook_delivery)::int AS deliveries,
      (SELECT count(*) FROM job WHERE kind = 'webhook.deliver')::int AS jobs`)).rows[0]
    expect(await counts()).toEqual({ events: 0, deliveries: 0, jobs: 0 })
    await t.db.prisma.$transaction((tx) => events.emit(tx, { type: 'task.created', data: { probe: 'committed' } }))
    expect(await counts()).toEqual({ events: 1, deliveries: 1, jobs: 1 })
    await until(() => received.find((r) => r.event.data.probe === 'committed'))
  })

  it('emits no order.created when placing the order fails before the purchase', async () => {
    await subscribe()
    expect((await placeOrder('svc-dup')).statusCode).toBe(201)
    await until(() => received.some((r) => r.event.type === 'order.created') ? true : undefined)
    const before = (await t.db.pool.query("SELECT count(*)::int AS n FROM outbox_event WHERE type = 'order.created'")).rows[0].n
    expect((await placeOrder('svc-dup', { 'idempotency-key': '"another"' })).statusCode).toBe(409)
    expect((await t.db.pool.query("SELECT count(*)::int AS n FROM outbox_event WHERE type = 'order.created'")).rows[0].n).toBe(before)
  })
})

describe('deliveries', () => {
  it('are signed: an HMAC of timestamp and body the receiver can check, and the client helper agrees', async () => {
    const { secret } = await subscribe(['order.created'])
    const placed = await placeOrder('svc-sign', { 'x-request-id': 'billing-req-7' })
    expect(placed.statusCode).toBe(201)
    const got = await until(() => received.find((r) => r.event.type === 'order.created'))
    const header = String(got.headers['x-enom-ssl-signature'])
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? []
    expect(v1).toBe(createHmac('sha256', secret).update(`${t}.${got.body}`).digest('hex'))
    expect(verifyWebhook(secret, header, got.body).id).toBe(got.event.id)
    expect(() => verifyWebhook('whsec_wrong', header, got.body)).toThrow(/does not match/)
    expect(() => verifyWebhook(secret, header, got.body.replace('svc-sign', 'svc-evil'))).toThrow(/does not match/)
    expect(got.headers['x-enom-ssl-event-id']).toBe(got.event.id)
    expect(got.headers['x-request-id']).toBe('billing-req-7')
    expect(got.event.data).toMatchObject({ serviceId: 'svc-sign', orderId: placed.json().id, status: 'purchasing' })
  })

  it('are retried: a receiver that fails three times gets the same event four times, and the log shows each try', async () => {
    const { id } = await subscribe(['order.created'])
    answers = [500, 503, 502]
    await placeOrder('svc-retry')
    await until(() => received.filter((r) => r.event.type === 'order.created').length >= 4 ? true : undefined)
    const tries = received.filter((r) => r.event.type === 'order.created')
    expect(new Set(tries.map((r) => r.event.id)).size).toBe(1)
    expect(tries.map((r) => r.answered)).toEqual([500, 503, 502, 200])
    const log = await until(async () => {
      const d = (await t.app.inject({ url: `/webhooks/${id}/deliveries`, headers: auth('admin') })).json().items[0]
      return d?.status === 'delivered' ? d : undefined
    })
    expect(log).toMatchObject({ eventType: 'order.created', attempts: 4, lastStatusCode: 200 })
    expect(log.log.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 503, 502, 200])
  })

  it("keep an order's events in order, even when one has to be retried", async () => {
    await subscribe()
    answers = [500, 500]
    const placed = (await placeOrder('svc-order')).json()
    const csr = await makeCsr('www.example.com')
    await t.app.inject({ method: 'POST', url: `/orders/${placed.id}/configure`, headers: { ...auth('billing'), 'idempotency-key': '"cfg"' }, payload: { csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() } })
    await until(() => received.some((r) => r.event.type === 'order.issued') ? true : undefined)
    const { rows } = await t.db.pool.query('SELECT id FROM outbox_event WHERE order_id = $1 ORDER BY seq', [placed.id])
    const delivered = received.filter((r) => r.answered === 200 && r.event.data.orderId === placed.id).map((r) => r.event.id)
    expect(delivered).toEqual(rows.map((r) => r.id))
    // Nothing of the order arrived before its first event got through.
    const firstOk = received.findIndex((r) => r.answered === 200)
    expect(received.slice(0, firstOk).every((r) => r.event.id === rows[0]?.id)).toBe(true)
    expect(received.map((r) => r.event.type)).toEqual(expect.arrayContaining(['order.created', 'order.status_changed', 'order.issued']))
  }, 30_000)

  it('stop when the receiver answers 410 Gone: the subscription is disabled', async () => {
    const { id } = await subscribe()
    answers = [410]
    await placeOrder('svc-gone')
    await until(async () => (await t.app.inject({ url: `/webhooks/${id}`, headers: auth('admin') })).json().enabled === false ? true : undefined)
    const sub = (await t.app.inject({ url: `/webhooks/${id}`, headers: auth('admin') })).json()
    expect(sub.disabledReason).toMatch(/410/)
    const count = received.length
    await placeOrder('svc-gone-2')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(received.length).toBe(count)
  })

  it('can be sent again on request', async () => {
    const { id } = await subscribe(['order.created'])
    await placeOrder('svc-again')
    await until(() => received.length === 1 ? true : undefined)
    const delivery = (await t.app.inject({ url: `/webhooks/${id}/deliveries`, headers: auth('admin') })).json().items[0]
    const res = await t.app.inject({ method: 'POST', url: `/webhooks/${id}/deliveries/${delivery.id}/retry`, headers: auth('admin') })
    expect(res.statusCode).toBe(202)
    await until(() => received.length === 2 ? true : undefined)
    expect(received[1]?.event.id).toBe(received[0]?.event.id)
  })

  it('never slow down the request that caused them', async () => {
    await subscribe()
    answers = [{ status: 200, delayMs: 3000 }]
    const started = Date.now()
    expect((await placeOrder('svc-slow-receiver')).statusCode).toBe(201)
    expect(Date.now() - started).toBeLessThan(1500)
  })

  it('survive a restart between the change and the delivery', async () => {
    await subscribe(['task.resolved'])
    const second = await startTestApp(database, env())
    const task = await t.app.services.tasks.open({ department: 'ssl', kind: 'probe', title: 'restart probe', message: 'probe', action: 'resolve it' })
    await t.app.services.stopJobs(1000)
    // The change happens in an instance without running jobs, which then goes away.
    const resolved = await second.app.inject({ method: 'POST', url: `/tasks/${task.id}/resolve`, headers: auth('ops'), payload: {} })
    expect(resolved.statusCode).toBe(200)
    await second.close()
    expect(received.some((r) => r.event.type === 'task.resolved')).toBe(false)
    const third = await startTestApp(database, env())
    third.app.services.startJobs()
    try {
      await until(() => received.find((r) => r.event.type === 'task.resolved'))
    } finally {
      await third.close()
      t.app.services.startJobs()
    }
  })
})

describe('subscriptions', () => {
  it('refuse URLs outside WEBHOOK_ALLOWED_ORIGINS, with userinfo, or unknown event types; never show the secret again', async () => {
    for (const url of ['https://evil.example/hook', `http://user:pw@${new URL(receiverUrl).host}/x`, 'http://169.254.169.254/latest']) {
      const res = await t.app.inject({ method: 'POST', url: '/webhooks', headers: auth('admin'), payload: { url } })
      expect(res.statusCode, url).toBe(422)
      expect(res.json().code).toBe('WEBHOOK_URL_NOT_ALLOWED')
    }
    const unknown = await t.app.inject({ method: 'POST', url: '/webhooks', headers: auth('admin'), payload: { url: receiverUrl, eventTypes: ['order.exploded'] } })
    expect(unknown.statusCode).toBe(400)
    const { id, secret } = await subscribe()
    const listed = await t.app.inject({ url: '/webhooks', headers: auth('admin') })
    expect(listed.body).not.toContain(secret)
    expect((await t.app.inject({ url: `/webhooks/${id}`, headers: auth('admin') })).body).not.toContain(secret)
    const { rows } = await t.db.pool.query('SELECT secret_enc FROM webhook_subscription WHERE id = $1', [id])
    expect(rows[0].secret_enc).not.toContain(secret)
    expect((await t.app.inject({ url: '/webhooks', headers: auth('billing') })).statusCode).toBe(403)
    expect((await t.app.inject({ method: 'DELETE', url: `/webhooks/${id}`, headers: auth('admin') })).json().enabled).toBe(false)
  })

  it('are validated as strictly as every other route: unknown fields, text for numbers and odd ids are 400', async () => {
    const extra = await t.app.inject({ method: 'POST', url: '/webhooks', headers: auth('admin'), payload: { url: receiverUrl, surprise: true } })
    expect(extra.statusCode, extra.body).toBe(400)
    expect(extra.json().errors).toEqual([{ field: 'body.surprise', message: 'is not a known field' }])
    const typed = await t.app.inject({ method: 'POST', url: '/webhooks', headers: auth('admin'), payload: { url: receiverUrl, description: 123 } })
    expect(typed.statusCode).toBe(400)
    const { id } = await subscribe()
    for (const url of [`/webhooks/urn:uuid:${id}`, `/webhooks/urn:uuid:${id}/deliveries`, `/webhooks/${id}/deliveries?limit=Infinity`, `/webhooks/${id}/deliveries?offset=1e400`]) {
      const res = await t.app.inject({ url, headers: auth('admin') })
      expect(res.statusCode, url).toBe(400)
      expect(res.json().code).toBe('VALIDATION_FAILED')
    }
  })
})
