// Certificate orders, their attempts and the one-open-order-per-service lock.
import { Prisma, type CertificateOrder, type OrderAttempt } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { FINAL_STATUSES, OPEN_STATUSES, type OrderStatus } from '../domain/orders/status.js'

export type OrderRow = CertificateOrder
export type AttemptRow = OrderAttempt
export type Tx = Prisma.TransactionClient

export interface OrderFilter {
  serviceId?: string
  status?: OrderStatus
  moduleId?: string
  expiringBefore?: Date
}

export type OrderChanges = Prisma.CertificateOrderUncheckedUpdateInput

/** Told, inside the transaction, of every status change (the events of the order). */
export type StatusChangeHook = (tx: Tx, before: OrderStatus, after: OrderRow) => Promise<void>

export function createOrderRepository (prisma: PrismaClient, hooks: { onStatusChange?: StatusChangeHook } = {}) {
  const repo = {
    prisma,

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
    async openOrderOf (serviceId: string, tx: Tx = prisma): Promise<OrderRow | null> {
      const lock = await tx.serviceLock.findUnique({ where: { serviceId } })
      return lock ? tx.certificateOrder.findUnique({ where: { id: lock.orderId } }) : null
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
    async update (id: string, changes: OrderChanges, tx?: Tx): Promise<OrderRow> {
      // A status change and its event commit together: without a transaction, one is opened.
      if (!tx) return changes.status === undefined ? apply(id, changes, prisma) : prisma.$transaction((t) => apply(id, changes, t))
      return apply(id, changes, tx)
    },

    insertAttempt: (data: Prisma.OrderAttemptUncheckedCreateInput, tx: Tx = prisma) => tx.orderAttempt.create({ data }),

    finishAttempt: (id: string, data: Prisma.OrderAttemptUncheckedUpdateInput, tx: Tx = prisma) =>
      tx.orderAttempt.update({ where: { id }, data: { finishedAt: new Date(), ...data } }),

    attemptsOf: (orderId: string) => prisma.orderAttempt.findMany({ where: { orderId }, orderBy: { startedAt: 'asc' } }),

    findAttempt: (id: string) => prisma.orderAttempt.findUnique({ where: { id } }),

    /** Attempts on an eNom account whose outcome is not known yet: they block new purchases there. */
    unresolvedAttempts: (accountKey: string, tx: Tx = prisma) =>
      tx.orderAttempt.findMany({ where: { accountKey, state: { in: ['sending', 'unknown'] } }, orderBy: { startedAt: 'asc' } }),

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

    /** Today's orders and amount of a caller (UTC day), for the daily spend limits. */
    async spentToday (caller: string, tx: Tx = prisma): Promise<{ count: number, amount: string }> {
      const start = new Date()
      start.setUTCHours(0, 0, 0, 0)
      const agg = await tx.certificateOrder.aggregate({
        where: { caller, createdAt: { gte: start }, NOT: { status: 'failed', enomCertId: null } },
        _count: { _all: true },
        _sum: { amount: true }
      })
      return { count: agg._count._all, amount: (agg._sum.amount ?? new Prisma.Decimal(0)).toFixed(2) }
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

  async function apply (id: string, changes: OrderChanges, tx: Tx): Promise<OrderRow> {
    const before = changes.status === undefined
      ? undefined
      : (await tx.$queryRaw<Array<{ status: OrderStatus }>>`SELECT status::text AS status FROM certificate_order WHERE id = ${id}::uuid FOR UPDATE`)[0]?.status
    const row = await tx.certificateOrder.update({ where: { id }, data: { ...changes, updatedAt: new Date(), version: { increment: 1 } } })
    if (FINAL_STATUSES.includes(row.status)) await tx.serviceLock.deleteMany({ where: { orderId: id } })
    if (before !== undefined && before !== row.status) await hooks.onStatusChange?.(tx, before, row)
    return row
  }

  return repo
}

export type OrderRepository = ReturnType<typeof createOrderRepository>
