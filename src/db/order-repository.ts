// Certificate orders, their attempts and the one-open-order-per-service lock. What an order's
// placement touches (the open-order check, the unresolved attempts, the order and attempt writes,
// and the two statements of a purchase in db/purchase-statements.ts) is plain SQL that runs on
// Prisma's transactions and on pg's alike (db/sql.ts, columns in db/order-columns.ts); the rest
// goes through Prisma.
import type pg from 'pg'
import { Prisma, type CertificateOrder, type OrderAttempt } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { FINAL_STATUSES, OPEN_STATUSES, type OrderStatus } from '../domain/orders/status.js'
import { MODULE_SHAPE, type ModuleRow } from './module-repository.js'
import { createGatherer } from '../lib/gather.js'
import { ATTEMPT_COLUMNS, ATTEMPT_FIELDS, ATTEMPT_SHAPE, ORDER_COLUMNS, ORDER_FIELDS, ORDER_SHAPE, toAttempt, toOrder } from './order-columns.js'
import { createPurchaseStatements } from './purchase-statements.js'
import { assignments, insertion, prefixed, query, selectList, toModel, type Sql } from './sql.js'

export { ATTEMPT_SHAPE, ORDER_SHAPE } from './order-columns.js'
export { SpendLimitError, StatusMovedError, type SpendLimits } from './purchase-statements.js'

export type OrderRow = CertificateOrder
export type AttemptRow = OrderAttempt
export type Tx = Prisma.TransactionClient

export interface OrderFilter {
  serviceId?: string
  status?: OrderStatus
  moduleId?: string
  expiringBefore?: Date
}

/** Changes to an order: plain values only (no Prisma update operations). */
export type OrderChanges = { [K in keyof OrderRow]?: K extends 'amount' ? string | Prisma.Decimal | null : OrderRow[K] }

export type NewOrder = Pick<OrderRow, 'id' | 'moduleId' | 'caller' | 'serviceId' | 'environment' | 'productCode' | 'prodType' | 'family' |
  'years' | 'domain' | 'sans' | 'status' | 'renewalOfId'> & { amount: string, createdAt?: Date, updatedAt?: Date }

export type NewAttempt = Pick<AttemptRow, 'id' | 'orderId' | 'accountKey' | 'command' | 'state' | 'caller' | 'requestId' | 'startedAt'> & {
  snapshot?: Record<string, unknown>
}

export type AttemptChanges = Partial<Pick<AttemptRow, 'state' | 'errorCode' | 'errorDetail' | 'finishedAt'>> & {
  snapshot?: Record<string, unknown>
  result?: unknown
}

/** Told, inside the transaction, of every status change (the events of the order). */
export type StatusChangeHook = (tx: Sql, before: OrderStatus, after: OrderRow) => Promise<void>

// The statements of the order path that do not vary, made once: a statement's text is also the
// key of its prepared statement, and a string made once is hashed once.
// Both reads are gathered (lib/gather.ts): the orders that ask at the same moment share one
// statement, each row numbered (n) with the place of its question.
const PLACEMENT_READS = `
  SELECT v.n::int AS "n", ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(MODULE_SHAPE, 'm', 'm.')},
    s.value AS "s.value", s.updated_by AS "s.updatedBy", s.updated_at AS "s.updatedAt"
  FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS v (service_id, module_id, n)
    LEFT JOIN service_lock l ON l.service_id = v.service_id
    LEFT JOIN certificate_order o ON o.id = l.order_id
    LEFT JOIN processing_module m ON m.id = v.module_id
    LEFT JOIN setting s ON s.key = $3::text`
const UNRESOLVED_ATTEMPTS = `
  SELECT v.n::int AS "n", ${selectList(ATTEMPT_SHAPE, 'a')}
  FROM unnest($1::text[]) WITH ORDINALITY AS v (account_key, n)
    JOIN order_attempt a ON a.account_key = v.account_key AND a.state IN ('sending', 'unknown')
  ORDER BY v.n, a.started_at ASC`

/** The most questions one gathered read asks, and the most such reads under way at a time. */
const READ_BATCH = { max: 32, sending: 2 }

/** What placementReads answers. */
export interface PlacementReads { open: OrderRow | null, module: ModuleRow | null, setting: SettingRow | null }

/** A row of a gathered read without its question's number. */
function withoutN (row: Record<string, unknown>): Record<string, unknown> {
  const { n: _n, ...rest } = row
  return rest
}

/** A row of the setting table as the order path reads it. */
export interface SettingRow { value: unknown, updatedBy: string | null, updatedAt: Date }

export function createOrderRepository (prisma: PrismaClient, pool: pg.Pool, hooks: { onStatusChange?: StatusChangeHook } = {}) {
  /** Placement reads asked at the same moment, one statement per setting key. */
  const placements = createGatherer<{ serviceId: string, moduleId: string, settingKey: string }, PlacementReads>({
    ...READ_BATCH,
    laneOf: (q) => q.settingKey,
    send: async (batch) => {
      const rows = await query<Record<string, unknown>>(pool, PLACEMENT_READS, [batch.map((q) => q.item.serviceId), batch.map((q) => q.item.moduleId), batch[0]?.item.settingKey])
      for (const row of rows) {
        batch[row['n'] as number - 1]?.resolve({
          open: row['o.id'] === null ? null : toOrder(prefixed(row, 'o.')),
          module: row['m.id'] === null ? null : toModel(MODULE_SHAPE, prefixed(row, 'm.')),
          setting: row['s.updatedAt'] === null ? null : prefixed(row, 's.') as unknown as SettingRow
        })
      }
    }
  })
  /** Unresolved attempts of accounts asked at the same moment (an account asked twice is read once). */
  const unresolved = createGatherer<string, AttemptRow[]>({
    ...READ_BATCH,
    send: async (batch) => {
      const accounts = [...new Set(batch.map((q) => q.item))]
      const rows = await query<Record<string, unknown>>(pool, UNRESOLVED_ATTEMPTS, [accounts])
      const found = new Map<string, Array<Record<string, unknown>>>()
      for (const row of rows) {
        const account = accounts[row['n'] as number - 1] as string
        let list = found.get(account)
        if (list === undefined) found.set(account, list = [])
        list.push(row)
      }
      // Each asker gets rows of its own: callers may change what they are given.
      for (const q of batch) q.resolve((found.get(q.item) ?? []).map((row) => toAttempt(withoutN(row))))
    }
  })

  const repo = {
    prisma,
    pool,
    // The two statements of a purchase (db/purchase-statements.ts).
    ...createPurchaseStatements(pool),

    findById: (id: string, tx: Tx = prisma) => tx.certificateOrder.findUnique({ where: { id } }),

    async list (filter: OrderFilter, page: { limit: number, offset: number }) {
      const where: Prisma.CertificateOrderWhereInput = {
        ...(filter.serviceId ? { serviceId: filter.serviceId } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.moduleId ? { moduleId: filter.moduleId } : {}),
        ...(filter.expiringBefore ? { expiresAt: { lt: filter.expiringBefore }, status: 'issued' as const } : {})
      }
      const [items, total] = await prisma.$transaction([
        prisma.certificateOrder.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: page.limit, skip: page.offset }),
        prisma.certificateOrder.count({ where })
      ])
      return { items, total }
    },

    /** The open order of a service, if any. */
    async openOrderOf (serviceId: string, tx: Sql = pool): Promise<OrderRow | null> {
      const rows = await query<Record<string, unknown>>(tx,
        `SELECT ${selectList(ORDER_SHAPE, 'o')} FROM service_lock l JOIN certificate_order o ON o.id = l.order_id WHERE l.service_id = $1::text`, [serviceId])
      return rows[0] ? toOrder(rows[0]) : null
    },

    /**
     * What an order for a named module reads first, in one statement instead of three: the
     * service's open order, the module, and the setting row `settingKey` (the purchase switch).
     */
    placementReads (serviceId: string, moduleId: string, settingKey: string): Promise<PlacementReads> {
      return placements.add({ serviceId, moduleId, settingKey })
    },

    /** Inserts a new order (the row as stored). */
    async insert (order: NewOrder, tx: Sql = pool): Promise<OrderRow> {
      const { text, values } = insertion('certificate_order', ORDER_COLUMNS, order)
      const rows = await query<Record<string, unknown>>(tx, `${text} RETURNING ${ORDER_FIELDS}`, values)
      return toOrder(rows[0] as Record<string, unknown>)
    },

    async openOrderIdsOfModule (moduleId: string): Promise<string[]> {
      const rows = await prisma.certificateOrder.findMany({ where: { moduleId, status: { in: [...OPEN_STATUSES] } }, select: { id: true }, take: 1000 })
      return rows.map((r) => r.id)
    },

    async moduleHasOrders (moduleId: string): Promise<boolean> {
      return (await prisma.certificateOrder.findFirst({ where: { moduleId }, select: { id: true } })) !== null
    },

    /**
     * Applies changes to an order; entering a final status releases the service's lock in the
     * same transaction, so that the service can be ordered for again.
     */
    async update (id: string, changes: OrderChanges, tx?: Sql): Promise<OrderRow> {
      // A status change and its event commit together: without a transaction, one is opened.
      if (!tx) return changes.status === undefined ? apply(id, changes, pool) : prisma.$transaction((t) => apply(id, changes, t))
      return apply(id, changes, tx)
    },

    async insertAttempt (attempt: NewAttempt, tx: Sql = pool): Promise<AttemptRow> {
      const { text, values } = insertion('order_attempt', ATTEMPT_COLUMNS, attempt)
      const rows = await query<Record<string, unknown>>(tx, `${text} RETURNING ${ATTEMPT_FIELDS}`, values)
      return toAttempt(rows[0] as Record<string, unknown>)
    },

    async finishAttempt (id: string, changes: AttemptChanges, tx: Sql = pool): Promise<AttemptRow> {
      const values: unknown[] = [id]
      const sets = assignments(ATTEMPT_COLUMNS, { finishedAt: new Date(), ...changes }, values)
      const rows = await query<Record<string, unknown>>(tx, `UPDATE order_attempt SET ${sets.join(', ')} WHERE id = $1::uuid RETURNING ${ATTEMPT_FIELDS}`, values)
      if (!rows[0]) throw new Error(`order attempt ${id} does not exist`)
      return toAttempt(rows[0])
    },

    attemptsOf: (orderId: string) => prisma.orderAttempt.findMany({ where: { orderId }, orderBy: { startedAt: 'asc' } }),

    findAttempt: (id: string) => prisma.orderAttempt.findUnique({ where: { id } }),

    /** Attempts on an eNom account whose outcome is not known yet: they block new purchases there. */
    unresolvedAttempts (accountKey: string, tx: Sql = pool): Promise<AttemptRow[]> {
      if (tx === pool) return unresolved.add(accountKey)
      return query<Record<string, unknown>>(tx, UNRESOLVED_ATTEMPTS, [[accountKey]]).then((rows) => rows.map((row) => toAttempt(withoutN(row))))
    },

    /**
     * CertIDs that belong to a purchase already: attached to orders of this account's modules, or
     * named by a purchase on the account (since `since`) whose answer arrived and whose order is
     * about to be updated.
     */
    async knownCertIds (accountKey: string, moduleIds: string[], since: Date): Promise<Set<string>> {
      const [orders, answered] = await Promise.all([
        prisma.certificateOrder.findMany({ where: { moduleId: { in: moduleIds }, enomCertId: { not: null } }, select: { enomCertId: true } }),
        prisma.orderAttempt.findMany({ where: { accountKey, command: 'PurchaseServices', state: 'succeeded', startedAt: { gte: since } }, select: { result: true } })
      ])
      const ids = orders.map((r) => r.enomCertId as string)
      for (const a of answered) {
        const certId = (a.result as { certId?: unknown } | null)?.certId
        if (typeof certId === 'string' && certId !== '') ids.push(certId)
      }
      return new Set(ids)
    },

    /** Issued orders expiring before `before` (the expiry notices). */
    expiringBefore: (before: Date, limit = 1000) => prisma.certificateOrder.findMany({ where: { status: 'issued', expiresAt: { lt: before } }, take: limit }),

    /** Orders the sync job follows that have no sync job yet (healing after a crash). */
    async followedWithoutJob (limit: number): Promise<string[]> {
      const rows = await prisma.$queryRaw<Array<{ id: string }>>`
        SELECT o.id FROM certificate_order o
        WHERE o.enom_cert_id IS NOT NULL
          AND o.status IN ('awaiting_configuration', 'processing', 'awaiting_approval', 'approved', 'rejected', 'issued')
          AND NOT EXISTS (SELECT 1 FROM job j WHERE j.key = 'sync:' || o.id::text)
        LIMIT ${limit}`
      return rows.map((r) => r.id)
    }
  }

  async function apply (id: string, changes: OrderChanges, tx: Sql): Promise<OrderRow> {
    const values: unknown[] = [id]
    const sets = assignments(ORDER_COLUMNS, { ...changes, updatedAt: new Date() }, values)
    // The status before the change, read under the row lock the update takes anyway.
    const rows = await query<Record<string, unknown>>(tx, `
      UPDATE certificate_order o SET ${sets.join(', ')}, version = o.version + 1
      FROM (SELECT id, status::text AS status FROM certificate_order WHERE id = $1::uuid FOR UPDATE) b
      WHERE o.id = b.id
      RETURNING b.status AS "statusBefore", ${selectList(ORDER_SHAPE, 'o')}`, values)
    if (!rows[0]) throw new Error(`order ${id} does not exist`)
    const { statusBefore, ...fields } = rows[0]
    const row = toOrder(fields)
    if (FINAL_STATUSES.includes(row.status)) await query(tx, 'DELETE FROM service_lock WHERE order_id = $1::uuid', [id])
    if (statusBefore !== row.status) await hooks.onStatusChange?.(tx, statusBefore as OrderStatus, row)
    return row
  }

  return repo
}

export type OrderRepository = ReturnType<typeof createOrderRepository>
