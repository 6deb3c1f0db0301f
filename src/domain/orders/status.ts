// Order statuses: keyed on eNom's CertStatusID (never on its text), plus the service's own
// (purchasing, outcome_unknown, closed, failed), the BILLmanager view of each, and which actions
// eNom allows in which status for which product family (enom-api.md §3.9 and the family table).
import { ACTIONS_BY_STATUS, FAMILIES, type FamilyId } from '../../enom/families.js'

export const ORDER_STATUSES = [
  'purchasing', 'outcome_unknown', 'awaiting_configuration', 'processing', 'awaiting_approval', 'approved',
  'issued', 'rejected', 'refunded', 'closed', 'failed'
] as const
export type OrderStatus = typeof ORDER_STATUSES[number]

/** Statuses after which the billing service may order again and the module may be deleted. */
export const FINAL_STATUSES: readonly OrderStatus[] = ['issued', 'refunded', 'closed', 'failed']
export const OPEN_STATUSES: readonly OrderStatus[] = ORDER_STATUSES.filter((s) => !FINAL_STATUSES.includes(s))
/** Statuses the sync job follows (issued ones are checked daily for reissue and refund). */
export const FOLLOWED_STATUSES: readonly OrderStatus[] = ['awaiting_configuration', 'processing', 'awaiting_approval', 'approved', 'rejected', 'issued']

export function isFinal (status: OrderStatus): boolean {
  return FINAL_STATUSES.includes(status)
}

const BY_ENOM_ID: Readonly<Record<number, OrderStatus>> = {
  1: 'awaiting_configuration',
  2: 'processing',
  4: 'issued',
  6: 'rejected',
  7: 'refunded',
  8: 'refunded',
  9: 'awaiting_approval',
  10: 'approved'
}

/** Our status for an eNom CertStatusID, or undefined for an id we do not know (flag it, keep the last). */
export function statusFromEnom (statusId: number | undefined): OrderStatus | undefined {
  return statusId === undefined ? undefined : BY_ENOM_ID[statusId]
}

export type BillmanagerStatus = 'requested' | 'enrolled' | 'issued' | 'failed'

/** BILLmanager's four certificate statuses (requested → enrolled → issued, or failed). */
export function billmanagerStatus (status: OrderStatus, hasCertificate: boolean): BillmanagerStatus {
  switch (status) {
    case 'purchasing':
    case 'outcome_unknown':
    case 'awaiting_configuration':
    case 'rejected':
      return 'requested'
    case 'processing':
    case 'awaiting_approval':
    case 'approved':
      return 'enrolled'
    case 'issued':
      return 'issued'
    case 'closed':
      return hasCertificate ? 'issued' : 'failed'
    default:
      return 'failed'
  }
}

export type OrderAction =
  | 'configure' | 'approverEmails' | 'changeApproverEmail' | 'resendApproverEmail' | 'resendFulfillmentEmail'
  | 'sync' | 'reissue' | 'cancelConfiguration' | 'renew' | 'close' | 'certificate'

export interface ActionVerdict {
  allowed: boolean
  reason?: string
}

const ENOM_IDS: Partial<Record<OrderStatus, number>> = {
  awaiting_configuration: 1, processing: 2, issued: 4, rejected: 6, awaiting_approval: 9, approved: 10
}

function inEnomStatuses (status: OrderStatus, ids: readonly number[]): boolean {
  const id = ENOM_IDS[status]
  return id !== undefined && ids.includes(id)
}

/** Whether eNom allows the action for an order in this status and product family, and if not, why. */
export interface OrderFacts {
  /** eNom's CertID is known (the purchase succeeded). */
  hasCertId: boolean
  /** A certificate was issued and is stored. */
  hasCertificate: boolean
}

export function actionAllowed (action: OrderAction, status: OrderStatus, family: FamilyId, { hasCertId, hasCertificate }: OrderFacts): ActionVerdict {
  const f = FAMILIES[family]
  const no = (reason: string): ActionVerdict => ({ allowed: false, reason })
  switch (action) {
    case 'configure':
      return inEnomStatuses(status, ACTIONS_BY_STATUS.configure) ? { allowed: true } : no('eNom accepts a configuration only while the certificate awaits configuration or was rejected')
    case 'approverEmails':
      if (!hasCertId) return no('approver e-mails need the eNom CertID, which exists once the purchase succeeded')
      return ['awaiting_configuration', 'rejected', 'processing', 'awaiting_approval'].includes(status) ? { allowed: true } : no('approver e-mails matter only before the certificate is issued')
    case 'changeApproverEmail':
      return inEnomStatuses(status, ACTIONS_BY_STATUS.changeApproverEmail) ? { allowed: true } : no('eNom changes the approver only while the order is processing or its approval e-mail was sent')
    case 'resendApproverEmail':
      return inEnomStatuses(status, ACTIONS_BY_STATUS.resendApproverEmail) ? { allowed: true } : no('eNom resends the approver e-mail only while the order is processing or its approval e-mail was sent')
    case 'resendFulfillmentEmail':
      if (!f.resendFulfillment) return no(`the ${f.label} family has no fulfillment e-mail to resend`)
      return inEnomStatuses(status, ACTIONS_BY_STATUS.resendFulfillmentEmail) ? { allowed: true } : no('the fulfillment e-mail exists once the certificate is issued')
    case 'reissue':
      if (!f.reissue) return no(`eNom reissues only RapidSSL/GeoTrust/Symantec certificates, not ${f.label}`)
      return inEnomStatuses(status, ACTIONS_BY_STATUS.reissue) ? { allowed: true } : no('only an issued certificate can be reissued')
    case 'cancelConfiguration':
      return inEnomStatuses(status, ACTIONS_BY_STATUS.cancelConfiguration) ? { allowed: true } : no('eNom cancels a configuration only while the order is processing or its approval e-mail was sent, before the CA validates it')
    case 'sync':
      return hasCertId ? { allowed: true } : no('the order has no eNom certificate to read yet')
    case 'renew':
      return status === 'issued' || (status === 'closed' && hasCertificate) ? { allowed: true } : no('only an issued certificate is renewed (eNom has no renewal: a new order is placed)')
    case 'close':
      return status === 'closed' ? no('the order is already closed') : status === 'purchasing' ? no('the purchase is still in flight; retry in a moment') : { allowed: true }
    case 'certificate':
      return status === 'issued' || status === 'closed' ? { allowed: true } : no('the certificate exists once it is issued')
  }
}
