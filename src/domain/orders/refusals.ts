// The refusals of a placement that say more than a status: the purchase statement's (a taken
// service lock, the daily limits), missing funds (with a task for the department) and a purchase
// eNom refused (with a task when someone has to act).
import { SpendLimitError, type OrderRow } from '../../db/order-repository.js'
import type { ModuleRow } from '../../db/module-repository.js'
import { isUniqueViolation } from '../../db/errors.js'
import type { EnomError } from '../../enom/errors.js'
import type { BalanceView } from '../balance.js'
import { AppError, conflict } from '../errors.js'
import { compareMoney } from '../money.js'
import type { OrderDeps } from './context.js'

/** What the statement recording a purchase refused, as the caller's problem (else the error as it is). */
export function purchaseRefusal (deps: OrderDeps, err: unknown, caller: string, price: string, serviceId: string): unknown {
  if (isUniqueViolation(err) && (err as { constraint?: string }).constraint === 'service_lock_pkey') {
    return conflict('ORDER_EXISTS', `service ${serviceId} already has an open order`)
  }
  if (!(err instanceof SpendLimitError)) return err
  const { dailyCountLimit, dailyAmountLimit } = deps.settings
  if (err.limit === 'count') {
    return conflict('SPEND_LIMIT_REACHED', `caller ${caller} placed ${err.count} order(s) today; the daily limit is ${dailyCountLimit} (SPEND_LIMIT_DAILY_COUNT)`)
  }
  return conflict('SPEND_LIMIT_REACHED', `this order (${price} USD) would take caller ${caller} past the daily amount limit of ${dailyAmountLimit} USD (spent today: ${err.amount}; SPEND_LIMIT_DAILY_AMOUNT)`)
}

/** The live available balance must cover the price; else 409 and a task for the department. */
export async function checkFunds (deps: OrderDeps, module: ModuleRow, price: string, balance: BalanceView): Promise<void> {
  if (balance.stale) {
    throw new AppError(502, 'BALANCE_UNAVAILABLE', 'eNom balance unavailable', `the live balance could not be read (${balance.error?.detail ?? 'eNom failed'}); nothing was bought`, { cause: balance.error?.cause ?? 'unknown' }, { 'retry-after': '30' })
  }
  if (compareMoney(balance.availableBalance, price) < 0) {
    await deps.tasks.open({
      department: module.department,
      moduleId: module.id,
      kind: 'insufficient_funds',
      title: `eNom account of module ${module.name} cannot pay for orders`,
      message: `An order of ${price} USD was refused: the available balance is ${balance.availableBalance} USD.`,
      action: 'Add funds to the eNom reseller account; the billing system can then retry the order.',
      dedupeKey: `insufficient-funds:${module.id}:${new Date().toISOString().slice(0, 10)}`
    })
    throw conflict('INSUFFICIENT_FUNDS', `the eNom account's available balance (${balance.availableBalance} USD) is below the price (${price} USD); nothing was bought`, { moduleId: module.id })
  }
}

export async function taskForPurchaseFailure (deps: OrderDeps, module: ModuleRow, order: OrderRow, err: EnomError): Promise<void> {
  const actions: Partial<Record<EnomError['reason'], string>> = {
    insufficient_funds: 'Add funds to the eNom reseller account, then let the billing system order again.',
    auth: "Check the module's username and password/API token (live and test differ), then run its connection check.",
    ip_not_allowed: `Allow ${err.ip ?? "this service's IP address"} in the eNom account's API settings.`,
    dns: 'Check that the eNom API host resolves from this service; nothing was sent, the billing system may order again.',
    connect: 'Check that the eNom API is reachable from this service; nothing was sent, the billing system may order again.',
    tls: 'Check the TLS path to eNom (proxy, certificates); nothing was sent.'
  }
  const action = actions[err.reason]
  if (!action) return
  await deps.tasks.open({
    department: module.department,
    moduleId: module.id,
    orderId: order.id,
    kind: 'purchase_failed',
    title: `Purchase for service ${order.serviceId} failed at eNom`,
    message: `PurchaseServices for ${order.productCode} (${order.years} year(s)) failed: nothing was bought.`,
    lastError: err.message,
    action
  })
}
