// What the order operations share: their dependencies, the order view, and the one way an eNom
// call that spends money or changes eNom state is made — behind a committed attempt row, sent
// once, its outcome recorded (succeeded, failed, or unknown for reconciliation).
import type { Logger } from 'pino'
import type { Prisma as PrismaClient } from '../../db/database.js'
import type { ModuleRepository, ModuleRow } from '../../db/module-repository.js'
import type pg from 'pg'
import type { AttemptChanges, AttemptRow, NewAttempt, OrderRepository, OrderRow } from '../../db/order-repository.js'
import type { Sql } from '../../db/sql.js'
import type { JobQueue, NewJob } from '../../jobs/queue.js'
import { EnomError, isEnomError } from '../../enom/errors.js'
import type { BalanceService } from '../balance.js'
import type { CallScope, EnomCall, EnomGateway } from '../enom-gateway.js'
import { enomProblem } from '../enom-problems.js'
import { AppError, conflict, notFound } from '../errors.js'
import { newId } from '../ids.js'
import { moduleTarget } from '../modules.js'
import type { ProductService } from '../products.js'
import type { PurchaseSwitch } from '../purchases.js'
import type { SecretBox } from '../secrets.js'
import type { TaskService } from '../tasks.js'
import type { Events } from '../events.js'
import { accountKey } from './accounts.js'
import type { SharedSnapshot } from './snapshots.js'
import { actionAllowed, billmanagerStatus, type OrderAction } from './status.js'
import type { OrderView } from '../../schemas/orders.js'

export interface OrderSettings {
  dailyCountLimit: number
  dailyAmountLimit: string
  /** How long after an unknown outcome reconciliation first looks. */
  reconcileDelayMs: number
  /** The base interval of the status sync (backoff grows from it). */
  syncIntervalMs: number
  /** After this long, a call still 'sending' belongs to an instance that was lost. */
  stalledAfterMs: number
}

export interface OrderDeps {
  prisma: PrismaClient
  /** The pool Prisma uses too: the placement's transactions run on it as plain SQL. */
  pool: pg.Pool
  orders: OrderRepository
  moduleRepo: ModuleRepository
  secrets: SecretBox
  gateway: EnomGateway
  products: ProductService
  balances: BalanceService
  tasks: TaskService
  jobs: JobQueue
  purchases: PurchaseSwitch
  events: Events
  settings: OrderSettings
  log: Logger
  /** Pokes this instance's job runner (urgent work was enqueued). */
  wakeJobs: () => void
  /** The newest CertID snapshot of each eNom account, under way or as it came back (placement.ts shares them). */
  snapshots: Map<string, SharedSnapshot>
}

export function orderView (o: OrderRow): OrderView {
  const dcv = o.dcv as OrderView['dcv']
  return {
    id: o.id,
    serviceId: o.serviceId,
    moduleId: o.moduleId,
    caller: o.caller,
    environment: o.environment,
    productCode: o.productCode,
    prodType: o.prodType,
    family: o.family,
    years: o.years,
    domain: o.domain,
    sans: o.sans,
    status: o.status,
    billmanagerStatus: billmanagerStatus(o.status, o.certificate !== null),
    enom: { certId: o.enomCertId, orderId: o.enomOrderId, statusId: o.enomStatusId, statusText: o.enomStatusText, statusUnknown: o.enomStatusUnknown, reissueStatus: o.reissueStatus },
    amount: o.amount === null ? null : o.amount.toFixed(2),
    webServerType: o.webServerType,
    approverEmail: o.approverEmail,
    dcvMethod: o.dcvMethod,
    dcv: dcv && Object.keys(dcv).length > 0 ? dcv : null,
    approvers: o.approvers,
    certificate: o.serialNumber && o.issuedAt && o.expiresAt
      ? { serialNumber: o.serialNumber, issuedAt: o.issuedAt.toISOString(), expiresAt: o.expiresAt.toISOString() }
      : null,
    renewalOf: o.renewalOfId,
    error: o.errorCode ? { code: o.errorCode, detail: o.errorDetail ?? '' } : null,
    closedAt: o.closedAt ? o.closedAt.toISOString() : null,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString()
  }
}

export async function getOrder (deps: OrderDeps, id: string): Promise<OrderRow> {
  const row = await deps.orders.findById(id)
  if (!row) throw notFound('order', id)
  return row
}

export async function moduleOf (deps: OrderDeps, order: OrderRow): Promise<ModuleRow> {
  const row = await deps.moduleRepo.findById(order.moduleId)
  if (!row) throw new AppError(500, 'MODULE_MISSING', 'Internal server error', `order ${order.id} refers to a module that does not exist`)
  return row
}

/** 409 with the status and the reason when eNom does not allow the action now. */
export function assertAction (order: OrderRow, action: OrderAction): void {
  const verdict = actionAllowed(action, order.status, order.family as never, { hasCertId: order.enomCertId !== null, hasCertificate: order.certificate !== null })
  if (!verdict.allowed) {
    throw conflict('ACTION_NOT_ALLOWED', `cannot ${action} an order in status ${order.status}: ${verdict.reason ?? 'not allowed'}`, { orderId: order.id })
  }
}

export async function targetFor (deps: OrderDeps, module: ModuleRow, orderId?: string) {
  const t = await moduleTarget(module, deps.secrets)
  return { ...t, ...(orderId ? { orderId } : {}) }
}

export function accountOf (module: ModuleRow): string {
  return accountKey(module.apiUrl, module.username)
}

export type AttemptOutcome<T> =
  | { kind: 'succeeded', result: T, attempt: AttemptRow }
  | { kind: 'failed', error: EnomError, attempt: AttemptRow }
  | { kind: 'unknown', error: EnomError, attempt: AttemptRow }

/** Whether an error of a money-spending or state-changing call leaves its outcome unknown. */
export function outcomeUnknown (err: EnomError, money: boolean): boolean {
  if (err.delivery === 'unknown') return true
  // An eNom system error on a purchase does not prove nothing was charged: reconcile instead.
  return money && err.delivery === 'processed' && (err.reason === 'transient' || err.reason === 'unknown')
}

/**
 * Makes one money-spending or state-changing eNom call: the attempt row is committed before the
 * call is sent (`record` may write more with it), the call is sent once, and the attempt
 * ends succeeded, failed (nothing happened at eNom) or unknown (reconciliation decides).
 */
export async function attemptCall<T> (deps: OrderDeps, input: {
  order: OrderRow
  module: ModuleRow
  command: string
  money: boolean
  scope: CallScope
  caller?: string
  snapshot?: Record<string, unknown>
  /** Records the attempt together with what goes with it (one statement that commits on its own). */
  record?: (attempt: NewAttempt) => Promise<AttemptRow>
  /** On success, records the attempt's end (`record`) and what goes with it, instead of only the end. */
  finish?: (attempt: AttemptRow, record: AttemptChanges, result: T) => Promise<AttemptRow>
  call: EnomCall<T>
}): Promise<AttemptOutcome<T>> {
  const newAttempt: NewAttempt = {
    id: newId(),
    orderId: input.order.id,
    accountKey: accountOf(input.module),
    command: input.command,
    state: 'sending',
    ...(input.snapshot ? { snapshot: input.snapshot } : {}),
    caller: input.caller ?? null,
    requestId: input.scope.requestId ?? null,
    startedAt: new Date()
  }
  const attempt = await (input.record ?? ((a: NewAttempt) => deps.orders.insertAttempt(a)))(newAttempt)
  const target = await targetFor(deps, input.module, input.order.id)
  try {
    const result = await deps.gateway.call(target, input.command, input.scope, input.call)
    const record = { state: 'succeeded' as const, result: result ?? {} }
    const done = input.finish ? await input.finish(attempt, record, result) : await deps.orders.finishAttempt(attempt.id, record)
    return { kind: 'succeeded', result, attempt: done }
  } catch (err) {
    if (!isEnomError(err)) {
      // Not an eNom answer at all (a bug or the database): the call may have gone out.
      const unknownError = new EnomError({ reason: 'unknown', command: input.command, delivery: 'unknown', message: `eNom ${input.command}: ${(err as Error).message}` })
      const done = await deps.orders.finishAttempt(attempt.id, { state: 'unknown', errorCode: 'INTERNAL', errorDetail: (err as Error).message.slice(0, 2000) }).catch(() => attempt)
      return { kind: 'unknown', error: unknownError, attempt: done }
    }
    const unknown = outcomeUnknown(err, input.money)
    const done = await deps.orders.finishAttempt(attempt.id, {
      state: unknown ? 'unknown' : 'failed',
      errorCode: err.code,
      errorDetail: err.message.slice(0, 2000)
    })
    return unknown ? { kind: 'unknown', error: err, attempt: done } : { kind: 'failed', error: err, attempt: done }
  }
}

/** Schedules reconciliation of an attempt whose outcome is unknown. */
export async function scheduleReconcile (deps: OrderDeps, attemptId: string, tx?: Sql, delayMs = deps.settings.reconcileDelayMs): Promise<void> {
  await deps.jobs.enqueue({ kind: 'order.reconcile', key: `reconcile:${attemptId}`, payload: { attemptId, checks: 0 }, runAt: new Date(Date.now() + delayMs), maxAttempts: 10 }, tx)
  if (delayMs === 0) deps.wakeJobs()
}

/** An order's status sync, due in `delayMs`. */
export function syncJob (orderId: string, delayMs: number): NewJob {
  return { kind: 'order.sync', key: `sync:${orderId}`, payload: { orderId, idle: 0 }, runAt: new Date(Date.now() + delayMs), maxAttempts: 10 }
}

/** Schedules (or advances) an order's status sync. */
export async function scheduleSync (deps: OrderDeps, orderId: string, delayMs = 0, tx?: Sql): Promise<void> {
  await deps.jobs.enqueue(syncJob(orderId, delayMs), tx)
  if (delayMs === 0) deps.wakeJobs()
}

/** The problem a failed eNom call becomes for the caller, with the order named. */
export function problemFor (err: EnomError, orderId: string): AppError {
  const p = enomProblem(err)
  return new AppError(p.status, p.code, p.title, p.detail, { ...p.extras, orderId }, p.headers)
}
