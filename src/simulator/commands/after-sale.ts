// After-sale commands (enom-api.md §3.9, F15): cancel a configuration, approver e-mail handling,
// fulfillment e-mail and reissue. Each is allowed only in the statuses of ACTIONS_BY_STATUS and,
// for the last two, only for the families that have them.
import { ACTIONS_BY_STATUS, CERT_STATUS, FAMILIES, type Family } from '../../enom/families.js'
import type { CertRecord } from '../certs.js'
import { EnomError, enomErrors } from '../errors.js'
import { cdata, el, empty, node } from '../xml.js'
import { checkCommonName } from './configure.js'
import { API, API_NET, required, requireCert, requireStatus, type Command, type CommandContext } from './context.js'
import { requireCsr } from './csr-commands.js'
import { approverEmails } from './domains.js'

function requireFamily (cert: CertRecord, allowed: (f: Family) => boolean, command: string): void {
  if (!allowed(FAMILIES[cert.product.family])) throw new EnomError(enomErrors.notForProduct(command, cert.product.description))
}

export const certModifyOrder: Command = {
  name: 'CertModifyOrder',
  style: { declaration: 'bare', apiType: 'API' },
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    requireStatus(cert, ACTIONS_BY_STATUS.cancelConfiguration, 'CertModifyOrder')
    // Cancelling the configuration order makes the certificate configurable again, from scratch.
    cert.statusId = CERT_STATUS.AWAITING_CONFIGURATION
    cert.frozen = false
    cert.config = undefined
    cert.submission = undefined
    return { body: [node('CertModifyOrder', [el('CertID', cert.certId)])], certId: cert.certId }
  }
}

export const certResendApproverEmail: Command = {
  name: 'CertResendApproverEmail',
  style: API_NET,
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    requireStatus(cert, ACTIONS_BY_STATUS.resendApproverEmail, 'CertResendApproverEmail')
    return {
      body: [node('CertResendApproverEmail', [
        cdata('ApproverEmail', cert.submission?.approverEmail ?? ''),
        el('Success', 'true')
      ])],
      certId: cert.certId
    }
  }
}

export const certChangeApproverEmail: Command = {
  name: 'CertChangeApproverEmail',
  style: API_NET,
  run: async (ctx: CommandContext) => {
    const cert = await requireCert(ctx)
    requireStatus(cert, ACTIONS_BY_STATUS.changeApproverEmail, 'CertChangeApproverEmail')
    const email = required(ctx, 'ApproverEmail').toLowerCase()
    if (!approverEmails(cert.config?.csr.commonName ?? '').includes(email)) {
      throw new EnomError(enomErrors.invalid(`ApproverEmail ${email} is not an approver address for this domain`))
    }
    if (cert.submission) cert.submission.approverEmail = email
    return {
      body: [node('CertChangeApproverEmail', [cdata('ApproverEmail', email), el('Success', 'true')])],
      certId: cert.certId
    }
  }
}

export const certResendFulfillmentEmail: Command = {
  name: 'CertResendFulfillmentEmail',
  style: API,
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    requireFamily(cert, (f) => f.resendFulfillment, 'CertResendFulfillmentEmail')
    requireStatus(cert, ACTIONS_BY_STATUS.resendFulfillmentEmail, 'CertResendFulfillmentEmail')
    return { body: [node('CertResendFulfillmentEmail', [el('Success', 'True')])], certId: cert.certId }
  }
}

export const certReissueCert: Command = {
  name: 'CertReissueCert',
  style: API,
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    requireFamily(cert, (f) => f.reissue, 'CertReissueCert')
    requireStatus(cert, ACTIONS_BY_STATUS.reissue, 'CertReissueCert')
    const csr = await requireCsr(ctx)
    checkCommonName(cert, csr)
    const now = ctx.now.getTime()
    cert.reissue = { csr, requestedAt: ctx.now, readyAt: now + cert.issueDelayMs, done: false }
    await ctx.state.refresh(cert)
    return {
      body: [node('CertReissueCert', [el('Success', 'True'), empty('Message')])],
      certId: cert.certId
    }
  }
}
