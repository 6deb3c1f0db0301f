// CertConfigureCert (enom-api.md §3.6, F11): CSR, web server type and contacts for an order, in
// the order eNom and its CA check them. The order stays Awaiting Configuration until purchased.
import { ACTIONS_BY_STATUS, CERT_STATUS, FAMILIES } from '../../enom/families.js'
import type { CertRecord, DcvTokens, DvMethod, SanEntry } from '../certs.js'
import type { CsrInfo } from '../csr.js'
import { EnomError, enomErrors } from '../errors.js'
import { cdata, el, node, type XmlNode } from '../xml.js'
import { API, param, requireCert, requireStatus, type Command, type CommandContext } from './context.js'
import { hasNonAscii, readContacts } from './contacts.js'
import { csrSummary, requireCsr } from './csr-commands.js'
import { approverEmails, approverNodes, baseDomain, dcvTokens, dvMethod, isHostname, productAllows } from './domains.js'

const NAME = 'CertConfigureCert'

function webServerType (ctx: CommandContext, cert: CertRecord): number {
  const raw = param(ctx, 'WebServerType')
  if (!raw) throw new EnomError(enomErrors.missing('WebServerType'))
  const code = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN
  if (!(code in FAMILIES[cert.product.family].webServerTypes)) {
    throw new EnomError(enomErrors.invalid(`Invalid WebServerType ${raw} for ${cert.product.description}`))
  }
  return code
}

export function checkCommonName (cert: CertRecord, csr: CsrInfo): void {
  const cn = csr.commonName
  if (!isHostname(cn)) throw new EnomError(enomErrors.invalid(`The CSR common name ${cn} is not a domain name`))
  const wildcard = cn.startsWith('*.')
  if (cert.product.wildcard && !wildcard) {
    throw new EnomError(enomErrors.invalid(`${cert.product.description} needs a wildcard common name (*.${cn})`))
  }
  if (!cert.product.wildcard && wildcard) {
    throw new EnomError(enomErrors.invalid(`${cert.product.description} does not accept a wildcard common name`))
  }
}

/** UCC's DomainListNumber + UCCDomainList1..N + UCCEmailList1..N. */
function readSans (ctx: CommandContext, cert: CertRecord): SanEntry[] {
  const raw = param(ctx, 'DomainListNumber')
  if (!raw || raw === '0') return []
  const family = FAMILIES[cert.product.family]
  if (!family.sans) throw new EnomError(enomErrors.notForProduct('UCCDomainList', cert.product.description))
  const count = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN
  if (!(count >= 1 && count <= family.maxSans)) {
    throw new EnomError(enomErrors.outOfRange(`DomainListNumber must be between 1 and ${family.maxSans}`))
  }
  const sans: SanEntry[] = []
  for (let i = 1; i <= count; i++) {
    const domain = (param(ctx, `UCCDomainList${i}`) ?? '').toLowerCase()
    if (!domain) throw new EnomError(enomErrors.missing(`UCCDomainList${i}`))
    if (!isHostname(domain)) throw new EnomError(enomErrors.invalid(`Invalid domain name in UCCDomainList${i}: ${domain}`))
    const email = (param(ctx, `UCCEmailList${i}`) ?? '').toLowerCase()
    if (email && !approverEmails(domain).includes(email)) {
      throw new EnomError(enomErrors.invalid(`UCCEmailList${i} is not an approver address for ${domain}`))
    }
    sans.push({ domain, email })
  }
  return sans
}

/** Encryption Everywhere validates by File or DNS, chosen here or at purchase. */
function eeMethod (ctx: CommandContext, cert: CertRecord): DvMethod | undefined {
  const raw = param(ctx, 'DVAuthMethod')
  if (!raw) return undefined
  const method = dvMethod(raw)
  if (!method || !productAllows(cert.product, method)) {
    throw new EnomError(enomErrors.invalid(`DVAuthMethod ${raw} is not available for ${cert.product.description}`))
  }
  return method
}

function eeFields (method: DvMethod | undefined, tokens: DcvTokens, csr: CsrInfo): XmlNode[] {
  return [
    el('DVAuthMethod', method ?? ''),
    el('FileAuthName', tokens.fileAuthName),
    el('FileAuthContents', tokens.fileAuthContents),
    el('DNSAuthEntry', tokens.dnsAuthEntry),
    el('DNSAuthType', method === 'DNS' ? 'TXT' : ''),
    el('DNSAuthAddress', tokens.dnsAuthAddress),
    el('DNSAuthHostUpdate', ''),
    cdata('CSR', csr.pem),
    cdata('RSA', '')
  ]
}

export const certConfigureCert: Command = {
  name: NAME,
  style: API,
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    requireStatus(cert, ACTIONS_BY_STATUS.configure, NAME)
    const serverType = webServerType(ctx, cert)
    const csr = await requireCsr(ctx)
    checkCommonName(cert, csr)
    const contacts = readContacts(ctx)
    const sans = readSans(ctx, cert)
    const ee = cert.product.family === 'encryption_everywhere'
    const method = ee ? eeMethod(ctx, cert) : undefined
    // GeoTrust/Symantec's API refuses non-ASCII contact data; eNom passes its failure on.
    if ((cert.product.family === 'geotrust' || ee) && hasNonAscii(contacts)) throw new EnomError(enomErrors.geoTrustApi())

    const dcv = method ? dcvTokens(method, csr.commonName, ctx.now) : undefined
    cert.config = { csr, webServerType: serverType, contacts, sans, dvAuthMethod: method, dcv, configuredAt: ctx.now }
    cert.submission = undefined
    cert.statusId = CERT_STATUS.AWAITING_CONFIGURATION
    cert.frozen = false
    const domain = baseDomain(csr.commonName)
    return {
      body: [node('CertConfigureCert', [
        el('CertID', cert.certId),
        el('ProdType', cert.product.prodType),
        node('CSRData', csrSummary(csr, 'false')),
        el('ApproverEmail', ''),
        el('Success', 'True'),
        ...(ee ? eeFields(method, dcv ?? dcvTokens('Email', domain, ctx.now), csr) : []),
        ...approverNodes(domain)
      ])],
      certId: cert.certId
    }
  }
}
