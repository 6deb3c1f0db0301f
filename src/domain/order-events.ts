// The events an order's status changes cause, written in the transaction of the change.
import type { OrderRow, StatusChangeHook } from '../db/order-repository.js'
import type { Events, NewEvent } from './events.js'
import { billmanagerStatus, type OrderStatus } from './orders/status.js'

function summary (o: OrderRow) {
  return {
    orderId: o.id,
    serviceId: o.serviceId,
    moduleId: o.moduleId,
    productCode: o.productCode,
    domain: o.domain,
    enomCertId: o.enomCertId
  }
}

/** The events of an order's change from status `before` to the row `after`, in the order they are written. */
export function statusEvents (before: OrderStatus, after: OrderRow): NewEvent[] {
  const hasCertificate = after.certificate !== null
  const events: NewEvent[] = [{
    type: 'order.status_changed',
    orderId: after.id,
    moduleId: after.moduleId,
    data: {
      ...summary(after),
      from: before,
      to: after.status,
      billmanagerFrom: billmanagerStatus(before, hasCertificate),
      billmanagerTo: billmanagerStatus(after.status, hasCertificate)
    }
  }]
  if (after.status === 'issued') {
    events.push({
      type: 'order.issued',
      orderId: after.id,
      moduleId: after.moduleId,
      data: {
        ...summary(after),
        serialNumber: after.serialNumber,
        issuedAt: after.issuedAt?.toISOString() ?? null,
        expiresAt: after.expiresAt?.toISOString() ?? null,
        // The PEM is fetched from the API, not pushed.
        certificateUrl: `/orders/${after.id}/certificate`
      }
    })
  } else if (after.status === 'failed') {
    events.push({ type: 'order.failed', orderId: after.id, moduleId: after.moduleId, data: { ...summary(after), errorCode: after.errorCode, errorDetail: after.errorDetail } })
  } else if (after.status === 'outcome_unknown') {
    events.push({ type: 'order.outcome_unknown', orderId: after.id, moduleId: after.moduleId, data: { ...summary(after), errorCode: after.errorCode, errorDetail: after.errorDetail } })
  }
  return events
}

/** The hook the order repository calls on every status change: its events, in the change's transaction. */
export function orderEvents (events: Events): StatusChangeHook {
  return async (tx, before: OrderStatus, after: OrderRow) => {
    for (const event of statusEvents(before, after)) await events.emit(tx, event)
  }
}

/** The expiry notices: one event per order and threshold, when the smallest reached one is new. */
export const EXPIRY_THRESHOLDS_DAYS = [30, 15, 7, 1]

export function expiryThreshold (expiresAt: Date, now: Date): number | undefined {
  const daysLeft = (expiresAt.getTime() - now.getTime()) / 86_400_000
  if (daysLeft < 0) return undefined
  return [...EXPIRY_THRESHOLDS_DAYS].sort((a, b) => a - b).find((t) => daysLeft <= t)
}
