// The CertID snapshots a purchase is judged by: the newest CertID on the eNom account before the
// purchase (reconciliation looks above it), and the certificate of an OrderID eNom named without
// its CertID.
import type { ModuleRow } from '../../db/module-repository.js'
import { isEnomError } from '../../enom/errors.js'
import type { CallScope } from '../enom-gateway.js'
import { accountOf, problemFor, targetFor, type OrderDeps } from './context.js'

/**
 * The newest CertID on the account before the purchase: what reconciliation compares with.
 * Orders on one account at the same moment share one reading: each of them sends its purchase
 * after the reading came back, which is all this snapshot must be. (The reading after an unknown
 * outcome is never shared: it must be taken after that moment.)
 */
export function sharedSnapshotOf (deps: OrderDeps, module: ModuleRow, scope: CallScope): Promise<number> {
  const account = accountOf(module)
  let reading = deps.snapshots.get(account)
  if (!reading) {
    reading = snapshotOf(deps, module, scope).finally(() => deps.snapshots.delete(account))
    deps.snapshots.set(account, reading)
  }
  return reading
}

/**
 * The newest CertID on the account, read now: the first of the list sorted by CertID, newest
 * first. Were eNom's sort ever off, the CertID read would be lower than the newest, which only
 * widens what reconciliation looks at; it never hides a certificate from it.
 */
export async function snapshotOf (deps: OrderDeps, module: ModuleRow, scope: CallScope): Promise<number> {
  const target = await targetFor(deps, module)
  const list = await deps.gateway.call(target, 'CertGetCerts', scope, (c, creds, ctx) => c.certGetCerts(creds, { sortBy: 'CertID', sortDirection: 'Desc', pageSize: 1 }, ctx))
    .catch((err) => { throw isEnomError(err) ? problemFor(err, '') : err })
  return list.certs.reduce((max, c) => Math.max(max, Number(c.certId)), 0)
}

/** PurchaseServices named an OrderID but no CertID: the certificate of that order above the snapshot. */
export async function certIdByOrderId (deps: OrderDeps, module: ModuleRow, enomOrderId: string, snapshot: number, scope: CallScope): Promise<string | undefined> {
  try {
    const target = await targetFor(deps, module)
    const list = await deps.gateway.call(target, 'CertGetCerts', scope, (c, creds, ctx) => c.certGetCerts(creds, { sortBy: 'CertID', sortDirection: 'Desc', pageSize: 25 }, ctx))
    return list.certs.find((c) => c.orderId === enomOrderId && Number(c.certId) > snapshot)?.certId
  } catch {
    return undefined
  }
}
