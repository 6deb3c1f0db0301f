// CertParseCSR (F14) and CertGetApproverEmail (F12), plus the CSR summary CertConfigureCert
// repeats as CSRData.
import { parseCsr, type CsrInfo } from '../csr.js'
import { EnomError, enomErrors } from '../errors.js'
import { el, node, type XmlNode } from '../xml.js'
import { API, API_NET, param, requireCert, type Command, type CommandContext } from './context.js'
import { approverNodes, baseDomain, isHostname } from './domains.js'

export function csrSummary (csr: CsrInfo, falseSpelling: 'False' | 'false'): XmlNode[] {
  return [
    el('Success', 'True'),
    el('Organization', csr.organization),
    el('DomainName', csr.commonName),
    el('Email', csr.email),
    el('HasBadExtensions', csr.hasBadExtensions ? 'True' : falseSpelling),
    el('Locality', csr.locality),
    el('OrganizationUnit', csr.organizationUnit),
    el('State', csr.state),
    el('Country', csr.country)
  ]
}

/** The CSR parameter, parsed; eNom's two-line CSR error when it does not parse. */
export async function requireCsr (ctx: CommandContext): Promise<CsrInfo> {
  const csr = await parseCsr(param(ctx, 'CSR'))
  if (!csr) throw new EnomError(enomErrors.badCsr())
  return csr
}

export const certParseCsr: Command = {
  name: 'CertParseCSR',
  style: API_NET,
  run: async (ctx) => {
    // CertID is optional here, but one that names no order of this account is still refused.
    const certId = param(ctx, 'CertID') ? (await requireCert(ctx)).certId : undefined
    const csr = await requireCsr(ctx)
    return { body: [node('CertParseCSR', csrSummary(csr, 'False'))], certId }
  }
}

export const certGetApproverEmail: Command = {
  name: 'CertGetApproverEmail',
  style: API,
  run: async (ctx) => {
    const cert = param(ctx, 'CertID') ? await requireCert(ctx) : undefined
    const domain = param(ctx, 'Domain') || cert?.config?.csr.commonName
    if (!domain) throw new EnomError(enomErrors.missing('Domain'))
    if (!isHostname(baseDomain(domain))) throw new EnomError(enomErrors.invalid(`Invalid domain name: ${domain}`))
    return {
      // Capital M: eNom's own spelling of this block (enom-api.md §3.7).
      body: [node('CertGetApproverEMail', [el('Success', 'True'), ...approverNodes(domain)])],
      certId: cert?.certId
    }
  }
}
