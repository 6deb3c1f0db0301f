// Placing an order: choose the module, check the product and the options against its live
// catalogue, apply the spend guards, and buy — exactly once. The purchase runs behind a committed
// order and attempt row; its outcome is success, a failure that proves nothing was bought, or
// unknown (reconciliation, never a second purchase). Purchases on one eNom account run side by
// side; while one of them has an unknown outcome, new ones on that account wait for its verdict.
import type { ModuleRow } from '../../db/module-repository.js'
import { StatusMovedError, type OrderRow } from '../../db/order-repository.js'
import { together, transaction } from '../../db/sql.js'
import type { CreateOrder } from '../../schemas/orders.js'
import type { CallScope } from '../enom-gateway.js'
import { AppError, badRequest, conflict, serviceUnavailable } from '../errors.js'
import { statusEvents } from '../order-events.js'
import { newId } from '../ids.js'
import { PAUSE_SETTING, pauseStateOf, refuseIfPaused, type PauseState } from '../purchases.js'
import { fromCents, toCents } from '../money.js'
import type { ProductView } from '../products.js'
import { accountOf, attemptCall, getOrder, problemFor, scheduleReconcile, scheduleSync, syncJob, type OrderDeps } from './context.js'
import { checkFunds, purchaseRefusal, taskForPurchaseFailure } from './refusals.js'
import { chooseModule, namedModule } from './selection.js'
import { certIdByOrderId, sharedSnapshotOf, snapshotOf } from './snapshots.js'
import { checkConfiguration, checkDcvMethod, checkSans, checkWildcard, type CheckedConfiguration } from './validate.js'

export interface PlaceResult {
  order: OrderRow
  /** 201 when the purchase succeeded, 202 while its outcome is unknown. */
  created: boolean
}

async function checkProduct (deps: OrderDeps, module: ModuleRow, input: CreateOrder, scope: CallScope): Promise<ProductView> {
  const product = await deps.products.find(module, input.productCode, scope)
  if (!product || !product.enabled) {
    throw badRequest('PRODUCT_NOT_AVAILABLE', `module ${module.name} does not offer ${input.productCode}; see GET /modules/${module.id}/products`,
      [{ field: 'body.productCode', message: 'not in the module\'s live catalogue (or disabled)' }])
  }
  if (!product.yearsAvailable.includes(input.years)) {
    throw badRequest('YEARS_NOT_AVAILABLE', `${product.productCode} is sold for ${product.yearsAvailable.join(', ')} year(s)`,
      [{ field: 'body.years', message: `must be one of ${product.yearsAvailable.join(', ')}` }])
  }
  return product
}

function configurationOf (input: CreateOrder) {
  const given = [input.csr, input.webServerType, input.contacts].filter((v) => v !== undefined).length
  if (given === 0) {
    if (input.approverEmail || input.dcvMethod) throw badRequest('CONFIGURATION_INCOMPLETE', 'approverEmail and dcvMethod come with a configuration (csr, webServerType, contacts)')
    return undefined
  }
  if (given < 3 || !input.csr || input.webServerType === undefined || !input.contacts) {
    throw badRequest('CONFIGURATION_INCOMPLETE', 'to configure with the order, send csr, webServerType and contacts together',
      ['csr', 'webServerType', 'contacts'].filter((k) => (input as Record<string, unknown>)[k] === undefined).map((k) => ({ field: `body.${k}`, message: 'is required with a configuration' })))
  }
  return { csr: input.csr, webServerType: input.webServerType, approverEmail: input.approverEmail, dcvMethod: input.dcvMethod, contacts: input.contacts }
}

export async function placeOrder (deps: OrderDeps, input: CreateOrder, caller: string, scope: CallScope,
  options: { idempotencyKeyId?: string, renewalOf?: OrderRow, configure?: (order: OrderRow, config: CheckedConfiguration) => Promise<OrderRow> } = {}): Promise<PlaceResult> {
  // The reads that do not depend on each other go out together (for a named module, in one
  // statement); their refusals keep their order: an open order first, then the module, the
  // product and options, then the kill switch. A module chosen by sort may open a task, so it is
  // only looked for once no order is open.
  const namedId = options.renewalOf?.moduleId ?? input.moduleId
  let pause: () => PauseState
  let module: ModuleRow
  if (namedId !== undefined) {
    const reads = await deps.orders.placementReads(input.serviceId, namedId, PAUSE_SETTING)
    if (reads.open) throw orderExists(input.serviceId, reads.open)
    pause = () => pauseStateOf(reads.setting)
    module = options.renewalOf ? reads.module ?? await chooseModule(deps, input) : namedModule(input, reads.module)
  } else {
    const [existing, state] = await Promise.allSettled([deps.orders.openOrderOf(input.serviceId), deps.purchases.state()])
    const open = settled(existing)
    if (open) throw orderExists(input.serviceId, open)
    pause = () => settled(state)
    module = await chooseModule(deps, input)
  }
  const product = await checkProduct(deps, module, input, scope)
  checkWildcard(input.domain, product.wildcard)
  const sans = checkSans(product.family, input.domain, input.sans)
  const config = configurationOf(input)
  let checked: CheckedConfiguration | undefined
  if (config) checked = await checkConfiguration(config, { domain: input.domain, prodType: product.prodType, family: product.family, sans })
  else if (input.dcvMethod) checkDcvMethod(product.prodType, product.family, input.dcvMethod)

  refuseIfPaused(pause())
  const price = fromCents(toCents(product.resellerPrice) * BigInt(input.years))

  const account = accountOf(module)
  const order = await (async () => {
    // A purchase on the account whose outcome is unknown (or whose instance was lost mid-call)
    // must be settled first: a certificate bought now would blur what it bought. That check, the
    // live balance and the newest CertID are read at the same time (the two eNom calls are reads);
    // an unsettled purchase answers first, then missing funds, then a failed snapshot.
    // Only the reads run in parallel: a refusal for missing funds (and its task) comes after.
    // The eNom readings are the account's under way or the ones that came back after this order
    // arrived: orders arriving together share them (balance.ts, snapshots.ts).
    const [unresolved, balance, newest] = await Promise.allSettled([
      deps.orders.unresolvedAttempts(account),
      deps.balances.get(module, scope, { refresh: true, keepInBackground: true, ...(scope.receivedAt === undefined ? {} : { liveSince: scope.receivedAt }) }),
      sharedSnapshotOf(deps, module, scope)
    ])
    const unsettled = settled(unresolved).filter((a) =>
      a.state === 'unknown' || Date.now() - a.startedAt.getTime() >= deps.settings.stalledAfterMs)
    if (unsettled.some((a) => a.command === 'PurchaseServices')) {
      for (const a of unsettled) await scheduleReconcile(deps, a.id, undefined, 0)
      throw serviceUnavailable('RECONCILIATION_PENDING', 'an earlier purchase on this eNom account has an unknown outcome and is being reconciled; nothing was bought — retry shortly', 30)
    }
    await checkFunds(deps, module, price, settled(balance))
    const snapshot = settled(newest)
    const orderId = newId()
    let placed: OrderRow | undefined
    let confirmed: OrderRow | undefined
    const outcome = await attemptCall(deps, {
      order: { id: orderId } as OrderRow,
      module,
      command: 'PurchaseServices',
      money: true,
      scope,
      caller,
      snapshot: { maxCertId: snapshot, prodType: product.prodType, startedAt: new Date().toISOString() },
      // One statement records the purchase before it is sent and commits on its own: the order
      // with its lock, key and attempt, its event, and the checks that must hold — the key still
      // claimed, the caller's day (this order included) within the spend limits, counted under the
      // caller's lock with everything committed before. The caller's purchases ready at the same
      // moment share that statement (recordPurchase). The order's time is this process's clock,
      // as every order's is: the day the limits count is the day of this timestamp.
      record: async (attempt) => {
        const createdAt = new Date()
        const recorded = await deps.orders.recordPurchase({
          order: {
            id: orderId,
            moduleId: module.id,
            caller,
            serviceId: input.serviceId,
            environment: module.environment,
            productCode: product.productCode,
            prodType: product.prodType,
            family: product.family,
            years: input.years,
            domain: input.domain.toLowerCase(),
            sans,
            status: 'purchasing',
            amount: price,
            renewalOfId: options.renewalOf?.id ?? null,
            createdAt,
            updatedAt: createdAt
          },
          attempt,
          ...(options.idempotencyKeyId ? { idempotencyKeyId: options.idempotencyKeyId } : {}),
          spend: { maxCount: deps.settings.dailyCountLimit, maxAmount: deps.settings.dailyAmountLimit },
          event: {
            id: newId(),
            type: 'order.created',
            orderId,
            moduleId: module.id,
            data: { orderId, serviceId: input.serviceId, moduleId: module.id, productCode: product.productCode, years: input.years, domain: input.domain.toLowerCase(), status: 'purchasing', renewalOf: options.renewalOf?.id ?? null, caller }
          }
        }).catch((err: unknown) => { throw purchaseRefusal(deps, err, caller, price, input.serviceId) })
        placed = recorded.order
        return recorded.attempt
      },
      call: (c, creds, ctx) => c.purchaseServices(creds, { service: product.productCode, numYears: input.years }, ctx),
      // The usual answer names the certificate: the attempt's end, the order's change, its event
      // and its sync job commit together, in one statement while the order is still 'purchasing'
      // as recorded (else, as any change, in a transaction that reads the status it changes from).
      finish: async (attempt, record, result) => {
        if (!result.certId) return deps.orders.finishAttempt(attempt.id, record)
        const changes = boughtChanges(result, price)
        // The events read the order's names and statuses, not its amount.
        const events = statusEvents('purchasing', { ...(placed as OrderRow), ...changes, amount: (placed as OrderRow).amount })
        try {
          const done = await deps.orders.changeWithAttempt({
            orderId, expected: 'purchasing', changes, attempt: { id: attempt.id, changes: record }, jobs: [syncJob(orderId, deps.settings.syncIntervalMs)], events
          })
          confirmed = done.order
          return done.attempt
        } catch (err) {
          if (!(err instanceof StatusMovedError)) throw err
          return transaction(deps.pool, async (tx) => {
            const [finished, updated] = await together([
              deps.orders.finishAttempt(attempt.id, record, tx),
              deps.orders.update(orderId, changes, tx),
              scheduleSync(deps, orderId, deps.settings.syncIntervalMs, tx)
            ] as const)
            confirmed = updated
            return finished
          })
        }
      }
    })
    const row = placed as unknown as OrderRow
    if (outcome.kind === 'succeeded' && confirmed) return confirmed
    if (outcome.kind === 'succeeded') {
      let { certId, orderId: enomOrderId } = outcome.result
      if (!certId && enomOrderId) certId = await certIdByOrderId(deps, module, enomOrderId, snapshot, scope)
      if (!certId) {
        // eNom said yes but named no certificate: find it by reconciliation, never buy again.
        await deps.orders.finishAttempt(outcome.attempt.id, { state: 'unknown', errorCode: 'NO_CERT_ID', errorDetail: `PurchaseServices answered without a CertID (OrderID ${enomOrderId ?? 'none'})` })
        await scheduleReconcile(deps, outcome.attempt.id, undefined, 0)
        return deps.orders.update(row.id, { status: 'outcome_unknown', enomOrderId: enomOrderId ?? null, errorCode: 'NO_CERT_ID', errorDetail: 'eNom confirmed the purchase without a CertID; it is being looked up' })
      }
      const updated = await deps.orders.update(row.id, boughtChanges({ ...outcome.result, certId }, price))
      await scheduleSync(deps, row.id, deps.settings.syncIntervalMs)
      return updated
    }
    if (outcome.kind === 'unknown') {
      // Narrow the window at once: a certificate bought on the account after this moment (outside
      // the service, say) cannot be this purchase's.
      const after = await snapshotOf(deps, module, scope).catch(() => undefined)
      if (after !== undefined) {
        await deps.orders.finishAttempt(outcome.attempt.id, { snapshot: { ...(outcome.attempt.snapshot as object), maxCertIdAfter: after }, finishedAt: outcome.attempt.finishedAt })
      }
      await scheduleReconcile(deps, outcome.attempt.id)
      return deps.orders.update(row.id, { status: 'outcome_unknown', errorCode: outcome.error.code, errorDetail: outcome.error.message.slice(0, 2000) })
    }
    const failed = await deps.orders.update(row.id, { status: 'failed', errorCode: outcome.error.code, errorDetail: outcome.error.message.slice(0, 2000) })
    await taskForPurchaseFailure(deps, module, failed, outcome.error)
    throw problemFor(outcome.error, failed.id)
  })()

  if (order.status === 'outcome_unknown') return { order, created: false }
  if (checked && options.configure) {
    try {
      return { order: await options.configure(order, checked), created: true }
    } catch (err) {
      // The certificate is bought: the answer is the order, which says what stopped its configuration.
      if (!(err instanceof AppError)) throw err
      const current = await getOrder(deps, order.id)
      if (current.errorCode) return { order: current, created: true }
      return { order: await deps.orders.update(order.id, { errorCode: err.code, errorDetail: (err.detail ?? err.title).slice(0, 2000) }), created: true }
    }
  }
  return { order, created: true }
}

function orderExists (serviceId: string, open: OrderRow): AppError {
  return conflict('ORDER_EXISTS', `service ${serviceId} already has order ${open.id} in status ${open.status}`, { orderId: open.id })
}

/** A purchase eNom confirmed with its certificate: the order awaits configuration. */
function boughtChanges (result: { certId?: string, orderId?: string, orderAmount?: string }, price: string) {
  return {
    status: 'awaiting_configuration' as const,
    enomCertId: result.certId ?? null,
    enomOrderId: result.orderId ?? null,
    enomStatusId: 1,
    enomStatusText: 'Awaiting Configuration',
    amount: result.orderAmount ?? price
  }
}

/** A settled read's value, or its rejection thrown. */
function settled<T> (result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason
  return result.value
}
