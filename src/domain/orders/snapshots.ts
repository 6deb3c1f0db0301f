// The CertID snapshots a purchase is judged by: the newest CertID on the eNom account before the
// purchase (reconciliation looks above it), and the certificate of an OrderID eNom named without
// its CertID.
import type { ModuleRow } from '../../db/module-repository.js'
import { isEnomError } from '../../enom/errors.js'
import type { CallScope } from '../enom-gateway.js'
import { accountOf, problemFor, targetFor, type OrderDeps } from './context.js'

/** A reading of an account's newest CertID that orders share: under way, or when it came back. */
export interface SharedSnapshot { reading: Promise<number>, cameBackAt?: number }

/**
 * The newest CertID on the account before the purchase: what reconciliation compares with.
 * Orders on one account share one reading: the one under way, or the one that came back after
 * the order arrived (orders arriving together, some of which get here after it came back). Each
 * of them sends its purchase after the reading came back, which is all this snapshot must be. A
 * failed reading is not shared past its failure, and the reading after an unknown outcome
 * (snapshotOf) is never shared: it must be taken after that moment.
 */
export function sharedSnapshotOf (deps: OrderDeps, module: ModuleRow, scope: CallScope): Promise<number> {
  const account = accountOf(module)
  const known = deps.snapshots.get(account)
  if (known && (known.cameBackAt === undefined || (scope.receivedAt !== undefined && known.cameBackAt >= scope.receivedAt))) return known.reading
  const shared: SharedSnapshot = { reading: snapshotOf(deps, module, scope) }
  shared.reading.then(() => { shared.cameBackAt = Date.now() }, () => { if (deps.snapshots.get(account) === shared) deps.snapshots.delete(account) })
  deps.snapshots.set(account, shared)
  return shared.reading
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
