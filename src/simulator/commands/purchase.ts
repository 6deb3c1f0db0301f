// CertPurchaseCert (enom-api.md §3.8, F13): submits a configured order to the CA. GeoTrust goes
// to Processing, Comodo/UCC to Approval Email Sent; Encryption Everywhere is issued on the spot
// and its answer carries the certificate.
import { randomInt } from 'node:crypto'
import { ACTIONS_BY_STATUS, FAMILIES } from '../../enom/families.js'
import { submissionTimes, type CertRecord, type DvMethod, type Submission } from '../certs.js'
import { EnomError, enomErrors } from '../errors.js'
import { DAY_MS } from '../format.js'
import { el, node, type XmlNode } from '../xml.js'
import { API, param, required, requireCert, requireStatus, type Command, type CommandContext } from './context.js'
import { approverEmails, dcvTokens, dvMethod, productAllows } from './domains.js'

const NAME = 'CertPurchaseCert'

// What Comodo needs about the organisation; eNom takes it here rather than from the CSR.
const COMODO_CSR_FIELDS = ['CSRAddress1', 'CSRLocality', 'CSRStateProvince', 'CSRPostalCode', 'CSRCountry'] as const

function method (ctx: CommandContext, cert: CertRecord): DvMethod {
  const raw = param(ctx, 'DVAuthMethod')
  const chosen = raw ? dvMethod(raw) : cert.config?.dvAuthMethod ?? (productAllows(cert.product, 'Email') ? 'Email' : undefined)
  if (!chosen) throw new EnomError(raw ? enomErrors.invalid(`Invalid DVAuthMethod ${raw}`) : enomErrors.missing('DVAuthMethod'))
  if (!productAllows(cert.product, chosen)) {
    throw new EnomError(enomErrors.notForProduct(`DVAuthMethod ${chosen}`, cert.product.description))
  }
  return chosen
}

function approver (ctx: CommandContext, cert: CertRecord, dv: DvMethod): string {
  const email = (param(ctx, 'ApproverEmail') ?? '').toLowerCase()
  if (dv !== 'Email') return email
  if (!email) {
    if (FAMILIES[cert.product.family].approverEmailRequired) throw new EnomError(enomErrors.missing('ApproverEmail'))
    return ''
  }
  if (!approverEmails(cert.config?.csr.commonName ?? '').includes(email)) {
    throw new EnomError(enomErrors.invalid(`ApproverEmail ${email} is not an approver address for this domain`))
  }
  return email
}

function eeCertificate (cert: CertRecord): XmlNode[] {
  const issued = cert.issued
  if (!issued) return []
  return [
    el('ValidityPeriodDays', Math.round((issued.notAfter.getTime() - issued.notBefore.getTime()) / DAY_MS)),
    el('SealInfo', ''),
    el('CertType', 'ICA1'),
    el('CertSerialNum', issued.serialHex),
    el('SSLCertificate', issued.pem)
  ]
}

export const certPurchaseCert: Command = {
  name: NAME,
  // eNom's CertPurchaseCert example has no XML declaration.
  style: { ...API, declaration: 'none' },
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    requireStatus(cert, ACTIONS_BY_STATUS.configure, NAME)
    if (!cert.config) {
      throw new EnomError(enomErrors.wrongStatus(NAME, 'Awaiting Configuration (call CertConfigureCert first)'))
    }
    const dv = method(ctx, cert)
    const approverEmail = approver(ctx, cert, dv)
    if (FAMILIES[cert.product.family].purchaseNeedsCsrFields) {
      for (const field of COMODO_CSR_FIELDS) required(ctx, field)
    }
    const now = ctx.now.getTime()
    const { statusId, approveAt, issueAt } = submissionTimes(cert, now)
    const tokens = cert.config.dcv && cert.config.dvAuthMethod === dv ? cert.config.dcv : dcvTokens(dv, cert.config.csr.commonName, ctx.now)
    const s: Submission = {
      approverEmail,
      dvAuthMethod: dv,
      geoTrustOrderId: randomInt(10_000_000, 99_999_999),
      ...tokens,
      submittedAt: ctx.now,
      approveAt,
      issueAt
    }
    cert.submission = s
    cert.statusId = statusId
    cert.frozen = false
    cert.issued = undefined
    cert.reissue = undefined
    await ctx.state.refresh(cert)
    return {
      body: [node('CertPurchaseCert', [
        el('Success', 'True'),
        el('GeoTrustOrderID', s.geoTrustOrderId),
        el('ApproverEmail', approverEmail),
        el('DVAuthMethod', dv === 'Email' ? '' : dv),
        el('FileAuthName', s.fileAuthName),
        el('FileAuthContents', s.fileAuthContents),
        el('DNSAuthEntry', s.dnsAuthEntry),
        el('DNSAuthAddress', s.dnsAuthAddress),
        el('CertID', cert.certId),
        ...eeCertificate(cert)
      ])],
      certId: cert.certId
    }
  }
}
