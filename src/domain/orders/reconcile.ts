// Unknown outcomes. A call that may have reached eNom without an answer is never sent again;
// eNom is read until the outcome is known.
//
// Purchases on one eNom account run concurrently, so a purchase whose answer was lost is judged
// together with every other such purchase on the account whose window (the newest CertID before
// the call, up to the newest right after it failed) overlaps its own: the unresolved purchases of
// one product and term on one side, the certificates that appeared in those windows on the
// other — awaiting configuration, that product and term, owned by no order and by no purchase
// whose answer arrived. As many certificates as purchases: each purchase gets one (they are
// interchangeable until configured). None, twice: this purchase did not happen. Anything else:
// a purchase outside the service at the same moment; nothing is guessed, a task lists them.
// While a purchase on the account is still in flight its certificate may be listed but not yet
// recorded, so the verdict waits for it.
import type { AttemptRow, OrderRow, Tx } from '../../db/order-repository.js'
import type { ModuleRow } from '../../db/module-repository.js'
import { parseUsDate } from '../../enom/values.js'
import type { CertSummary } from '../../enom/commands/certs.js'
import type { CallScope } from '../enom-gateway.js'
import { accountOf, moduleOf, scheduleSync, targetFor, type OrderDeps } from './context.js'
import { applyDetail, readDetail } from './sync.js'

/** wait: looked, not sure yet (counts as a check); busy: a purchase on the account is in flight. */
export type ReconcileOutcome = 'found' | 'absent' | 'ambiguous' | 'wait' | 'busy' | 'nothing_to_do'

export interface PurchaseSnapshot {
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

interface Member { attempt: AttemptRow, snapshot: PurchaseSnapshot, order: OrderRow }

const windowOf = (s: PurchaseSnapshot): [number, number] => [s.maxCertId, s.maxCertIdAfter ?? Number.POSITIVE_INFINITY]

/** The unresolved purchases whose windows overlap, directly or through others, the one of `id`. */
export function overlapping<T extends { id: string, snapshot: PurchaseSnapshot }> (all: T[], id: string): T[] {
  const sorted = [...all].sort((a, b) => windowOf(a.snapshot)[0] - windowOf(b.snapshot)[0])
  let group: T[] = []
  let end = Number.NEGATIVE_INFINITY
  for (const item of sorted) {
    const [lo, hi] = windowOf(item.snapshot)
    if (group.length > 0 && lo >= end) {
      if (group.some((g) => g.id === id)) return group
      group = []
      end = Number.NEGATIVE_INFINITY
    }
    group.push(item)
    end = Math.max(end, hi)
  }
  return group.some((g) => g.id === id) ? group : []
}

/** The certificates above `floor` on the module's account, newest first. */
async function certificatesAbove (deps: OrderDeps, module: ModuleRow, floor: number, scope: CallScope): Promise<CertSummary[]> {
  const target = await targetFor(deps, module)
  const found: CertSummary[] = []
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await deps.gateway.call(target, 'CertGetCerts', scope, (c, creds, ctx) =>
      c.certGetCerts(creds, { sortBy: 'CertID', sortDirection: 'Desc', pageSize: 100, startPosition: page * 100 + 1 }, ctx))
    found.push(...list.certs.filter((c) => Number(c.certId) > floor))
    const oldest = list.certs.at(-1)
    if (!oldest || Number(oldest.certId) <= floor || list.certs.length < 100) break
  }
  return found
}

const termOf = (m: Member) => `${m.snapshot.prodType}:${m.order.years}`

/** Could this certificate be the one a purchase of these members made? */
function fits (c: CertSummary, members: Member[], range: [number, number], known: Set<string>): boolean {
  const first = members[0] as Member
  const id = Number(c.certId)
  if (id <= range[0] || id > range[1] || known.has(c.certId)) return false
  if (c.prodType !== undefined && c.prodType !== first.snapshot.prodType) return false
  if (c.validityPeriodMonths !== undefined && c.validityPeriodMonths !== first.order.years * 12) return false
  if (c.statusId !== undefined && c.statusId !== 1) return false
  const earliest = Math.min(...members.map((m) => new Date(m.snapshot.startedAt).getTime()))
  const ordered = c.orderDate ? parseUsDate(c.orderDate) : undefined
  return ordered === undefined || ordered.getTime() >= earliest - 36 * 3600_000
}

type Pair = { member: Member, cert: CertSummary }

type Verdict =
  | { kind: 'settle', pairs: Pair[], absent: Member[] }
  | { kind: 'none' }
  | { kind: 'ambiguous', candidates: CertSummary[] }

/** Matches the unresolved purchases of `self`'s group with the new certificates (see the top). */
export function judge (self: Member, group: Member[], certs: CertSummary[], known: Set<string>): Verdict {
  const range: [number, number] = [Math.min(...group.map((m) => m.snapshot.maxCertId)), Math.max(...group.map((m) => windowOf(m.snapshot)[1]))]
  const peers = group.filter((m) => termOf(m) === termOf(self))
  const candidates = certs.filter((c) => fits(c, peers, range, known))
  // A certificate that could also be another product's or term's purchase decides nothing.
  const others = group.filter((m) => termOf(m) !== termOf(self))
  const shared = candidates.filter((c) => [...new Set(others.map(termOf))].some((t) => fits(c, others.filter((m) => termOf(m) === t), range, known)))
  if (shared.length > 0) return { kind: 'ambiguous', candidates }
  // eNom's OrderID, when a member has it, names its certificate.
  const pairs: Array<{ member: Member, cert: CertSummary }> = []
  const taken = new Set<string>()
  for (const m of peers.filter((p) => p.order.enomOrderId)) {
    const cert = candidates.find((c) => c.orderId === m.order.enomOrderId)
    if (cert) { pairs.push({ member: m, cert }); taken.add(cert.certId) }
  }
  const mine = pairs.find((p) => p.member.attempt.id === self.attempt.id)
  if (mine) return { kind: 'settle', pairs: [mine], absent: [] }
  if (self.order.enomOrderId) return { kind: 'none' }
  const named = new Set(peers.map((p) => p.order.enomOrderId).filter((o): o is string => Boolean(o)))
  const rest = peers.filter((p) => !p.order.enomOrderId)
  const free = candidates.filter((c) => !taken.has(c.certId) && !(c.orderId && named.has(c.orderId)))
  if (free.length === 0) return { kind: 'none' }
  if (free.length > rest.length) return { kind: 'ambiguous', candidates: free }
  const byStart = [...rest].sort((a, b) => a.attempt.startedAt.getTime() - b.attempt.startedAt.getTime())
  const byId = [...free].sort((a, b) => Number(a.certId) - Number(b.certId))
  // Fewer certificates than purchases: that many happened and the others did not. Alike until
  // configured, the certificates go to the earliest purchases; the rest failed.
  return { kind: 'settle', pairs: byId.map((cert, i) => ({ member: byStart[i] as Member, cert })), absent: byStart.slice(byId.length) }
}

async function unresolvedPurchases (deps: OrderDeps, account: string): Promise<AttemptRow[]> {
  return (await deps.orders.unresolvedAttempts(account)).filter((a) => a.command === 'PurchaseServices')
}

const NOT_MADE = { status: 'failed' as const, errorCode: 'PURCHASE_NOT_MADE', errorDetail: 'eNom has no certificate from this purchase: it did not happen; nothing was charged for it' }

async function openAbsentTask (deps: OrderDeps, module: ModuleRow, { attempt, order }: Member, tx: Tx): Promise<void> {
  await deps.tasks.open({
    department: module.department,
    moduleId: module.id,
    orderId: order.id,
    kind: 'purchase_absent',
    title: `Purchase for service ${order.serviceId} did not happen`,
    message: `The answer to PurchaseServices (${order.productCode}, ${order.years} year(s)) was lost (${attempt.errorDetail ?? 'no answer'}). ` +
      'Reconciliation found no new certificate on the eNom account for it: the purchase did not happen. The order is failed.',
    action: 'Check the eNom account balance history to confirm no charge; the billing system may order again.',
    dedupeKey: `absent:${attempt.id}`
  }, tx)
}

/** Applies a verdict on several purchases at once; false when the group changed meanwhile. */
async function settle (deps: OrderDeps, module: ModuleRow, account: string, pairs: Pair[], absent: Member[]): Promise<boolean> {
  const ids = [...pairs.map((p) => p.member.attempt.id), ...absent.map((m) => m.attempt.id)]
  const settled = await deps.prisma.$transaction(async (tx) => {
    // One verdict per account at a time; a verdict reached on a group that has changed since is dropped.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${'reconcile:' + account}))`
    const states = await tx.orderAttempt.findMany({ where: { id: { in: ids } }, select: { state: true } })
    if (states.length !== ids.length || states.some((s) => s.state !== 'unknown' && s.state !== 'sending')) return false
    for (const { member, cert } of pairs) {
      // Closed while its outcome was unknown: the certificate is attached, the order stays closed.
      const closed = member.order.status === 'closed'
      await deps.orders.finishAttempt(member.attempt.id, { state: 'reconciled_found', result: { certId: cert.certId, orderId: cert.orderId ?? null } }, tx)
      await deps.orders.update(member.order.id, {
        ...(closed ? {} : { status: 'awaiting_configuration', errorCode: null, errorDetail: null }),
        enomCertId: cert.certId,
        enomOrderId: cert.orderId ?? member.order.enomOrderId,
        enomStatusId: 1,
        enomStatusText: cert.statusText ?? 'Awaiting Configuration'
      }, tx)
    }
    for (const member of absent) {
      await deps.orders.finishAttempt(member.attempt.id, { state: 'reconciled_absent' }, tx)
      await deps.orders.update(member.order.id, member.order.status === 'closed' ? { errorCode: NOT_MADE.errorCode, errorDetail: NOT_MADE.errorDetail } : NOT_MADE, tx)
      await openAbsentTask(deps, module, member, tx)
    }
    for (const { member: { order }, cert } of pairs) {
      if (order.status !== 'closed') {
        await scheduleSync(deps, order.id, deps.settings.syncIntervalMs, tx)
        continue
      }
      await deps.tasks.open({
        department: module.department,
        moduleId: module.id,
        orderId: order.id,
        kind: 'refund_needed',
        title: `Closed order for service ${order.serviceId} was bought after all: ask eNom support about a refund`,
        message: `The purchase of order ${order.id} had an unknown outcome and the order was closed meanwhile; reconciliation found its certificate (CertID ${cert.certId}).`,
        action: `Open an eNom support ticket for CertID ${cert.certId} if a refund is due, then resolve this task.`,
        dedupeKey: `refund:${order.id}`
      }, tx)
    }
    return true
  })
  return settled
}

async function reconcilePurchase (deps: OrderDeps, attempt: AttemptRow, order: OrderRow, checks: number, scope: CallScope, stalledAfterMs: number): Promise<ReconcileOutcome> {
  const module = await moduleOf(deps, order)
  const account = accountOf(module)
  // A call still 'sending' past the stall limit lost its instance: its outcome is as unknown as the others'.
  const inFlight = (a: AttemptRow) => a.state === 'sending' && Date.now() - a.startedAt.getTime() < stalledAfterMs
  const before = await unresolvedPurchases(deps, account)
  if (before.some(inFlight)) return 'busy'
  const group = overlapping(before.filter((a) => !inFlight(a)).map((a) => ({ id: a.id, snapshot: a.snapshot as unknown as PurchaseSnapshot, attempt: a })), attempt.id)
  const orders = new Map((await Promise.all(group.map((g) => deps.orders.findById(g.attempt.orderId)))).filter((o): o is OrderRow => o !== null).map((o) => [o.id, o]))
  const members: Member[] = group.flatMap((g) => { const o = orders.get(g.attempt.orderId); return o ? [{ attempt: g.attempt, snapshot: g.snapshot, order: o }] : [] })
  const self = members.find((m) => m.attempt.id === attempt.id)
  if (!self) return 'nothing_to_do'

  const certs = await certificatesAbove(deps, module, Math.min(...members.map((m) => m.snapshot.maxCertId)), scope)
  // A purchase that started or ended while the list was read may own a listed certificate not yet recorded.
  const after = await unresolvedPurchases(deps, account)
  if (after.some(inFlight) || after.map((a) => a.id).sort().join() !== before.map((a) => a.id).sort().join()) return 'busy'
  const earliest = new Date(Math.min(...members.map((m) => m.attempt.startedAt.getTime())) - 24 * 3600_000)
  const siblings = (await deps.moduleRepo.listActive()).filter((m) => accountOf(m) === account).map((m) => m.id)
  const known = await deps.orders.knownCertIds(account, [...new Set([...siblings, module.id])], earliest)

  const verdict = judge(self, members, certs, known)
  if (verdict.kind === 'settle') {
    if (verdict.absent.length > 0 && checks + 1 < ABSENT_CHECKS) return 'wait'
    if (!await settle(deps, module, account, verdict.pairs, verdict.absent)) return 'busy'
    return verdict.pairs.some((p) => p.member === self) ? 'found' : 'absent'
  }
  if (verdict.kind === 'ambiguous') {
    const ids = verdict.candidates.map((c) => c.certId).join(', ')
    await deps.prisma.$transaction(async (tx) => {
      await deps.orders.finishAttempt(attempt.id, { state: 'failed', errorCode: 'AMBIGUOUS', errorDetail: `candidates: ${ids}`.slice(0, 2000) }, tx)
      await deps.orders.update(order.id, { errorCode: 'RECONCILIATION_AMBIGUOUS', errorDetail: `more new certificates on the account than purchases whose answer was lost: ${ids}`.slice(0, 2000) }, tx)
      await deps.tasks.open({
        department: module.department,
        moduleId: module.id,
        orderId: order.id,
        kind: 'reconciliation_ambiguous',
        title: `Purchase for service ${order.serviceId}: outcome unknown, several candidates`,
        message: (`The answer to PurchaseServices (${order.productCode}) was lost. Since the purchase, ${verdict.candidates.length} new certificate(s) of that product appeared on the eNom account ` +
        `(CertIDs ${ids}) for ${members.length} purchase(s) whose answer was lost: someone bought at the same time outside this service, so none is attached automatically.`).slice(0, 4000),
        action: 'Find out in the eNom control panel which certificate belongs to this order; close the order here and order again, or ask support.',
        dedupeKey: `ambiguous:${attempt.id}`
      }, tx)
    })
    return 'ambiguous'
  }
  if (checks + 1 < ABSENT_CHECKS) return 'wait'
  if (!await settle(deps, module, account, [], [self])) return 'busy'
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
  if (attempt.state === 'sending' && Date.now() - attempt.startedAt.getTime() < stalledAfterMs) return 'busy'
  const order = await deps.orders.findById(attempt.orderId)
  if (!order) return 'nothing_to_do'
  if (attempt.command === 'PurchaseServices') return reconcilePurchase(deps, attempt, order, checks, scope, stalledAfterMs)
  if (!order.enomCertId) return 'nothing_to_do'
  const detail = await readDetail(deps, order, scope)
  const expected = EXPECTED[attempt.command]
  const found = expected ? expected(detail.statusId) : false
  await deps.orders.finishAttempt(attempt.id, { state: found ? 'reconciled_found' : 'reconciled_absent', result: { statusId: detail.statusId ?? null } })
  await applyDetail(deps, order, detail, {
    force: order.status === 'outcome_unknown',
    ...(!found && attempt.command === 'CertPurchaseCert'
      ? { error: { whenStatus: 'awaiting_configuration' as const, code: 'SUBMISSION_NOT_MADE', detail: 'the certificate was not submitted to the CA; configure the order again' } }
      : {})
  })
  await scheduleSync(deps, order.id, deps.settings.syncIntervalMs)
  return found ? 'found' : 'absent'
}
