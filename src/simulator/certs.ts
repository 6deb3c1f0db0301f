// A certificate order as the simulated eNom keeps it, and how its status moves. There are no
// timers: the status is worked out from timestamps whenever the order is read, so a test that
// waits `issueDelayMs` sees exactly what a poller would, and nothing runs after a test ends.
import { CERT_STATUS, CERT_STATUS_TEXT, FAMILIES, type Product } from '../enom/families.js'
import type { CsrInfo } from './csr.js'
import { DAY_MS } from './format.js'

export const CONTACT_ROLES = ['Admin', 'Tech', 'Billing'] as const
export type ContactRole = typeof CONTACT_ROLES[number]

/** Contact fields in the order CertGetCertDetail lists them (enom-api.md §3.4). */
export const CONTACT_FIELDS = [
  'OrgName', 'JobTitle', 'FName', 'LName', 'Address1', 'Address2', 'City', 'StateProvince',
  'StateProvinceChoice', 'PostalCode', 'Country', 'Phone', 'Fax', 'EmailAddress', 'PhoneExt'
] as const
export type ContactField = typeof CONTACT_FIELDS[number]
export type Contact = Record<ContactField, string>

export type DvMethod = 'Email' | 'File' | 'DNS'

export interface SanEntry { domain: string, email: string }

/** What the client must publish for File or DNS validation; all empty for e-mail validation. */
export interface DcvTokens {
  fileAuthName: string
  fileAuthContents: string
  dnsAuthEntry: string
  dnsAuthAddress: string
}

export interface CertConfig {
  csr: CsrInfo
  webServerType: number
  contacts: Record<ContactRole, Contact>
  /** UCC subject alternative names (UCCDomainListN / UCCEmailListN). */
  sans: SanEntry[]
  /** Encryption Everywhere chooses File or DNS at configuration. */
  dvAuthMethod?: DvMethod
  dcv?: DcvTokens
  configuredAt: Date
}

export interface Submission extends DcvTokens {
  approverEmail: string
  dvAuthMethod: DvMethod
  geoTrustOrderId: number
  submittedAt: Date
  /** Comodo: when the domain owner approves (status 10). */
  approveAt?: number
  /** When the CA issues (status 4). */
  issueAt: number
}

export interface IssuedCert {
  pem: string
  serialHex: string
  notBefore: Date
  notAfter: Date
}

export interface ReissueRequest {
  csr: CsrInfo
  requestedAt: Date
  readyAt: number
  done: boolean
}

export interface CertRecord {
  certId: number
  orderId: number
  orderDetailId: number
  uid: string
  product: Product
  years: number
  amountCents: bigint
  orderedAt: Date
  statusId: number
  /** Set by the control API: the status stays where it was put. */
  frozen: boolean
  issueDelayMs: number
  config?: CertConfig
  submission?: Submission
  issued?: IssuedCert
  reissue?: ReissueRequest
  /** Issuance in progress (signing is asynchronous); readers wait for it. */
  issuing?: Promise<void>
}

export type PendingWork = 'issue' | 'reissue' | undefined

export function statusText (statusId: number): string {
  return CERT_STATUS_TEXT[statusId] ?? 'Unknown'
}

/** Brings the status up to `now`; says whether a certificate must be (re)issued for it. */
export function advance (cert: CertRecord, now: number): PendingWork {
  const s = cert.submission
  const pending = [CERT_STATUS.PROCESSING, CERT_STATUS.APPROVAL_EMAIL_SENT, CERT_STATUS.APPROVED] as number[]
  if (s && !cert.frozen && pending.includes(cert.statusId)) {
    if (now >= s.issueAt) cert.statusId = CERT_STATUS.ISSUED
    else if (s.approveAt !== undefined && now >= s.approveAt) cert.statusId = CERT_STATUS.APPROVED
  }
  if (cert.statusId === CERT_STATUS.ISSUED && !cert.issued && cert.config) return 'issue'
  if (cert.reissue && !cert.reissue.done && now >= cert.reissue.readyAt) return 'reissue'
  return undefined
}

/** The status a family enters on CertPurchaseCert, and when it moves on. */
export function submissionTimes (cert: CertRecord, now: number): Pick<Submission, 'approveAt' | 'issueAt'> & { statusId: number } {
  const family = FAMILIES[cert.product.family]
  if (cert.product.family === 'encryption_everywhere') return { statusId: CERT_STATUS.ISSUED, issueAt: now }
  if (family.approvalStatuses) {
    return {
      statusId: CERT_STATUS.APPROVAL_EMAIL_SENT,
      approveAt: now + Math.floor(cert.issueDelayMs / 2),
      issueAt: now + cert.issueDelayMs
    }
  }
  return { statusId: CERT_STATUS.PROCESSING, issueAt: now + cert.issueDelayMs }
}

/** The domain an order is for: the CSR's common name once configured. */
export function certDomain (cert: CertRecord): string {
  return cert.config?.csr.commonName ?? ''
}

export function expirationOf (cert: CertRecord): Date {
  return cert.issued?.notAfter ?? new Date(cert.orderedAt.getTime() + cert.years * 365 * DAY_MS)
}

/** Every DNS name the certificate covers: CN, the CSR's own SANs, then the UCC list. */
export function dnsNamesOf (cert: CertRecord, csr: CsrInfo): string[] {
  const ucc = cert.config?.sans.map((s) => s.domain) ?? []
  return [...new Set([csr.commonName, ...csr.sans, ...ucc])]
}

export function emptyContact (): Contact {
  return Object.fromEntries(CONTACT_FIELDS.map((f) => [f, ''])) as Contact
}
