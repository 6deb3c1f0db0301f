// An order as the control API shows it (JSON), for tests that check what eNom would now hold.
import { plainAmount } from './format.js'
import { certDomain, statusText, type CertRecord } from './certs.js'

export interface CertView {
  certId: number
  orderId: number
  uid: string
  prodType: number
  productCode: string
  family: string
  years: number
  amount: string
  statusId: number
  status: string
  /** True when the control API set the status; it then stays until the client acts. */
  frozen: boolean
  domain: string
  orderedAt: string
  configuredAt: string | null
  submittedAt: string | null
  webServerType: number | null
  approverEmail: string | null
  dvAuthMethod: string | null
  sans: string[]
  csrPem: string | null
  certificatePem: string | null
  serialNumber: string | null
  notBefore: string | null
  notAfter: string | null
  /** '' none, 'Processing' while a reissue is pending, 'Completed' once re-issued. */
  reissueStatus: string
}

export function reissueStatus (cert: CertRecord): string {
  if (!cert.reissue) return ''
  return cert.reissue.done ? 'Completed' : 'Processing'
}

export function viewCert (cert: CertRecord): CertView {
  return {
    certId: cert.certId,
    orderId: cert.orderId,
    uid: cert.uid,
    prodType: cert.product.prodType,
    productCode: cert.product.code,
    family: cert.product.family,
    years: cert.years,
    amount: plainAmount(cert.amountCents),
    statusId: cert.statusId,
    status: statusText(cert.statusId),
    frozen: cert.frozen,
    domain: certDomain(cert),
    orderedAt: cert.orderedAt.toISOString(),
    configuredAt: cert.config?.configuredAt.toISOString() ?? null,
    submittedAt: cert.submission?.submittedAt.toISOString() ?? null,
    webServerType: cert.config?.webServerType ?? null,
    approverEmail: cert.submission?.approverEmail ?? null,
    dvAuthMethod: cert.submission?.dvAuthMethod ?? cert.config?.dvAuthMethod ?? null,
    sans: cert.config?.sans.map((s) => s.domain) ?? [],
    csrPem: cert.config?.csr.pem ?? null,
    certificatePem: cert.issued?.pem ?? null,
    serialNumber: cert.issued?.serialHex ?? null,
    notBefore: cert.issued?.notBefore.toISOString() ?? null,
    notAfter: cert.issued?.notAfter.toISOString() ?? null,
    reissueStatus: reissueStatus(cert)
  }
}
