// CertGetCertDetail (enom-api.md §3.4, F9): everything about one order, including the issued
// certificate and its chain once the CA has issued it.
import { FAMILIES, type FamilyId } from '../../enom/families.js'
import { reissueStatus } from '../cert-view.js'
import { CONTACT_FIELDS, CONTACT_ROLES, certDomain, expirationOf, statusText, type CertRecord } from '../certs.js'
import { usDateTime } from '../format.js'
import { cdata, el, empty, node, type XmlNode } from '../xml.js'
import { API_NET, param, requireCert, type Command } from './context.js'

/** `Apache + ApacheSSL` → `apacheapachessl`, the code eNom lists beside each name. */
function serverCode (name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '')
}

function webServerTypes (family: FamilyId): XmlNode {
  return node('WebServerTypes', Object.entries(FAMILIES[family].webServerTypes).map(([id, name]) =>
    node('WebServerType', [el('WebServerTypeID', id), el('WebServerTypeName', name), el('WebServerTypeCode', serverCode(name))])))
}

function contacts (cert: CertRecord): XmlNode[] {
  return CONTACT_ROLES.flatMap((role) => CONTACT_FIELDS.map((field) =>
    cdata(`${role}${field}`, cert.config?.contacts[role][field] ?? '')))
}

function validation (cert: CertRecord): XmlNode[] {
  const s = cert.submission
  const dv = s?.dvAuthMethod ?? cert.config?.dvAuthMethod ?? ''
  const tokens = s ?? cert.config?.dcv
  const fileOrDns = dv === 'File' || dv === 'DNS'
  return [
    el('DVAuthMethod', dv),
    empty('AuthStatusID'),
    el('AuthStatusName', fileOrDns && s ? (cert.issued ? 'AUTHENTICATED' : 'INIT') : ''),
    el('ApproverEmail', s?.approverEmail ?? ''),
    el('FileAuthName', tokens?.fileAuthName ?? ''),
    el('FileAuthContents', tokens?.fileAuthContents ?? ''),
    el('DNSAuthEntry', tokens?.dnsAuthEntry ?? ''),
    el('DNSAuthAddress', tokens?.dnsAuthAddress ?? ''),
    el('Message', '')
  ]
}

export const certGetCertDetail: Command = {
  name: 'CertGetCertDetail',
  style: API_NET,
  run: async (ctx) => {
    const cert = await requireCert(ctx)
    const family = FAMILIES[cert.product.family]
    const ee = family.id === 'encryption_everywhere'
    const config = cert.config
    const chain = cert.issued ? await ctx.state.chainPem() : ''
    const intermediate = ee && cert.issued && /^true$/i.test(param(ctx, 'IncludeIntermediate') ?? '')
      ? [node('IntermediateCertificates', [cdata('ICA1', (await ctx.state.ca()).intermediatePem)])]
      : []
    return {
      body: [node('CertGetCertDetail', [
        el('CertID', cert.certId),
        el('DomainName', certDomain(cert)),
        el('ValidityPeriod', cert.years * 12),
        el('OrderDate', usDateTime(cert.orderedAt)),
        el('ConfigDate', config ? usDateTime(config.configuredAt) : ''),
        el('RenewalIndicator', 'False'),
        el('WebServerTypeID', config?.webServerType ?? ''),
        el('WebServerTypeName', config ? family.webServerTypes[config.webServerType] ?? '' : ''),
        el('OrderID', cert.orderId),
        el('OrderDetailID', cert.orderDetailId),
        el('ExpirationDate', usDateTime(expirationOf(cert))),
        el('ServerCount', 1),
        ...validation(cert),
        el('CertStatusID', cert.statusId),
        el('CertStatus', statusText(cert.statusId)),
        el('CertStatusDetail', ''),
        empty('CertOrderStateID'),
        el('CertOrderStateName', ''),
        el('ReissueStatus', reissueStatus(cert)),
        el('ComodoReissueStatus', ''),
        el('ProdType', cert.product.prodType),
        el('ProdDesc', cert.product.description),
        el('UseWebHosting', 0),
        cdata('SSLCertificate', cert.issued?.pem ?? ''),
        ...intermediate,
        cdata('CSR', config?.csr.pem ?? ''),
        cdata('CACerts', chain),
        // eNom returns a private key only when it generated the key itself (EE without a CSR),
        // which the simulator does not model.
        ...(ee ? [cdata('PVT', '')] : []),
        el('ReferenceID', ''),
        el('DomainCountAllowed', family.sans ? (config?.sans.length ?? 0) + 1 : ''),
        config?.sans.length ? el('DomainList', config.sans.map((s) => s.domain).join(',')) : empty('DomainList'),
        ...contacts(cert),
        webServerTypes(family.id)
      ])],
      certId: cert.certId
    }
  }
}
