// The order path writes and reads orders, attempts and idempotency keys with plain SQL (on pg's
// transactions as on Prisma's). What it returns must be exactly what Prisma returns for the same
// row, field for field, for rows with every column set and with every nullable column null; and
// what it writes must read back through Prisma as written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../src/db/database.js'
import { createIdempotencyRepository } from '../../src/db/idempotency-repository.js'
import { createModuleRepository } from '../../src/db/module-repository.js'
import { createOrderRepository, SpendLimitError, StatusMovedError, type OrderRow, type SpendLimits } from '../../src/db/order-repository.js'
import { together, transaction } from '../../src/db/sql.js'
import { createEvents } from '../../src/domain/events.js'
import { createPurchaseSwitch, pauseStateOf, PAUSE_SETTING } from '../../src/domain/purchases.js'
import type { OrderStatus } from '../../src/domain/orders/status.js'
import { createLogger } from '../../src/logger.js'
import { createTestDatabase, type TestDatabase } from '../support/app.js'

let database: TestDatabase
let db: Database
const moduleId = '01900000-0000-7000-8000-0000000000b1'

beforeAll(async () => {
  database = await createTestDatabase()
  db = openDatabase({ url: database.url, max: 3, acquireTimeoutMs: 5000, log: createLogger('silent') })
  await createModuleRepository(db.prisma, db.pool).insert({
    id: moduleId,
    name: 'm',
    dataCenter: 'dc',
    department: 'ssl',
    sort: 0,
    minimalBalance: null,
    minimalBalancePolicy: 'notify',
    environment: 'test',
    apiUrl: 'https://resellertest.enom.com/interface.asp',
    username: 'u',
    passwordEnc: 'v1:k:iv:ct:tag',
    addNewClient: false,
    enabled: true
  })
})
afterAll(async () => {
  await db?.close()
  await database?.drop()
})

const newOrder = (id: string, serviceId: string) => ({
  id,
  moduleId,
  caller: 'shop',
  serviceId,
  environment: 'test' as const,
  productCode: 'certificate-rapidssl-rapidssl',
  prodType: 180,
  family: 'rapidssl',
  years: 2,
  domain: 'example.com',
  sans: [] as string[],
  status: 'purchasing' as const,
  amount: '25.90',
  renewalOfId: null
})

async function prismaOrder (id: string): Promise<OrderRow | null> {
  return db.prisma.certificateOrder.findUnique({ where: { id } })
}

describe('order repository (plain SQL)', () => {
  it('inserts and updates orders as Prisma reads them, on a pg transaction and on Prisma\'s', async () => {
    const changes: string[] = []
    const repo = createOrderRepository(db.prisma, db.pool, { onStatusChange: async (_tx, before, after) => { changes.push(`${before}->${after.status}`) } })
    const sparseId = '01900000-0000-7000-8000-0000000000c1'
    const fullId = '01900000-0000-7000-8000-0000000000c2'

    const sparse = await transaction(db.pool, (tx) => repo.insert(newOrder(sparseId, 'svc-sparse'), tx))
    expect(sparse).toEqual(await prismaOrder(sparseId))
    expect(Object.keys(sparse).sort()).toEqual(Object.keys(await prismaOrder(sparseId) ?? {}).sort())
    expect(sparse.amount?.toFixed(2)).toBe('25.90')
    expect(sparse.version).toBe(1)

    await repo.insert({ ...newOrder(fullId, 'svc-full'), sans: ['www.example.com', 'mail.example.com'], renewalOfId: sparseId })
    const full = await db.prisma.$transaction((tx) => repo.update(fullId, {
      status: 'issued',
      enomStatusId: 4,
      enomStatusText: 'Certificate Issued',
      enomStatusUnknown: true,
      reissueStatus: 'completed',
      enomCertId: '12345',
      enomOrderId: '67890',
      amount: '51.80',
      csr: '-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----',
      webServerType: 1,
      approverEmail: 'admin@example.com',
      dcvMethod: 'EMAIL',
      dcv: { method: 'DNS', records: [{ name: '_dnsauth', value: 'x"y' }] },
      contacts: { admin: { firstName: 'Ann', emailAddress: 'ann@example.com' } },
      approvers: ['admin@example.com', 'webmaster@example.com'],
      certificate: 'PEM',
      chain: 'CHAIN',
      serialNumber: '0A:0B',
      issuedAt: new Date('2026-11-26T10:11:12.345Z'),
      expiresAt: new Date('2027-11-26T10:11:12.345Z'),
      privateKeyEnc: 'v1:k:iv:ct:tag',
      errorCode: 'E',
      errorDetail: 'détail ✓',
      closedAt: new Date('2026-11-27T00:00:00.001Z')
    }, tx))
    const fromPrisma = await prismaOrder(fullId)
    expect(full).toEqual(fromPrisma)
    expect(Object.keys(full).sort()).toEqual(Object.keys(fromPrisma ?? {}).sort())
    expect(full.version).toBe(2)
    expect(full.amount?.toFixed(2)).toBe('51.80')
    expect(full.dcv).toEqual({ method: 'DNS', records: [{ name: '_dnsauth', value: 'x"y' }] })
    expect(full.sans).toEqual(['www.example.com', 'mail.example.com'])
    expect(changes).toEqual(['purchasing->issued'])

    // A change without a status change tells no one; nulls clear columns.
    const cleared = await repo.update(fullId, { errorCode: null, errorDetail: null, dcv: null as never })
    expect(cleared).toEqual(await prismaOrder(fullId))
    expect(cleared.errorCode).toBeNull()
    expect(cleared.dcv).toBeNull()
    expect(changes).toEqual(['purchasing->issued'])
    await expect(repo.update('01900000-0000-7000-8000-0000000000cf', { errorCode: 'x' })).rejects.toThrow(/does not exist/)
  })

  it('finds the open order of a service through its lock, and a final status frees it', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const id = '01900000-0000-7000-8000-0000000000d1'
    await transaction(db.pool, async (tx) => {
      await repo.insert(newOrder(id, 'svc-lock'), tx)
      await tx.query('INSERT INTO service_lock (service_id, order_id, created_at) VALUES ($1, $2, now())', ['svc-lock', id])
    })
    expect(await repo.openOrderOf('svc-lock')).toEqual(await prismaOrder(id))
    expect(await repo.openOrderOf('svc-none')).toBeNull()
    await repo.update(id, { status: 'failed' })
    expect(await repo.openOrderOf('svc-lock')).toBeNull()
  })

  it('records attempts as Prisma reads them and lists the unresolved ones of an account', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const orderId = '01900000-0000-7000-8000-0000000000e1'
    await repo.insert(newOrder(orderId, 'svc-attempts'))
    const startedAt = new Date('2026-11-26T10:00:00.123Z')
    const sparse = await repo.insertAttempt({ id: '01900000-0000-7000-8000-0000000000e2', orderId, accountKey: 'acct', command: 'PurchaseServices', state: 'sending', caller: null, requestId: null, startedAt })
    const full = await repo.insertAttempt({ id: '01900000-0000-7000-8000-0000000000e3', orderId, accountKey: 'acct', command: 'PurchaseServices', state: 'sending', caller: 'shop', requestId: 'req-1', startedAt: new Date(startedAt.getTime() + 1), snapshot: { maxCertId: 41, prodType: 180 } })
    for (const a of [sparse, full]) expect(a).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: a.id } }))
    expect((await repo.unresolvedAttempts('acct')).map((a) => a.id)).toEqual([sparse.id, full.id])

    const done = await transaction(db.pool, (tx) => repo.finishAttempt(full.id, { state: 'succeeded', result: { certId: '42', orderAmount: '25.90' } }, tx))
    expect(done).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: full.id } }))
    expect(done.result).toEqual({ certId: '42', orderAmount: '25.90' })
    expect(done.finishedAt).toBeInstanceOf(Date)
    await db.prisma.$transaction((tx) => repo.finishAttempt(sparse.id, { state: 'unknown', errorCode: 'TIMEOUT', errorDetail: 'late' }, tx))
    expect((await repo.unresolvedAttempts('acct')).map((a) => [a.id, a.state])).toEqual([[sparse.id, 'unknown']])
  })

  it('counts today\'s orders and amount of a caller with the new one, leaving out failures that bought nothing', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    let n = 0
    const purchase = (caller: string, amount: string, limits: SpendLimits, createdAt = new Date()) => {
      n++
      const id = `01900000-0000-7000-8000-0000000f${String(n).padStart(4, '0')}`
      const order = { ...newOrder(id, `svc-spend-${n}`), caller, amount, createdAt, updatedAt: createdAt }
      const attempt = { id: `01900000-0000-7000-8000-0000000e${String(n).padStart(4, '0')}`, orderId: id, accountKey: 'acct-s', command: 'PurchaseServices', state: 'sending' as const, caller, requestId: 'r', startedAt: createdAt }
      return repo.insertPurchase({ order, attempt, spend: limits }).then(() => id)
    }
    const roomy = { maxCount: 100, maxAmount: '1000.00' }
    await purchase('spender', '10.05', roomy)
    await purchase('spender', '0.95', roomy)
    // A failure that bought nothing does not count; one that named a certificate does.
    const failed = await purchase('spender', '99.00', roomy)
    await repo.update(failed, { status: 'failed' })
    // Two orders (11.00) count: a third is the limit of three, a fourth is refused.
    await purchase('spender', '1.00', { maxCount: 3, maxAmount: '1000.00' })
    const refused = purchase('spender', '1.00', { maxCount: 3, maxAmount: '1000.00' })
    await expect(refused).rejects.toBeInstanceOf(SpendLimitError)
    await expect(refused).rejects.toMatchObject({ limit: 'count', count: 3, amount: '12.00' })
    // The amount: 12.00 spent, so 8.00 more reaches 20.00 exactly and 8.01 goes past it.
    await expect(purchase('spender', '8.01', { maxCount: 100, maxAmount: '20.00' })).rejects.toMatchObject({ limit: 'amount', count: 3, amount: '12.00' })
    const refusedIds = [`01900000-0000-7000-8000-0000000f${String(n - 1).padStart(4, '0')}`, `01900000-0000-7000-8000-0000000f${String(n).padStart(4, '0')}`]
    for (const id of refusedIds) expect(await prismaOrder(id)).toBeNull()
    expect(await db.prisma.serviceLock.findUnique({ where: { serviceId: `svc-spend-${n}` } })).toBeNull()
    await purchase('spender', '8.00', { maxCount: 100, maxAmount: '20.00' })
    // Another caller's day is its own.
    await purchase('other-spender', '5.00', { maxCount: 1, maxAmount: '5.00' })
    // The day is the one of the order's time: an order made just before midnight counts for its own day.
    const lastMinute = new Date(Date.UTC(2026, 10, 30, 23, 59, 59, 999))
    await purchase('late', '3.00', roomy, lastMinute)
    await expect(purchase('late', '3.00', { maxCount: 1, maxAmount: '100.00' }, lastMinute)).rejects.toMatchObject({ limit: 'count', count: 1 })
    await purchase('late', '3.00', { maxCount: 1, maxAmount: '100.00' }, new Date(lastMinute.getTime() + 1))
  })
})

describe('the daily limits under orders recorded at the same moment', () => {
  it('count each order against the ones committed before it: no more pass than the limit', async () => {
    // Each insert of this caller's orders sleeps a moment, so that all eight statements are inside
    // their window at once; only the caller's lock then keeps them from counting past each other.
    await db.pool.query(`CREATE FUNCTION racer_pause () RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.caller = 'racer' THEN PERFORM pg_sleep(0.3); END IF; RETURN NEW; END $$`)
    await db.pool.query('CREATE TRIGGER racer_pause AFTER INSERT ON certificate_order FOR EACH ROW EXECUTE FUNCTION racer_pause()')
    const wide = openDatabase({ url: database.url, max: 8, acquireTimeoutMs: 5000, log: createLogger('silent') })
    try {
      const repo = createOrderRepository(wide.prisma, wide.pool)
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => {
        const id = `01900000-0000-7000-8000-0000000004${String(i).padStart(2, '0')}`
        const order = { ...newOrder(id, `svc-race-${i}`), caller: 'racer', amount: '1.00' }
        const attempt = { id: `01900000-0000-7000-8000-0000000005${String(i).padStart(2, '0')}`, orderId: id, accountKey: 'acct-race', command: 'PurchaseServices', state: 'sending' as const, caller: 'racer', requestId: 'r', startedAt: new Date() }
        return repo.insertPurchase({ order, attempt, spend: { maxCount: 3, maxAmount: '1000.00' } })
      }))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(SpendLimitError)
      expect(await db.prisma.certificateOrder.count({ where: { caller: 'racer' } })).toBe(3)
    } finally {
      await wide.close()
      await db.pool.query('DROP TRIGGER racer_pause ON certificate_order')
      await db.pool.query('DROP FUNCTION racer_pause()')
    }
  })
})

describe('the reads an order for a named module starts with', () => {
  it('come back in one statement exactly as the three separate reads give them', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const modules = createModuleRepository(db.prisma, db.pool)
    const switches = createPurchaseSwitch(db.prisma, db.pool)
    // Nothing open, no such module, no switch row yet.
    const none = await repo.placementReads('svc-reads-none', '01900000-0000-7000-8000-0000000002ff', PAUSE_SETTING)
    expect(none).toEqual({ open: null, module: null, setting: null })
    expect(pauseStateOf(none.setting)).toEqual(await switches.state())

    const id = '01900000-0000-7000-8000-0000000002a1'
    await repo.insertPurchase({ order: newOrder(id, 'svc-reads'), attempt: { id: '01900000-0000-7000-8000-0000000002a2', orderId: id, accountKey: 'acct-r', command: 'PurchaseServices', state: 'sending', caller: 'shop', requestId: 'r', startedAt: new Date() } }, db.pool)
    await switches.pause('root', 'maintenance')
    try {
      const all = await repo.placementReads('svc-reads', moduleId, PAUSE_SETTING)
      expect(all.open).toEqual(await repo.openOrderOf('svc-reads'))
      expect(all.open?.id).toBe(id)
      expect(all.module).toEqual(await modules.findById(moduleId))
      expect(all.module).toEqual(await db.prisma.processingModule.findUnique({ where: { id: moduleId } }))
      expect(pauseStateOf(all.setting)).toEqual(await switches.state())
      expect(pauseStateOf(all.setting)).toMatchObject({ paused: true, reason: 'maintenance', by: 'root' })
    } finally {
      await switches.resume('root')
    }
  })
})

describe('idempotency repository (plain SQL)', () => {
  it('claims a key once and stores its outcome as Prisma reads them', async () => {
    const repo = createIdempotencyRepository(db.prisma, db.pool)
    const claimed = await repo.claim('shop', 'key-1', 'POST', '/orders', 'f'.repeat(64))
    expect(claimed).not.toBeNull()
    expect(claimed).toEqual(await repo.find('shop', 'key-1'))
    expect(await repo.claim('shop', 'key-1', 'POST', '/orders', 'f'.repeat(64))).toBeNull()

    const orderId = '01900000-0000-7000-8000-0000000000a9'
    await repo.complete(claimed?.id as string, 201, JSON.stringify({ id: orderId, note: 'ünïcode' }))
    const row = await repo.find('shop', 'key-1')
    expect(row).toMatchObject({ responseStatus: 201, responseBody: { id: orderId, note: 'ünïcode' }, lockedAt: null })
    expect(row?.completedAt).toBeInstanceOf(Date)
  })
})

describe('a purchase recorded in one statement', () => {
  it('writes the order, the service lock, the key\'s order and the attempt together, or nothing', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const keys = createIdempotencyRepository(db.prisma, db.pool)
    const key = await keys.claim('shop', 'purchase-1', 'POST', '/orders', 'e'.repeat(64))
    const orderId = '01900000-0000-7000-8000-0000000001a1'
    const attempt = { id: '01900000-0000-7000-8000-0000000001a2', orderId, accountKey: 'acct-p', command: 'PurchaseServices', state: 'sending' as const, caller: 'shop', requestId: 'r', startedAt: new Date(), snapshot: { maxCertId: 7 } }
    const recorded = await repo.insertPurchase({ order: newOrder(orderId, 'svc-p'), attempt, idempotencyKeyId: key?.id as string })
    expect(recorded.order).toEqual(await prismaOrder(orderId))
    expect(recorded.attempt).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: attempt.id } }))
    expect(await db.prisma.serviceLock.findUnique({ where: { serviceId: 'svc-p' } })).toMatchObject({ orderId })
    expect((await keys.find('shop', 'purchase-1'))?.orderId).toBe(orderId)

    // A second open order for the service: refused on the lock, and none of its rows remain.
    const second = '01900000-0000-7000-8000-0000000001b1'
    const failed = repo.insertPurchase({ order: newOrder(second, 'svc-p'), attempt: { ...attempt, id: '01900000-0000-7000-8000-0000000001b2', orderId: second } })
    await expect(failed).rejects.toMatchObject({ code: '23505', constraint: 'service_lock_pkey' })
    expect(await prismaOrder(second)).toBeNull()
    expect(await db.prisma.orderAttempt.findUnique({ where: { id: '01900000-0000-7000-8000-0000000001b2' } })).toBeNull()

    // An idempotency key that is gone (its request's claim): nothing is recorded, so nothing is bought.
    const third = '01900000-0000-7000-8000-0000000001c1'
    const orphan = repo.insertPurchase({ order: newOrder(third, 'svc-p3'), attempt: { ...attempt, id: '01900000-0000-7000-8000-0000000001c2', orderId: third }, idempotencyKeyId: '01900000-0000-7000-8000-0000000001cf' })
    await expect(orphan).rejects.toThrow(/idempotency key .* is gone/)
    expect(await prismaOrder(third)).toBeNull()
    expect(await db.prisma.serviceLock.findUnique({ where: { serviceId: 'svc-p3' } })).toBeNull()
  })
})

describe('a purchase confirmed in one statement', () => {
  it('ends the attempt and changes the order with its event and job while the order is as expected, else writes nothing', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const orderId = '01900000-0000-7000-8000-0000000003a1'
    const attempt = { id: '01900000-0000-7000-8000-0000000003a2', orderId, accountKey: 'acct-c', command: 'PurchaseServices', state: 'sending' as const, caller: 'shop', requestId: 'r', startedAt: new Date() }
    const placed = await repo.insertPurchase({ order: newOrder(orderId, 'svc-confirm'), attempt })
    const event = { type: 'order.status_changed' as const, orderId, moduleId, data: { from: 'purchasing', to: 'awaiting_configuration' } }
    const changes = { status: 'awaiting_configuration' as const, enomCertId: '777', enomStatusId: 1 }
    const change = (expected: OrderStatus) => ({
      orderId,
      expected,
      changes,
      attempt: { id: attempt.id, changes: { state: 'succeeded' as const, result: { certId: '777' } } },
      jobs: [{ kind: 'order.sync', key: `sync:${orderId}`, payload: { orderId }, runAt: new Date() }],
      events: [event]
    })
    const eventOf = () => db.prisma.outboxEvent.findFirst({ where: { orderId, type: 'order.status_changed' } })

    // Not in the expected status: nothing of it is written.
    await expect(repo.changeWithAttempt(change('processing'))).rejects.toBeInstanceOf(StatusMovedError)
    expect(await prismaOrder(orderId)).toEqual(placed.order)
    expect((await db.prisma.orderAttempt.findUnique({ where: { id: attempt.id } }))?.state).toBe('sending')
    expect(await db.prisma.job.findUnique({ where: { key: `sync:${orderId}` } })).toBeNull()
    expect(await eventOf()).toBeNull()

    const done = await repo.changeWithAttempt(change('purchasing'))
    expect(done.order).toEqual(await prismaOrder(orderId))
    expect(done.order).toMatchObject({ status: 'awaiting_configuration', enomCertId: '777', version: placed.order.version + 1 })
    expect(done.attempt).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: attempt.id } }))
    expect(done.attempt).toMatchObject({ state: 'succeeded', result: { certId: '777' } })
    expect(await db.prisma.job.findUnique({ where: { key: `sync:${orderId}` } })).toMatchObject({ kind: 'order.sync', status: 'pending' })
    expect(await eventOf()).toMatchObject({ type: 'order.status_changed', orderId, data: event.data })
    // Still open: the service's lock stays; a final status would release it.
    expect(await db.prisma.serviceLock.findUnique({ where: { serviceId: 'svc-confirm' } })).toMatchObject({ orderId })
    const closed = await repo.changeWithAttempt({ orderId, expected: 'awaiting_configuration', changes: { status: 'closed' as const }, attempt: { id: attempt.id, changes: { state: 'succeeded' } } })
    expect(closed.order.status).toBe('closed')
    expect(await db.prisma.serviceLock.findUnique({ where: { serviceId: 'svc-confirm' } })).toBeNull()
  })
})

describe('reads gathered (placementReads, unresolvedAttempts)', () => {
  /** The pool, counting the statements sent on it. */
  const counting = () => {
    let sent = 0
    const pool = new Proxy(db.pool, {
      get (target, key) {
        if (key === 'query') return (...args: unknown[]) => { sent++; return (target.query as (...a: unknown[]) => unknown).apply(target, args) }
        const value = Reflect.get(target, key) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      }
    })
    return { pool, sent: () => sent }
  }

  it('answers each question asked at the same moment with its own rows, in one statement after the first', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const started = (k: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, k))
    const place = async (account: string, k: number, state: 'sending' | 'unknown' | 'succeeded') => {
      const orderId = `01900000-0000-7000-8000-0000eeee${String(k).padStart(4, '0')}`
      await repo.insertPurchase({ order: newOrder(orderId, `svc-gr-${k}`), attempt: { id: `01900000-0000-7000-8000-0001eeee${String(k).padStart(4, '0')}`, orderId, accountKey: account, command: 'PurchaseServices', state, caller: 'shop', requestId: 'r', startedAt: started(k) } })
      return orderId
    }
    const a2 = await place('gr-a', 2, 'unknown')
    const a1 = await place('gr-a', 1, 'sending')
    await place('gr-a', 3, 'succeeded')
    const b1 = await place('gr-b', 4, 'sending')

    const { pool, sent } = counting()
    const gathered = createOrderRepository(db.prisma, pool as unknown as typeof db.pool)
    const [first, a, b, none, again] = await Promise.all(['gr-b', 'gr-a', 'gr-b', 'gr-none', 'gr-a'].map((k) => gathered.unresolvedAttempts(k)))
    expect(sent()).toBe(2)
    expect(first?.map((x) => x.orderId)).toEqual([b1])
    expect(a?.map((x) => x.orderId)).toEqual([a1, a2])
    expect(b?.map((x) => x.orderId)).toEqual([b1])
    expect(none).toEqual([])
    expect(again).toEqual(a)
    expect(again?.[0]).not.toBe(a?.[0])
    expect(a?.[0]).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: a?.[0]?.id as string } }))

    const [open, other, missing] = await Promise.all([
      gathered.placementReads('svc-gr-1', moduleId, PAUSE_SETTING),
      gathered.placementReads('svc-gr-nothing', moduleId, PAUSE_SETTING),
      gathered.placementReads('svc-gr-4', '01900000-0000-7000-8000-00000000ffff', PAUSE_SETTING)
    ])
    expect(sent()).toBe(4)
    expect(open.open).toEqual(await prismaOrder(a1))
    expect(open.module?.id).toBe(moduleId)
    expect(other.open).toBeNull()
    expect(other.module?.id).toBe(moduleId)
    expect(missing.open?.id).toBe(b1)
    expect(missing.module).toBeNull()
  })
})

describe('purchases confirmed together (changeWithAttempt)', () => {
  const placeSome = async (repo: ReturnType<typeof createOrderRepository>, tag: string, count: number) => {
    const placed = []
    for (let k = 0; k < count; k++) {
      const orderId = `01900000-0000-7000-8000-0000${tag}${String(k).padStart(4, '0')}`
      const attempt = { id: `01900000-0000-7000-8000-0001${tag}${String(k).padStart(4, '0')}`, orderId, accountKey: 'acct-cb', command: 'PurchaseServices', state: 'sending' as const, caller: 'shop', requestId: 'r', startedAt: new Date() }
      placed.push((await repo.insertPurchase({ order: newOrder(orderId, `svc-cb-${tag}-${k}`), attempt })))
    }
    return placed
  }
  const confirmation = (p: { order: { id: string }, attempt: { id: string } }, certId: string) => ({
    orderId: p.order.id,
    expected: 'purchasing' as const,
    changes: { status: 'awaiting_configuration' as const, enomCertId: certId, enomStatusId: 1 },
    attempt: { id: p.attempt.id, changes: { state: 'succeeded' as const, result: { certId } } },
    jobs: [{ kind: 'order.sync', key: `sync:${p.order.id}`, payload: { orderId: p.order.id }, runAt: new Date() }],
    events: [{ type: 'order.status_changed' as const, orderId: p.order.id, moduleId, data: { certId } }]
  })

  it('writes the ones that come while one is under way in one statement, each with its job and its event of its request', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const placed = await placeSome(repo, 'aaaa', 4)
    const { requestScope } = await import('../../src/request-scope.js')
    const done = await Promise.all(placed.map((p, k) => requestScope.run({ requestId: `conf-${k}`, receivedAt: Date.now() }, () => repo.changeWithAttempt(confirmation(p, `c${k}`)))))
    const xmins = (await db.pool.query<{ id: string, xmin: string }>('SELECT id::text, xmin::text FROM certificate_order WHERE id = ANY ($1::uuid[])', [placed.map((p) => p.order.id)])).rows
    const xminOf = (id: string) => xmins.find((r) => r.id === id)?.xmin
    // The first went alone; the three that came while it was under way, together.
    expect(new Set(placed.slice(1).map((p) => xminOf(p.order.id))).size).toBe(1)
    expect(xminOf(placed[0]!.order.id)).not.toBe(xminOf(placed[1]!.order.id))
    for (const [k, p] of placed.entries()) {
      expect(done[k]!.order).toEqual(await prismaOrder(p.order.id))
      expect(done[k]!.order).toMatchObject({ status: 'awaiting_configuration', enomCertId: `c${k}` })
      expect(done[k]!.attempt).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: p.attempt.id } }))
      expect(await db.prisma.job.findUnique({ where: { key: `sync:${p.order.id}` } })).toMatchObject({ kind: 'order.sync', status: 'pending' })
      expect(await db.prisma.outboxEvent.findFirst({ where: { orderId: p.order.id } })).toMatchObject({ type: 'order.status_changed', requestId: `conf-${k}`, data: { certId: `c${k}` } })
    }
  })

  it('writes the others when one of a batch has moved on, and nothing of that one', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const placed = await placeSome(repo, 'bbbb', 4)
    // The third has moved on by the time its answer is written.
    await db.pool.query("UPDATE certificate_order SET status = 'failed' WHERE id = $1::uuid", [placed[2]!.order.id])
    const results = await Promise.allSettled(placed.map((p, k) => repo.changeWithAttempt(confirmation(p, `m${k}`))))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(StatusMovedError)
    expect((await prismaOrder(placed[2]!.order.id))?.status).toBe('failed')
    expect((await db.prisma.orderAttempt.findUnique({ where: { id: placed[2]!.attempt.id } }))?.state).toBe('sending')
    expect(await db.prisma.job.findUnique({ where: { key: `sync:${placed[2]!.order.id}` } })).toBeNull()
    expect(await db.prisma.outboxEvent.findFirst({ where: { orderId: placed[2]!.order.id, type: 'order.status_changed' } })).toBeNull()
    for (const k of [0, 1, 3]) expect((await prismaOrder(placed[k]!.order.id))?.enomCertId).toBe(`m${k}`)
  })
})

describe('transaction()', () => {
  it('rejects when a statement failed inside it, even if the failure was caught, and leaves nothing behind', async () => {
    const id = '01900000-0000-7000-8000-0000000001d1'
    const swallowed = transaction(db.pool, async (tx) => {
      await createOrderRepository(db.prisma, db.pool).insert(newOrder(id, 'svc-tx'), tx)
      await tx.query('SELECT 1 / 0').catch(() => undefined)
    })
    await expect(swallowed).rejects.toThrow(/rolled back/)
    expect(await prismaOrder(id)).toBeNull()
    // The connection went back to the pool usable.
    expect((await transaction(db.pool, (tx) => tx.query('SELECT 1 AS one'))).rows).toEqual([{ one: 1 }])
  })
})

describe('statements issued together (pipelined)', () => {
  it('go out on a pipelined connection, run in the order issued, and a failure among them rolls all back with the first error', async () => {
    const client = await db.pool.connect()
    try {
      expect(client.pipeline).toBe(true)
    } finally {
      client.release()
    }
    const repo = createOrderRepository(db.prisma, db.pool)
    const id = '01900000-0000-7000-8000-0000000001d5'
    // The INSERT is issued before the SELECT that must see it, and neither waits for the other.
    const [inserted, seen] = await transaction(db.pool, (tx) => together([
      repo.insert(newOrder(id, 'svc-pipe'), tx),
      tx.query('SELECT count(*)::int AS n FROM certificate_order WHERE id = $1', [id])
    ] as const))
    expect(inserted.id).toBe(id)
    expect(seen.rows).toEqual([{ n: 1 }])
    expect(await prismaOrder(id)).not.toBeNull()

    // The second statement fails; the ones behind it fail as "transaction aborted", and the
    // error thrown is the second one's, whatever order the rejections settle in.
    const other = '01900000-0000-7000-8000-0000000001d6'
    const failing = transaction(db.pool, (tx) => together([
      repo.insert(newOrder(other, 'svc-pipe-2'), tx),
      tx.query('SELECT 1 / 0'),
      tx.query('SELECT 1'),
      repo.insert(newOrder('01900000-0000-7000-8000-0000000001d7', 'svc-pipe-3'), tx)
    ] as const))
    await expect(failing).rejects.toMatchObject({ code: '22012' })
    expect(await prismaOrder(other)).toBeNull()
    expect((await transaction(db.pool, (tx) => tx.query('SELECT 2 AS two'))).rows).toEqual([{ two: 2 }])
  })
})

describe('events (plain SQL)', () => {
  it('delivers to a subscription whose event types are NULL (every type), like Prisma read it, and only to the interested others', async () => {
    const events = createEvents()
    const subs = { all: '01900000-0000-7000-8000-0000000001e1', nullTypes: '01900000-0000-7000-8000-0000000001e2', other: '01900000-0000-7000-8000-0000000001e3', wanted: '01900000-0000-7000-8000-0000000001e4' }
    const types: Record<string, string[] | null> = { all: [], nullTypes: null, other: ['task.created'], wanted: ['order.created'] }
    for (const [name, subId] of Object.entries(subs)) {
      await db.pool.query(`INSERT INTO webhook_subscription (id, url, event_types, secret_enc, enabled, created_by, created_at)
        VALUES ($1, 'https://hooks.example.com/x', $2, 'v1:k:iv:ct:tag', true, 'root', now())`, [subId, types[name]])
    }
    const orderId = '01900000-0000-7000-8000-0000000001e9'
    await createOrderRepository(db.prisma, db.pool).insert(newOrder(orderId, 'svc-ev'))
    const eventId = await transaction(db.pool, (tx) => events.emit(tx, { type: 'order.created', orderId, moduleId, data: { orderId } }))
    const { rows } = await db.pool.query('SELECT subscription_id::text AS s FROM webhook_delivery WHERE event_id = $1 ORDER BY subscription_id', [eventId])
    expect(rows.map((r: { s: string }) => r.s)).toEqual([subs.all, subs.nullTypes, subs.wanted])
    const jobs = await db.pool.query("SELECT key FROM job WHERE kind = 'webhook.deliver' ORDER BY key")
    expect(jobs.rows.map((r: { key: string }) => r.key)).toEqual([subs.all, subs.nullTypes, subs.wanted].map((id) => `webhook:${id}:order:${orderId}`))
    // A duplicate by dedupe key writes nothing.
    const dup = { type: 'order.expiring' as const, orderId, data: {}, dedupeKey: 'expiring:x:30' }
    expect(await events.emit(db.pool, dup)).toBeDefined()
    expect(await events.emit(db.pool, dup)).toBeUndefined()
  })
})

describe('purchases recorded together (recordPurchase)', () => {
  let n = 0
  const input = (caller: string, options: { serviceId?: string, spend?: SpendLimits, keyId?: string } = {}) => {
    n++
    const id = `01900000-0000-7000-8000-0000000b${String(n).padStart(4, '0')}`
    return {
      order: { ...newOrder(id, options.serviceId ?? `svc-batch-${n}`), caller, amount: '1.00' },
      attempt: { id: `01900000-0000-7000-8000-0000000c${String(n).padStart(4, '0')}`, orderId: id, accountKey: 'acct-b', command: 'PurchaseServices', state: 'sending' as const, caller, requestId: 'r', startedAt: new Date() },
      ...(options.spend ? { spend: options.spend } : {}),
      ...(options.keyId ? { idempotencyKeyId: options.keyId } : {})
    }
  }
  /** Runs fn while inserting the order of `serviceId` sleeps a moment (so its statement comes back last). */
  const pausing = async <T>(serviceId: string, fn: () => Promise<T>): Promise<T> => {
    await db.pool.query(`CREATE FUNCTION batch_pause () RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.service_id = '${serviceId}' THEN PERFORM pg_sleep(0.2); END IF; RETURN NEW; END $$`)
    await db.pool.query('CREATE TRIGGER batch_pause BEFORE INSERT ON certificate_order FOR EACH ROW EXECUTE FUNCTION batch_pause()')
    try {
      return await fn()
    } finally {
      await db.pool.query('DROP TRIGGER batch_pause ON certificate_order')
      await db.pool.query('DROP FUNCTION batch_pause()')
    }
  }
  const xminOf = async (ids: string[]) => (await db.pool.query<{ id: string, xmin: string }>('SELECT id::text, xmin::text FROM certificate_order WHERE id = ANY ($1::uuid[])', [ids])).rows

  it('records the ones that come while one is under way in one statement, each as insertPurchase returns it', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const inputs = Array.from({ length: 5 }, () => input('batcher'))
    const recorded = await Promise.all(inputs.map((i) => repo.recordPurchase(i)))
    // The first went alone; the four that came while it was under way, together: one transaction.
    const xmins = await xminOf(inputs.map((i) => i.order.id))
    const first = xmins.find((r) => r.id === inputs[0]?.order.id)?.xmin
    const rest = new Set(xmins.filter((r) => r.id !== inputs[0]?.order.id).map((r) => r.xmin))
    expect(rest.size).toBe(1)
    expect(rest.has(first as string)).toBe(false)
    for (const [i, r] of recorded.entries()) {
      expect(r.order).toEqual(await prismaOrder(inputs[i]?.order.id as string))
      expect(r.attempt).toEqual(await db.prisma.orderAttempt.findUnique({ where: { id: inputs[i]?.attempt.id as string } }))
    }
  })

  it('records each on its own when the batch is refused: exactly the ones within the limit pass', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    // The first goes alone; the next two come while it is under way and go together. Two fit in
    // the limit. The pair's statement is slowed down (its first order's insert sleeps) so that the
    // first one commits before the pair counts: the pair then passes the limit together, and on
    // their own the first of them passes and the second is refused.
    const spend = { maxCount: 2, maxAmount: '1000.00' }
    const results = await pausing('svc-batch-slow', () => Promise.allSettled([input('limited', { spend }), input('limited', { spend, serviceId: 'svc-batch-slow' }), input('limited', { spend })].map((i) => repo.recordPurchase(i))))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ limit: 'count', count: 2 })
    expect(await db.prisma.certificateOrder.count({ where: { caller: 'limited' } })).toBe(2)
  })

  it('records the others when one of a batch cannot be: a service ordered twice, a key gone', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const keys = createIdempotencyRepository(db.prisma, db.pool)
    const held = await keys.claim('mixed', 'batch-key', 'POST', '/orders', 'a'.repeat(64))
    // The batch after the first is slowed down (as above), so that the first one holds the
    // service's lock by the time the batch's twin asks for it.
    const inputs = [
      input('mixed', { serviceId: 'svc-batch-twice' }),
      input('mixed', { keyId: held?.id as string, serviceId: 'svc-batch-slow2' }),
      input('mixed', { serviceId: 'svc-batch-twice' }),
      input('mixed', { keyId: '01900000-0000-7000-8000-0000000bffff' }),
      input('mixed')
    ]
    const results = await pausing('svc-batch-slow2', () => Promise.allSettled(inputs.map((i) => repo.recordPurchase(i))))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: '23505', constraint: 'service_lock_pkey' })
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ message: expect.stringMatching(/idempotency key .* is gone/) })
    expect((await keys.find('mixed', 'batch-key'))?.orderId).toBe(inputs[1]?.order.id)
    for (const i of [inputs[2], inputs[3]]) expect(await prismaOrder(i?.order.id as string)).toBeNull()
  })

  it('writes each order\'s event with the id of the request that placed it', async () => {
    const repo = createOrderRepository(db.prisma, db.pool)
    const { requestScope } = await import('../../src/request-scope.js')
    const inputs = Array.from({ length: 3 }, () => input('scoped'))
    await Promise.all(inputs.map((i, k) => requestScope.run({ requestId: `req-${k}`, receivedAt: Date.now() }, () => repo.recordPurchase({
      ...i,
      event: { id: `01900000-0000-7000-8000-0000000d${String(k).padStart(4, '0')}`, type: 'order.created', orderId: i.order.id, moduleId, data: {} }
    }))))
    const events = await db.prisma.outboxEvent.findMany({ where: { orderId: { in: inputs.map((i) => i.order.id) } } })
    expect(Object.fromEntries(events.map((e) => [e.orderId, e.requestId]))).toEqual(Object.fromEntries(inputs.map((i, k) => [i.order.id, `req-${k}`])))
  })
})

describe('idempotency keys claimed and completed together', () => {
  it('claims the keys of one moment in one statement, the second of a pair none, and stores outcomes together', async () => {
    const repo = createIdempotencyRepository(db.prisma, db.pool)
    const [first, ...rest] = await Promise.all(['k-a', 'k-b', 'k-c', 'k-c'].map((k) => repo.claim('claimer', k, 'POST', '/orders', 'b'.repeat(64))))
    expect(first).not.toBeNull()
    expect(rest.map((r) => r === null)).toEqual([false, false, true])
    const xmins = (await db.pool.query<{ key: string, xmin: string }>("SELECT key, xmin::text FROM idempotency_key WHERE caller = 'claimer'")).rows
    expect(new Set(xmins.filter((r) => r.key !== 'k-a').map((r) => r.xmin)).size).toBe(1)
    // Outcomes: a body PostgreSQL refuses (a NUL escape) fails alone; the others are stored.
    const ids = [first, rest[0], rest[1]].map((r) => r?.id as string)
    const stored = await Promise.allSettled([
      repo.complete(ids[0] as string, 201, '{"n":1}'),
      repo.complete(ids[1] as string, 201, '{"bad":"\\u0000"}'),
      repo.complete(ids[2] as string, 409, '{"n":3}')
    ])
    expect(stored.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((await repo.find('claimer', 'k-a'))?.responseBody).toEqual({ n: 1 })
    expect((await repo.find('claimer', 'k-b'))?.completedAt).toBeNull()
    expect((await repo.find('claimer', 'k-c'))).toMatchObject({ responseStatus: 409, responseBody: { n: 3 } })
  })
})

describe('spend_check of the version before (rolling deploys)', () => {
  it('answers as the batch check of one order', async () => {
    const since = new Date()
    since.setUTCHours(0, 0, 0, 0)
    const ask = (maxCount: number) => db.pool.query('SELECT spend_check($1, $2, $3::uuid, $4::numeric, $5, $6::numeric) AS ok',
      ['limited', since, '01900000-0000-7000-8000-0000000bfff0', '1.00', maxCount, '1000.00'])
    // 'limited' has two orders today (above): a third fits a limit of three, not one of two.
    expect((await ask(3)).rows[0]).toEqual({ ok: true })
    const refused = await ask(2).then(() => undefined, (err: { code?: string, detail?: string }) => err)
    expect(refused?.code).toBe('SL001')
    expect(JSON.parse(refused?.detail ?? 'null')).toEqual({ count: 2, amount: '2.00' })
  })
})
