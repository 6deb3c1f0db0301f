// What can be done with a placed order, each allowed only where eNom allows it for the order's
// status and product family. State-changing calls go through attemptCall: a committed attempt
// row, sent once, the outcome recorded; an unknown outcome is reconciled, never resent.
import type { OrderRow } from '../../db/order-repository.js'
import { FAMILIES, type FamilyId } from '../../enom/families.js'
import { isEnomError } from '../../enom/errors.js'
import { parseCsr } from '../csr.js'
import type { CallScope } from '../enom-gateway.js'
import { AppError, conflict, unprocessable } from '../errors.js'
import {
  assertAction, attemptCall, getOrder, moduleOf, problemFor, scheduleReconcile, scheduleSync, targetFor, type AttemptOutcome, type OrderDeps
} from './context.js'
import type { PlaceResult } from './placement.js'
import { checkConfiguration, type CheckedConfiguration, type ConfigurationInput } from './validate.js'
import type { CreateOrder } from '../../schemas/orders.js'

const DV: Record<string, 'Email' | 'File' | 'DNS'> = { email: 'Email', file: 'File', dns: 'DNS' }

/** Applies the common ends of an attempt; returns the result of a success. */
async function settle<T> (deps: OrderDeps, order: OrderRow, outcome: AttemptOutcome<T>, onUnknown: Parameters<typeof deps.orders.update>[1] = {}): Promise<T> {
  if (outcome.kind === 'succeeded') return outcome.result
  if (outcome.kind === 'unknown') {
    await deps.orders.update(order.id, { ...onUnknown, errorCode: outcome.error.code, errorDetail: `${outcome.error.command}: outcome unknown, being reconciled (${outcome.error.message})`.slice(0, 2000) })
    await scheduleReconcile(deps, outcome.attempt.id)
    throw new AppError(502, 'OUTCOME_UNKNOWN', 'eNom outcome unknown', `${outcome.error.command} was sent but its answer was lost; the order is being reconciled with eNom and the call will not be sent again`, { orderId: order.id, cause: outcome.error.reason }, { 'retry-after': '60' })
  }
  await deps.orders.update(order.id, { errorCode: outcome.error.code, errorDetail: outcome.error.message.slice(0, 2000) })
  // Its one attempt is spent. Input eNom refused is the caller's to fix; the rest needs a person.
  if (!['validation', 'csr'].includes(outcome.error.reason) && outcome.error.delivery === 'processed') {
    const module = await moduleOf(deps, order)
    await deps.tasks.open({
      department: module.department,
      moduleId: module.id,
      orderId: order.id,
      kind: 'operation_failed',
      title: `${outcome.error.command} failed for order ${order.id} (service ${order.serviceId})`,
      message: `eNom refused ${outcome.error.command} for certificate ${order.enomCertId ?? '(none)'}; the operation was not retried.`,
      lastError: outcome.error.message,
      action: outcome.error.reason === 'auth' || outcome.error.reason === 'ip_not_allowed'
        ? "Fix the module's eNom access (credentials or IP allow-list), run its connection check, then repeat the operation."
        : 'Look at the error; repeat the operation once the cause is fixed, or ask eNom support.'
    })
  }
  throw problemFor(outcome.error, order.id)
}

/** CertConfigureCert, then — with an approver eNom listed — CertPurchaseCert. */
export async function configureOrder (deps: OrderDeps, orderId: string, input: ConfigurationInput | CheckedConfiguration, caller: string, scope: CallScope): Promise<OrderRow> {
  const order = await getOrder(deps, orderId)
  assertAction(order, 'configure')
  const config = 'parsed' in input ? input : await checkConfiguration(input, order)
  const module = await moduleOf(deps, order)
  const family = FAMILIES[order.family as FamilyId]
  const certId = order.enomCertId as string

  const configured = await settle(deps, order, await attemptCall(deps, {
    order,
    module,
    command: 'CertConfigureCert',
    money: false,
    scope,
    caller,
    call: (c, creds, ctx) => c.certConfigureCert(creds, {
      certId,
      webServerType: config.webServerType,
      csr: config.csr,
      contacts: config.contacts,
      ...(config.uccDomains.length > 0 ? { uccDomains: config.uccDomains } : {}),
      ...(config.dcvMethod !== 'email' && order.family === 'encryption_everywhere' ? { dvAuthMethod: DV[config.dcvMethod] as 'File' | 'DNS' } : {})
    }, ctx)
  }))
  const approvers = configured.approvers.map((a) => a.email.toLowerCase())
  const configuredFields = { csr: config.csr, webServerType: config.webServerType, contacts: config.contacts as object, dcvMethod: config.dcvMethod, approvers }
  if (config.dcvMethod === 'email' && family.approverEmailRequired) {
    const wanted = (config.approverEmail ?? '').toLowerCase()
    if (!approvers.includes(wanted)) {
      const detail = `${config.approverEmail ?? '(none)'} is not one of the addresses eNom lists for ${order.domain}: ${approvers.join(', ') || 'none'}`
      // Configured at eNom, not submitted: the order says why, and keeps no address eNom never got.
      await deps.orders.update(order.id, { ...configuredFields, approverEmail: null, errorCode: 'APPROVER_NOT_LISTED', errorDetail: detail })
      throw unprocessable('APPROVER_NOT_LISTED', 'Approver e-mail not listed by eNom', detail,
        { orderId: order.id, errors: [{ field: 'body.approverEmail', message: `must be one of ${approvers.join(', ')}` }] })
    }
  }
  let row = await deps.orders.update(order.id, { ...configuredFields, approverEmail: config.approverEmail?.toLowerCase() ?? null, errorCode: null, errorDetail: null })

  const subject = config.parsed.subject
  const purchased = await settle(deps, row, await attemptCall(deps, {
    order: row,
    module,
    command: 'CertPurchaseCert',
    money: true,
    scope,
    caller,
    call: (c, creds, ctx) => c.certPurchaseCert(creds, {
      certId,
      ...(config.approverEmail && config.dcvMethod === 'email' ? { approverEmail: config.approverEmail } : {}),
      ...(config.dcvMethod !== 'email' ? { dvAuthMethod: DV[config.dcvMethod] } : {}),
      ...(family.purchaseNeedsCsrFields
        ? {
            csrFields: {
              organization: subject.organization ?? config.contacts.admin.organization,
              address1: config.contacts.admin.address1,
              locality: subject.locality ?? config.contacts.admin.city,
              stateProvince: subject.state ?? config.contacts.admin.state,
              postalCode: config.contacts.admin.postalCode,
              country: subject.country ?? config.contacts.admin.country
            }
          }
        : {}),
      ...(config.uccDomains.length > 0 ? { uccDomains: config.uccDomains } : {})
    }, ctx)
  }), { status: 'outcome_unknown' })
  const dcv = { fileName: purchased.fileAuthName, fileContents: purchased.fileAuthContents, dnsEntry: purchased.dnsAuthEntry, dnsAddress: purchased.dnsAuthAddress }
  row = await deps.orders.update(order.id, {
    status: family.approvalStatuses ? 'awaiting_approval' : 'processing',
    enomStatusId: family.approvalStatuses ? 9 : 2,
    enomStatusText: family.approvalStatuses ? 'Approval Email Sent' : 'Processing',
    dcv: JSON.parse(JSON.stringify(dcv)),
    errorCode: null,
    errorDetail: null
  })
  await scheduleSync(deps, order.id, purchased.certificate ? 0 : deps.settings.syncIntervalMs)
  return row
}

export async function approverEmails (deps: OrderDeps, orderId: string, scope: CallScope) {
  const order = await getOrder(deps, orderId)
  assertAction(order, 'approverEmails')
  const module = await moduleOf(deps, order)
  const domain = order.domain.replace(/^\*\./, '')
  try {
    const result = await deps.gateway.call(await targetFor(deps, module, order.id), 'CertGetApproverEmail', scope,
      (c, creds, ctx) => c.certGetApproverEmail(creds, { certId: order.enomCertId as string, domain }, ctx))
    const approvers = result.approvers.map((a) => ({ email: a.email.toLowerCase(), type: a.type }))
    await deps.orders.update(order.id, { approvers: approvers.map((a) => a.email) })
    return { orderId: order.id, domain, approvers }
  } catch (err) {
    throw isEnomError(err) ? problemFor(err, order.id) : err
  }
}

export async function changeApproverEmail (deps: OrderDeps, orderId: string, email: string, caller: string, scope: CallScope): Promise<OrderRow> {
  const order = await getOrder(deps, orderId)
  assertAction(order, 'changeApproverEmail')
  if (order.approvers.length > 0 && !order.approvers.includes(email.toLowerCase())) {
    throw unprocessable('APPROVER_NOT_LISTED', 'Approver e-mail not listed by eNom', `${email} is not one of ${order.approvers.join(', ')}`, { orderId: order.id })
  }
  const module = await moduleOf(deps, order)
  await settle(deps, order, await attemptCall(deps, {
    order,
    module,
    command: 'CertChangeApproverEmail',
    money: false,
    scope,
    caller,
    call: (c, creds, ctx) => c.certChangeApproverEmail(creds, { certId: order.enomCertId as string, approverEmail: email }, ctx)
  }))
  return deps.orders.update(order.id, { approverEmail: email.toLowerCase(), errorCode: null, errorDetail: null })
}

const RESEND = {
  resendApproverEmail: { command: 'CertResendApproverEmail', call: 'certResendApproverEmail' },
  resendFulfillmentEmail: { command: 'CertResendFulfillmentEmail', call: 'certResendFulfillmentEmail' }
} as const

/** Asks eNom to send the approval (or the issued certificate's) e-mail again; sent once. */
async function resendEmail (deps: OrderDeps, orderId: string, action: keyof typeof RESEND, caller: string, scope: CallScope): Promise<OrderRow> {
  const order = await getOrder(deps, orderId)
  assertAction(order, action)
  const module = await moduleOf(deps, order)
  const { command, call } = RESEND[action]
  await settle(deps, order, await attemptCall(deps, {
    order,
    module,
    command,
    money: false,
    scope,
    caller,
    call: (c, creds, ctx) => c[call](creds, { certId: order.enomCertId as string }, ctx)
  }))
  return deps.orders.update(order.id, { errorCode: null, errorDetail: null })
}

export const resendApproverEmail = (deps: OrderDeps, orderId: string, caller: string, scope: CallScope) => resendEmail(deps, orderId, 'resendApproverEmail', caller, scope)
export const resendFulfillmentEmail = (deps: OrderDeps, orderId: string, caller: string, scope: CallScope) => resendEmail(deps, orderId, 'resendFulfillmentEmail', caller, scope)

/** CertReissueCert with a new CSR (same local checks as configure); the sync job brings the new certificate, the order stays issued meanwhile. */
export async function reissueOrder (deps: OrderDeps, orderId: string, csr: string, caller: string, scope: CallScope): Promise<OrderRow> {
  const order = await getOrder(deps, orderId)
  assertAction(order, 'reissue')
  await parseCsr(csr, { domain: order.domain })
  const module = await moduleOf(deps, order)
  await settle(deps, order, await attemptCall(deps, {
    order,
    module,
    command: 'CertReissueCert',
    money: false,
    scope,
    caller,
    call: (c, creds, ctx) => c.certReissueCert(creds, { certId: order.enomCertId as string, csr: csr.trim() }, ctx)
  }))
  // eNom keeps the certificate issued while the reissue runs; the sync job brings the new one.
  const row = await deps.orders.update(order.id, { csr: csr.trim(), reissueStatus: 'requested', errorCode: null, errorDetail: null })
  await scheduleSync(deps, order.id, deps.settings.syncIntervalMs)
  return row
}

/** CertModifyOrder: back to awaiting configuration (eNom's cancel of a configuration, not of the order). */
export async function cancelConfiguration (deps: OrderDeps, orderId: string, caller: string, scope: CallScope): Promise<OrderRow> {
  const order = await getOrder(deps, orderId)
  assertAction(order, 'cancelConfiguration')
  const module = await moduleOf(deps, order)
  await settle(deps, order, await attemptCall(deps, {
    order,
    module,
    command: 'CertModifyOrder',
    money: false,
    scope,
    caller,
    call: (c, creds, ctx) => c.certModifyOrder(creds, { certId: order.enomCertId as string }, ctx)
  }))
  return deps.orders.update(order.id, { status: 'awaiting_configuration', enomStatusId: 1, enomStatusText: 'Awaiting Configuration', approverEmail: null, errorCode: null, errorDetail: null })
}

/**
 * The billing service was closed: stop following the order. A configuration in flight is
 * cancelled where eNom allows it; a refund needs eNom support, so a task says so.
 */
export async function closeOrder (deps: OrderDeps, orderId: string, reason: string | undefined, caller: string, scope: CallScope): Promise<OrderRow> {
  let order = await getOrder(deps, orderId)
  assertAction(order, 'close')
  const module = await moduleOf(deps, order)
  let cancelNote = ''
  if (order.enomCertId && (order.status === 'processing' || order.status === 'awaiting_approval')) {
    try {
      order = await cancelConfiguration(deps, orderId, caller, scope)
      cancelNote = ' The configuration at eNom was cancelled (CertModifyOrder).'
    } catch (err) {
      cancelNote = ` Cancelling the configuration at eNom failed: ${(err as Error).message}.`
    }
  }
  const before = order
  // The order is closed together with its refund task, or not at all.
  return deps.prisma.$transaction(async (tx) => {
    const closed = await deps.orders.update(before.id, { status: 'closed', closedAt: new Date(), errorCode: null, errorDetail: null }, tx)
    if (before.enomCertId && before.status !== 'refunded') await deps.tasks.open(refundTask(module, before, reason, cancelNote), tx)
    return closed
  })
}

function refundTask (module: { id: string, department: string }, order: OrderRow, reason: string | undefined, cancelNote: string) {
  return {
    department: module.department,
    moduleId: module.id,
    orderId: order.id,
    kind: 'refund_needed',
    title: `Service ${order.serviceId} closed: ask eNom support about a refund`,
    message: `Order ${order.id} (eNom CertID ${order.enomCertId}, ${order.productCode}) was closed${reason ? ` (${reason})` : ''}.${cancelNote} ` +
        'eNom has no refund or revocation command: refunds and revocations are handled by eNom support.',
    action: `Open an eNom support ticket for CertID ${order.enomCertId} if a refund is due, then resolve this task.`,
    dedupeKey: `refund:${order.id}`
  }
}

/** eNom has no renewal: a new order for the same service and module, linked to this one. */
export async function renewOrder (deps: OrderDeps, orderId: string, place: (input: CreateOrder, renewalOf: OrderRow) => Promise<PlaceResult>): Promise<PlaceResult> {
  const order = await getOrder(deps, orderId)
  assertAction(order, 'renew')
  const module = await moduleOf(deps, order)
  if (module.deletedAt || !module.enabled) {
    throw conflict('MODULE_DISABLED', `the order's module ${module.name} is ${module.deletedAt ? 'deleted' : 'disabled'}; a renewal stays with its module, so place a new order instead`, { orderId: order.id, moduleId: module.id })
  }
  const open = await deps.orders.openOrderOf(order.serviceId)
  if (open) throw conflict('ORDER_EXISTS', `service ${order.serviceId} already has open order ${open.id}`, { orderId: open.id })
  return place({
    serviceId: order.serviceId,
    productCode: order.productCode,
    years: order.years,
    domain: order.domain,
    ...(order.sans.length > 0 ? { sans: order.sans } : {}),
    moduleId: order.moduleId
  }, order)
}

/** The certificate as PEM: the certificate, then the chain when eNom gave one. */
export async function certificatePem (deps: OrderDeps, orderId: string): Promise<string> {
  const order = await getOrder(deps, orderId)
  if (!order.certificate) {
    throw conflict('CERTIFICATE_NOT_ISSUED', `order ${order.id} is in status ${order.status}; the certificate exists once it is issued`, { orderId: order.id })
  }
  return [order.certificate.trim(), order.chain?.trim()].filter(Boolean).join('\n') + '\n'
}
