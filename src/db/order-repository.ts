// Certificate orders, their attempts and the one-open-order-per-service lock. What an order's
// placement touches (the open-order check, the unresolved attempts, the daily spend, the order and
// attempt writes) is plain SQL that runs on Prisma's transactions and on pg's alike (db/sql.ts);
// the rest goes through Prisma.
import type pg from 'pg'
import { Prisma, type CertificateOrder, type OrderAttempt } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { FINAL_STATUSES, OPEN_STATUSES, type OrderStatus } from '../domain/orders/status.js'
import { MODULE_SHAPE, type ModuleRow } from './module-repository.js'
import { assignments, insertion, prefixed, query, selectList, shapeOf, toModel, type Columns, type Sql } from './sql.js'

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

// Each field's column, cast where pg and Prisma return different types, and the type a value
// written to it is cast to. test/db/order-repository.test.ts holds the rows equal to Prisma's.
const ORDER_COLUMNS: Columns<OrderRow> = {
  id: ['id::text', 'uuid'],
  moduleId: ['module_id::text', 'uuid'],
  caller: ['caller', 'text'],
  serviceId: ['service_id', 'text'],
  environment: ['environment::text', '"ModuleEnvironment"'],
  productCode: ['product_code', 'text'],
  prodType: ['prod_type', 'int'],
  family: ['family', 'text'],
  years: ['years', 'int'],
  domain: ['domain', 'text'],
  sans: ['sans', 'text[]'],
  status: ['status::text', '"OrderStatus"'],
  enomStatusId: ['enom_status_id', 'int'],
  enomStatusText: ['enom_status_text', 'text'],
  enomStatusUnknown: ['enom_status_unknown', 'boolean'],
  reissueStatus: ['reissue_status', 'text'],
  enomCertId: ['enom_cert_id', 'text'],
  enomOrderId: ['enom_order_id', 'text'],
  amount: ['amount::text', 'numeric'],
  csr: ['csr', 'text'],
  webServerType: ['web_server_type', 'int'],
  approverEmail: ['approver_email', 'text'],
  dcvMethod: ['dcv_method', 'text'],
  dcv: ['dcv', 'jsonb'],
  contacts: ['contacts', 'jsonb'],
  approvers: ['approvers', 'text[]'],
  certificate: ['certificate', 'text'],
  chain: ['chain', 'text'],
  serialNumber: ['serial_number', 'text'],
  issuedAt: ['issued_at', 'timestamptz'],
  expiresAt: ['expires_at', 'timestamptz'],
  privateKeyEnc: ['private_key_enc', 'text'],
  renewalOfId: ['renewal_of_id::text', 'uuid'],
  errorCode: ['error_code', 'text'],
  errorDetail: ['error_detail', 'text'],
  closedAt: ['closed_at', 'timestamptz'],
  version: ['version', 'int'],
  createdAt: ['created_at', 'timestamptz'],
  updatedAt: ['updated_at', 'timestamptz']
}

const ATTEMPT_COLUMNS: Columns<AttemptRow> = {
  id: ['id::text', 'uuid'],
  orderId: ['order_id::text', 'uuid'],
  accountKey: ['account_key', 'text'],
  command: ['command', 'text'],
  state: ['state::text', '"AttemptState"'],
  snapshot: ['snapshot', 'jsonb'],
  result: ['result', 'jsonb'],
  errorCode: ['error_code', 'text'],
  errorDetail: ['error_detail', 'text'],
  caller: ['caller', 'text'],
  requestId: ['request_id', 'text'],
  startedAt: ['started_at', 'timestamptz'],
  finishedAt: ['finished_at', 'timestamptz']
}

export const ORDER_SHAPE = shapeOf<OrderRow>(ORDER_COLUMNS, ['amount'], ['sans', 'approvers'])
export const ATTEMPT_SHAPE = shapeOf<AttemptRow>(ATTEMPT_COLUMNS, [])
const ORDER_FIELDS = selectList(ORDER_SHAPE)
const ATTEMPT_FIELDS = selectList(ATTEMPT_SHAPE)

// The statements of the order path that do not vary, made once: a statement's text is also the
// key of its prepared statement, and a string made once is hashed once.
const PLACEMENT_READS = `
  SELECT ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(MODULE_SHAPE, 'm', 'm.')},
    s.value AS "s.value", s.updated_by AS "s.updatedBy", s.updated_at AS "s.updatedAt"
  FROM (SELECT 1) AS one
    LEFT JOIN service_lock l ON l.service_id = $1::text
    LEFT JOIN certificate_order o ON o.id = l.order_id
    LEFT JOIN processing_module m ON m.id = $2::uuid
    LEFT JOIN setting s ON s.key = $3::text`
const UNRESOLVED_ATTEMPTS = `SELECT ${ATTEMPT_FIELDS} FROM order_attempt WHERE account_key = $1::text AND state IN ('sending', 'unknown') ORDER BY started_at ASC`

const toOrder = (row: Record<string, unknown>) => toModel(ORDER_SHAPE, row)
const toAttempt = (row: Record<string, unknown>) => toModel(ATTEMPT_SHAPE, row)

/** The daily limits a caller's orders must stay within (SPEND_LIMIT_DAILY_COUNT and _AMOUNT). */
export interface SpendLimits { maxCount: number, maxAmount: string }

/** A purchase refused by the daily limits; `count` and `amount` are the caller's day before this order. */
export class SpendLimitError extends Error {
  override name = 'SpendLimitError'
  constructor (readonly limit: 'count' | 'amount', readonly count: number, readonly amount: string) {
    super(`daily ${limit} limit reached`)
  }
}

/** changeWithAttempt found the order in another status than expected (or the attempt gone): nothing was written. */
export class StatusMovedError extends Error {
  override name = 'StatusMovedError'
  constructor (readonly orderId: string, readonly expected: string) {
    super(`order ${orderId} is no longer ${expected}`)
  }
}

/** spend_check's refusal (SQLSTATE SL001 or SL002) as a SpendLimitError. */
function spendLimitError (err: unknown): SpendLimitError | undefined {
  const e = err as { code?: unknown, detail?: unknown }
  if ((e?.code !== 'SL001' && e?.code !== 'SL002') || typeof e.detail !== 'string') return undefined
  const day = JSON.parse(e.detail) as { count: number, amount: string }
  return new SpendLimitError(e.code === 'SL001' ? 'count' : 'amount', Number(day.count), day.amount)
}

/** A row of the setting table as the order path reads it. */
export interface SettingRow { value: unknown, updatedBy: string | null, updatedAt: Date }

export function createOrderRepository (prisma: PrismaClient, pool: pg.Pool, hooks: { onStatusChange?: StatusChangeHook } = {}) {
  const repo = {
    prisma,
    pool,

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
    async placementReads (serviceId: string, moduleId: string, settingKey: string): Promise<{ open: OrderRow | null, module: ModuleRow | null, setting: SettingRow | null }> {
      const rows = await query<Record<string, unknown>>(pool, PLACEMENT_READS, [serviceId, moduleId, settingKey])
      const row = rows[0] as Record<string, unknown>
      return {
        open: row['o.id'] === null ? null : toOrder(prefixed(row, 'o.')),
        module: row['m.id'] === null ? null : toModel(MODULE_SHAPE, prefixed(row, 'm.')),
        setting: row['s.updatedAt'] === null ? null : prefixed(row, 's.') as unknown as SettingRow
      }
    },

    /**
     * A purchase about to be sent, in one statement that commits on its own: the order, the
     * service's lock, the idempotency key naming the order, the attempt, what `also` adds (the
     * order's event), and — last, once every row is written — the checks: the key must still be
     * there (the request's claim), and the caller's orders of the day, this one included, must stay
     * within `spend` (migration purchase_in_one_statement). A check that fails fails the statement:
     * nothing is written. A second open order for the service fails on the lock (a unique
     * violation of service_lock_pkey); a limit with SpendLimitError.
     */
    async insertPurchase (input: {
      order: NewOrder
      attempt: NewAttempt
      idempotencyKeyId?: string
      spend?: SpendLimits
      /** More WITH items of the statement; parameters are appended to the values given. */
      also?: (values: unknown[]) => string
    }, tx: Sql = pool): Promise<{ order: OrderRow, attempt: AttemptRow }> {
      const order = insertion('certificate_order', ORDER_COLUMNS, input.order)
      const values = [...order.values]
      const attempt = insertion('order_attempt', ATTEMPT_COLUMNS, input.attempt, values.length)
      values.push(...attempt.values)
      const slot = (value: unknown, type: string) => {
        values.push(value)
        return `$${values.length}::${type}`
      }
      const orderId = slot(input.order.id, 'uuid')
      const items = [
        `o AS (${order.text} RETURNING *)`,
        `l AS (INSERT INTO service_lock (service_id, order_id, created_at) VALUES (${slot(input.order.serviceId, 'text')}, ${orderId}, now()) RETURNING 1)`,
        `a AS (${attempt.text} RETURNING *)`
      ]
      const checks: string[] = []
      if (input.idempotencyKeyId) {
        items.push(`k AS (UPDATE idempotency_key SET order_id = ${orderId} WHERE id = ${slot(input.idempotencyKeyId, 'uuid')} RETURNING 1)`)
        // The key row is the request's claim: if it is gone, nothing may be bought under it.
        checks.push(`must_hold((SELECT count(*) FROM k) = 1, ${slot(`idempotency key ${input.idempotencyKeyId} is gone; the purchase is not recorded`, 'text')}) AS "keyHeld"`)
      }
      if (input.also) items.push(input.also(values))
      if (input.spend) {
        const since = new Date(input.order.createdAt ?? Date.now())
        since.setUTCHours(0, 0, 0, 0)
        checks.push(`spend_check(${slot(input.order.caller, 'text')}, ${slot(since, 'timestamptz')}, ${orderId}, ${slot(input.order.amount, 'numeric')}, ` +
          `${slot(input.spend.maxCount, 'bigint')}, ${slot(input.spend.maxAmount, 'numeric')}) AS "spendChecked"`)
      }
      // The checks are evaluated for the one row the join of the inserts gives, so after them.
      const rows = await query<Record<string, unknown>>(tx, `
        WITH ${items.join(',\n          ')}
        SELECT ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(ATTEMPT_SHAPE, 'a', 'a.')}${checks.map((c) => `, ${c}`).join('')}
        FROM o, a, l`, values).catch((err: unknown) => { throw spendLimitError(err) ?? err })
      const row = rows[0] as Record<string, unknown>
      return { order: toOrder(prefixed(row, 'o.')), attempt: toAttempt(prefixed(row, 'a.')) }
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

    /**
     * An order's change and its attempt's end in one statement that commits on its own, with what
     * `also` adds (its event, its sync job) — only if the order is still in status `expected`:
     * otherwise nothing is written and StatusMovedError is thrown (the caller takes the general
     * path, which reads the status it changes from). The row returned is the order as changed.
     */
    async changeWithAttempt (orderId: string, expected: OrderStatus, changes: OrderChanges, attempt: { id: string, changes: AttemptChanges },
      also?: (values: unknown[]) => string): Promise<{ order: OrderRow, attempt: AttemptRow }> {
      const values: unknown[] = [orderId]
      const orderSets = assignments(ORDER_COLUMNS, { ...changes, updatedAt: new Date() }, values)
      const attemptSets = assignments(ATTEMPT_COLUMNS, { finishedAt: new Date(), ...attempt.changes }, values)
      values.push(expected, attempt.id)
      const [status, attemptId] = [`$${values.length - 1}::"OrderStatus"`, `$${values.length}::uuid`]
      const items = [
        `b AS (SELECT id FROM certificate_order WHERE id = $1::uuid AND status = ${status} FOR UPDATE)`,
        `o AS (UPDATE certificate_order o SET ${orderSets.join(', ')}, version = o.version + 1 FROM b WHERE o.id = b.id RETURNING o.*)`,
        `a AS (UPDATE order_attempt SET ${attemptSets.join(', ')} WHERE id = ${attemptId} RETURNING *)`
      ]
      if (changes.status !== undefined && FINAL_STATUSES.includes(changes.status)) {
        items.push('released AS (DELETE FROM service_lock WHERE order_id = (SELECT id FROM o))')
      }
      if (also) items.push(also(values))
      values.push(`order ${orderId} is no longer ${expected}, or its attempt ${attempt.id} is gone`)
      const rows = await query<Record<string, unknown>>(pool, `
        WITH ${items.join(',\n          ')}
        SELECT must_hold((SELECT count(*) FROM o) = 1 AND (SELECT count(*) FROM a) = 1, $${values.length}::text) AS "held",
          ${selectList(ORDER_SHAPE, 'o', 'o.')}, ${selectList(ATTEMPT_SHAPE, 'a', 'a.')}
        FROM (SELECT 1) AS one LEFT JOIN o ON true LEFT JOIN a ON true`, values).catch((err: unknown) => {
        throw (err as { code?: unknown }).code === 'SL003' ? new StatusMovedError(orderId, expected) : err
      })
      const row = rows[0] as Record<string, unknown>
      return { order: toOrder(prefixed(row, 'o.')), attempt: toAttempt(prefixed(row, 'a.')) }
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
    async unresolvedAttempts (accountKey: string, tx: Sql = pool): Promise<AttemptRow[]> {
      const rows = await query<Record<string, unknown>>(tx, UNRESOLVED_ATTEMPTS, [accountKey])
      return rows.map(toAttempt)
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
