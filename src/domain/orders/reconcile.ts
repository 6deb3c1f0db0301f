// Unknown outcomes. A call that may have reached eNom without an answer is never sent again;
// eNom is read until the outcome is known. For PurchaseServices the account's certificates are
// paged and the one new certificate above the snapshot taken before the call (awaiting
// configuration, same product, ordered since) is attached. Exactly one candidate: found. None,
// twice: proven absent, the order fails and a task says so. Several: a purchase was made outside
// the service at the same moment; nothing is guessed, a task lists them.
import type { AttemptRow, OrderRow } from '../../db/order-repository.js'
import { parseUsDate } from '../../enom/values.js'
import type { CallScope } from '../enom-gateway.js'
import { accountOf, moduleOf, scheduleSync, targetFor, type OrderDeps } from './context.js'
import { applyDetail, readDetail } from './sync.js'

export type ReconcileOutcome = 'found' | 'absent' | 'ambiguous' | 'wait' | 'nothing_to_do'

interface PurchaseSnapshot {
  /** The newest CertID before the call. */
  maxCertId: number
  /** The newest CertID right after the call failed, when it could be read: the window's end. */
  maxCertIdAfter?: number
  prodType: number
  startedAt: string
}

const MAX_PAGES = 20
/** How many times "not found" must be seen before a purchase counts as proven absent. */
const ABSENT_CHECKS = 2

async function newCertificates (deps: OrderDeps, order: OrderRow, snapshot: PurchaseSnapshot, scope: CallScope) {
  const module = await moduleOf(deps, order)
  const target = await targetFor(deps, module, order.id)
  const found = []
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await deps.gateway.call(target, 'CertGetCerts', scope, (c, creds, ctx) =>
      c.certGetCerts(creds, { sortBy: 'CertID', sortDirection: 'Desc', pageSize: 100, startPosition: page * 100 + 1 }, ctx))
    found.push(...list.certs.filter((c) => Number(c.certId) > snapshot.maxCertId))
    const oldest = list.certs.at(-1)
    if (!oldest || Number(oldest.certId) <= snapshot.maxCertId || list.certs.length < 100) break
  }
  // Certificates other orders of this account already own are not candidates.
  const siblings = (await deps.moduleRepo.listActive()).filter((m) => accountOf(m) === accountOf(module)).map((m) => m.id)
  const known = await deps.orders.knownCertIds([...new Set([...siblings, module.id])])
  const since = new Date(new Date(snapshot.startedAt).getTime() - 36 * 3600_000)
  return found.filter((c) => {
    if (known.has(c.certId)) return false
    if (snapshot.maxCertIdAfter !== undefined && Number(c.certId) > snapshot.maxCertIdAfter) return false
    if (c.prodType !== undefined && c.prodType !== snapshot.prodType) return false
    if (c.statusId !== undefined && c.statusId !== 1) return false
    if (order.enomOrderId && c.orderId && c.orderId !== order.enomOrderId) return false
    const ordered = c.orderDate ? parseUsDate(c.orderDate) : undefined
    return ordered === undefined || ordered >= since
  })
}

async function reconcilePurchase (deps: OrderDeps, attempt: AttemptRow, order: OrderRow, checks: number, scope: CallScope): Promise<ReconcileOutcome> {
  const snapshot = attempt.snapshot as unknown as PurchaseSnapshot
  const candidates = await newCertificates(deps, order, snapshot, scope)
  const module = await moduleOf(deps, order)
  if (candidates.length === 1) {
    const cert = candidates[0]!
    // Closed while its outcome was unknown: the certificate is attached, the order stays closed.
    const closed = order.status === 'closed'
    await deps.prisma.$transaction(async (tx) => {
      await deps.orders.finishAttempt(attempt.id, { state: 'reconciled_found', result: { certId: cert.certId, orderId: cert.orderId ?? null } }, tx)
      await deps.orders.update(order.id, {
        ...(closed ? {} : { status: 'awaiting_configuration', errorCode: null, errorDetail: null }),
        enomCertId: cert.certId,
        enomOrderId: cert.orderId ?? order.enomOrderId,
        enomStatusId: 1,
        enomStatusText: cert.statusText ?? 'Awaiting Configuration'
      }, tx)
    })
    if (closed) {
      await deps.tasks.open({
        department: module.department,
        moduleId: module.id,
        orderId: order.id,
        kind: 'refund_needed',
        title: `Closed order for service ${order.serviceId} was bought after all: ask eNom support about a refund`,
        message: `The purchase of order ${order.id} had an unknown outcome and the order was closed meanwhile; reconciliation found its certificate (CertID ${cert.certId}).`,
        action: `Open an eNom support ticket for CertID ${cert.certId} if a refund is due, then resolve this task.`,
        dedupeKey: `refund:${order.id}`
      })
    } else {
      await scheduleSync(deps, order.id, deps.settings.syncIntervalMs)
    }
    return 'found'
  }
  if (candidates.length > 1) {
    await deps.orders.finishAttempt(attempt.id, { state: 'failed', errorCode: 'AMBIGUOUS', errorDetail: `candidates: ${candidates.map((c) => c.certId).join(', ')}` })
    await deps.orders.update(order.id, { errorCode: 'RECONCILIATION_AMBIGUOUS', errorDetail: `several new certificates match this purchase: ${candidates.map((c) => c.certId).join(', ')}` })
    await deps.tasks.open({
      department: module.department,
      moduleId: module.id,
      orderId: order.id,
      kind: 'reconciliation_ambiguous',
      title: `Purchase for service ${order.serviceId}: outcome unknown, several candidates`,
      message: `The answer to PurchaseServices (${order.productCode}) was lost. Since the purchase, ${candidates.length} new certificates of that product appeared on the eNom account ` +
        `(CertIDs ${candidates.map((c) => c.certId).join(', ')}): someone bought at the same time outside this service, so none is attached automatically.`,
      action: 'Find out in the eNom control panel which certificate belongs to this order; close the order here and order again, or ask support.',
      dedupeKey: `ambiguous:${attempt.id}`
    })
    return 'ambiguous'
  }
  if (checks + 1 < ABSENT_CHECKS) return 'wait'
  await deps.prisma.$transaction(async (tx) => {
    await deps.orders.finishAttempt(attempt.id, { state: 'reconciled_absent' }, tx)
    await deps.orders.update(order.id, { status: 'failed', errorCode: 'PURCHASE_NOT_MADE', errorDetail: 'eNom has no certificate from this purchase: it did not happen; nothing was charged for it' }, tx)
  })
  await deps.tasks.open({
    department: module.department,
    moduleId: module.id,
    orderId: order.id,
    kind: 'purchase_absent',
    title: `Purchase for service ${order.serviceId} did not happen`,
    message: `The answer to PurchaseServices (${order.productCode}, ${order.years} year(s)) was lost (${attempt.errorDetail ?? 'no answer'}). ` +
      'Reconciliation found no new certificate on the eNom account: the purchase did not happen. The order is failed.',
    action: 'Check the eNom account balance history to confirm no charge; the billing system may order again.',
    dedupeKey: `absent:${attempt.id}`
  })
  return 'absent'
}

/** What a state-changing call was meant to bring about, judged from the certificate's eNom status. */
const EXPECTED: Record<string, (statusId: number | undefined) => boolean> = {
  CertPurchaseCert: (s) => s !== undefined && [2, 4, 9, 10].includes(s),
  CertModifyOrder: (s) => s === 1
}

export async function reconcileAttempt (deps: OrderDeps, attemptId: string, checks: number, scope: CallScope, stalledAfterMs: number): Promise<ReconcileOutcome> {
  const attempt = await deps.orders.findAttempt(attemptId)
  if (!attempt || (attempt.state !== 'unknown' && attempt.state !== 'sending')) return 'nothing_to_do'
  // A call still within its timeout may yet answer on the instance that sent it.
  if (attempt.state === 'sending' && Date.now() - attempt.startedAt.getTime() < stalledAfterMs) return 'wait'
  const order = await deps.orders.findById(attempt.orderId)
  if (!order) return 'nothing_to_do'
  if (attempt.command === 'PurchaseServices') return reconcilePurchase(deps, attempt, order, checks, scope)
  if (!order.enomCertId) return 'nothing_to_do'
  const detail = await readDetail(deps, order, scope)
  const expected = EXPECTED[attempt.command]
  const found = expected ? expected(detail.statusId) : false
  await deps.orders.finishAttempt(attempt.id, { state: found ? 'reconciled_found' : 'reconciled_absent', result: { statusId: detail.statusId ?? null } })
  const { order: updated } = await applyDetail(deps, order, detail, { force: order.status === 'outcome_unknown' })
  if (!found && attempt.command === 'CertPurchaseCert' && updated.status === 'awaiting_configuration') {
    await deps.orders.update(order.id, { errorCode: 'SUBMISSION_NOT_MADE', errorDetail: 'the certificate was not submitted to the CA; configure the order again' })
  }
  await scheduleSync(deps, order.id, deps.settings.syncIntervalMs)
  return found ? 'found' : 'absent'
}
