// Following an order at eNom: CertGetCertDetail mapped onto the order. The status is keyed on
// CertStatusID; an id the service does not know keeps the last status and is flagged. On issue,
// the certificate, its chain, serial and expiry are read from the certificate itself (eNom's own
// dates carry no time zone). Encryption Everywhere's private key is stored encrypted.
import type { OrderRow } from '../../db/order-repository.js'
import type { CertDetail } from '../../enom/client.js'
import { isEnomError } from '../../enom/errors.js'
import { loadX509 } from '../../lib/x509-lazy.js'
import type { CallScope } from '../enom-gateway.js'
import { getOrder, moduleOf, problemFor, targetFor, type OrderDeps } from './context.js'
import { isFinal, statusFromEnom, type OrderStatus } from './status.js'

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

export const privateKeyAad = (orderId: string) => `certificate_order:${orderId}:private_key`

function pemBlocks (...texts: Array<string | undefined>): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const text of texts) {
    for (const block of text?.match(PEM_BLOCK) ?? []) {
      const normal = block.replace(/\r/g, '').trim()
      if (!seen.has(normal)) {
        seen.add(normal)
        out.push(normal)
      }
    }
  }
  return out
}

export interface CertificateFacts {
  certificate: string
  chain: string | null
  serialNumber: string
  issuedAt: Date
  expiresAt: Date
}

/** The certificate and chain from eNom's answer, with serial and validity read from the certificate. */
export async function certificateFacts (detail: Pick<CertDetail, 'certificate' | 'caCerts' | 'intermediates'>): Promise<CertificateFacts | undefined> {
  const leaf = pemBlocks(detail.certificate)[0]
  if (!leaf) return undefined
  const x509 = await loadX509()
  const cert = new x509.X509Certificate(leaf)
  const chain = pemBlocks(detail.caCerts, ...(detail.intermediates ?? [])).filter((b) => b !== leaf)
  return {
    certificate: leaf,
    chain: chain.length > 0 ? chain.join('\n') : null,
    serialNumber: cert.serialNumber,
    issuedAt: cert.notBefore,
    expiresAt: cert.notAfter
  }
}

/** Statuses of the service's own that eNom's status does not override. */
const LOCAL: readonly OrderStatus[] = ['closed', 'failed', 'purchasing', 'outcome_unknown']

export interface SyncResult {
  order: OrderRow
  changed: boolean
  detail: CertDetail
}

export async function readDetail (deps: OrderDeps, order: OrderRow, scope: CallScope): Promise<CertDetail> {
  const module = await moduleOf(deps, order)
  try {
    return await deps.gateway.call(await targetFor(deps, module, order.id), 'CertGetCertDetail', scope,
      (c, creds, ctx) => c.certGetCertDetail(creds, { certId: order.enomCertId as string }, ctx))
  } catch (err) {
    throw isEnomError(err) ? problemFor(err, order.id) : err
  }
}

/** Applies eNom's view of the certificate to the order. `force` lets it replace a local status (reconciliation). */
/**
 * Applies what eNom says of the certificate to the order, in one write. `error`: an error to
 * record in that same write when the order ends in `whenStatus` (so that no reader sees the status
 * without it).
 */
export async function applyDetail (deps: OrderDeps, order: OrderRow, detail: CertDetail,
  options: { force?: boolean, error?: { whenStatus: OrderStatus, code: string, detail: string } } = {}): Promise<{ order: OrderRow, changed: boolean }> {
  const changes: Record<string, unknown> = {}
  const mapped = statusFromEnom(detail.statusId)
  if (detail.statusId !== undefined && detail.statusId !== order.enomStatusId) changes.enomStatusId = detail.statusId
  if (detail.statusText !== undefined && detail.statusText !== order.enomStatusText) changes.enomStatusText = detail.statusText.slice(0, 100)
  const unknownId = detail.statusId !== undefined && mapped === undefined
  if (unknownId !== order.enomStatusUnknown) changes.enomStatusUnknown = unknownId
  const mayChange = options.force || !LOCAL.includes(order.status)
  if (mapped && mayChange && mapped !== order.status) changes.status = mapped
  const reissue = detail.reissueStatus?.trim() || undefined
  if (reissue && reissue !== order.reissueStatus) changes.reissueStatus = reissue.slice(0, 64)
  if (detail.approverEmail && detail.approverEmail.toLowerCase() !== order.approverEmail) changes.approverEmail = detail.approverEmail.toLowerCase()
  const dcv = { fileName: detail.fileAuthName, fileContents: detail.fileAuthContents, dnsEntry: detail.dnsAuthEntry, dnsAddress: detail.dnsAuthAddress }
  if (Object.values(dcv).some(Boolean) && JSON.stringify(dcv) !== JSON.stringify(order.dcv)) changes.dcv = JSON.parse(JSON.stringify(dcv))

  const facts = (mapped === 'issued' || order.status === 'issued') ? await certificateFacts(detail) : undefined
  if (facts && facts.serialNumber !== order.serialNumber) {
    Object.assign(changes, facts)
    if (mayChange) changes.status = 'issued'
    // A new certificate after a reissue request: the reissue is done.
    if (order.serialNumber && order.reissueStatus && !reissue) changes.reissueStatus = 'completed'
  }
  if (detail.privateKey && !order.privateKeyEnc) changes.privateKeyEnc = deps.secrets.encrypt(detail.privateKey, privateKeyAad(order.id))
  if (changes.status && !isFinal(changes.status as OrderStatus)) {
    changes.errorCode = null
    changes.errorDetail = null
  }
  if (options.error && (changes.status ?? order.status) === options.error.whenStatus) {
    changes.errorCode = options.error.code
    changes.errorDetail = options.error.detail
  }
  if (Object.keys(changes).length === 0) return { order, changed: false }
  return { order: await deps.orders.update(order.id, changes), changed: 'status' in changes || 'serialNumber' in changes }
}

export async function syncOrder (deps: OrderDeps, orderId: string, scope: CallScope): Promise<SyncResult> {
  const order = await getOrder(deps, orderId)
  const detail = await readDetail(deps, order, scope)
  const { order: updated, changed } = await applyDetail(deps, order, detail)
  return { order: updated, changed, detail }
}
