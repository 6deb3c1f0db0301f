// From a bought certificate to an order at the CA: CertParseCSR, CertConfigureCert,
// CertGetApproverEmail, CertPurchaseCert (enom-api.md §3.5-§3.8). Commands carrying a CSR, or
// the CSR organisation fields, go as POST so the CSR never sits in a URL.
import { Type, type Static } from 'typebox'
import { child } from '../xml.js'
import { ApproverSchema, CsrDataSchema, DcvSchema, readApprovers, readCsrData, readDcv } from './common.js'
import { blockOf, CERT_ID, compact, defineCommand, Fields, InputError, push, requireInt, requireText, type Params } from './define.js'
import { contactParams, csrParam, DOMAIN, EMAIL, uccParams, type Contact, type UccDomain } from './params.js'

export interface ParseCsrInput { csr: string, certId?: string }

export const certParseCsr = defineCommand({
  name: 'CertParseCSR',
  kind: 'read',
  post: true,
  params: (p: ParseCsrInput) => {
    const params: Params = []
    push(params, 'CertID', p.certId === undefined ? undefined : requireText(p.certId, 'certId', CERT_ID))
    params.push(['CSR', csrParam(p.csr)])
    return params
  },
  output: CsrDataSchema,
  map: (root) => readCsrData(blockOf(root, 'CertParseCSR'))
})

export const ConfigureResultSchema = Type.Object({
  certId: Type.String({ pattern: '^\\d+$' }),
  prodType: Type.Optional(Type.Integer()),
  csrData: Type.Optional(CsrDataSchema),
  approvers: Type.Array(ApproverSchema),
  ...DcvSchema
}, { additionalProperties: false })
export type ConfigureResult = Static<typeof ConfigureResultSchema>

export interface ConfigureInput {
  certId: string
  webServerType: number
  csr: string
  contacts: { admin: Contact, tech: Contact, billing: Contact }
  uccDomains?: UccDomain[]
  dvAuthMethod?: 'File' | 'DNS'
}

export const certConfigureCert = defineCommand({
  name: 'CertConfigureCert',
  kind: 'write',
  post: true,
  params: (p: ConfigureInput) => {
    const params: Params = [
      ['CertID', requireText(p.certId, 'certId', CERT_ID)],
      ['WebServerType', String(requireInt(p.webServerType, 'webServerType', 1, 9999))],
      ['CSR', csrParam(p.csr)]
    ]
    params.push(...contactParams('Admin', p.contacts.admin), ...contactParams('Tech', p.contacts.tech),
      ...contactParams('Billing', p.contacts.billing))
    if (p.uccDomains !== undefined) params.push(...uccParams(p.uccDomains))
    if (p.dvAuthMethod !== undefined && p.dvAuthMethod !== 'File' && p.dvAuthMethod !== 'DNS') throw new InputError('dvAuthMethod is not File or DNS')
    push(params, 'DVAuthMethod', p.dvAuthMethod)
    return params
  },
  output: ConfigureResultSchema,
  map: (root, input: ConfigureInput) => {
    const block = blockOf(root, 'CertConfigureCert')
    const f = new Fields(block)
    const csrData = child(block, 'CSRData')
    return compact({
      // The answer names the cert it configured; the requested one is the same certificate.
      certId: f.str('CertID') ?? input.certId,
      prodType: f.int('ProdType'),
      csrData: csrData === undefined ? undefined : readCsrData(csrData),
      approvers: readApprovers(block),
      ...readDcv(f)
    })
  }
})

export const ApproverListSchema = Type.Object({ approvers: Type.Array(ApproverSchema) }, { additionalProperties: false })
export type ApproverList = Static<typeof ApproverListSchema>

export interface ApproverInput { certId: string, domain: string }

export const certGetApproverEmail = defineCommand({
  name: 'CertGetApproverEmail',
  kind: 'read',
  params: (p: ApproverInput) => [
    ['CertID', requireText(p.certId, 'certId', CERT_ID)],
    // The whole sld.tld in one parameter, as WWW-eNom found resellertest wants it.
    ['Domain', requireText(p.domain, 'domain', DOMAIN, 253)]
  ],
  output: ApproverListSchema,
  // The block is <CertGetApproverEMail> (capital M); names are matched case-insensitively.
  map: (root) => ({ approvers: readApprovers(blockOf(root, 'CertGetApproverEmail')) })
})

export const PurchaseCertResultSchema = Type.Object({
  certId: Type.String({ pattern: '^\\d+$' }),
  success: Type.Boolean(),
  geoTrustOrderId: Type.Optional(Type.String()),
  approverEmail: Type.Optional(Type.String()),
  ...DcvSchema,
  /** Encryption Everywhere only: the certificate is issued at once. */
  certificate: Type.Optional(Type.String()),
  serialNumber: Type.Optional(Type.String())
}, { additionalProperties: false })
export type PurchaseCertResult = Static<typeof PurchaseCertResultSchema>

export interface CsrFields {
  organization: string
  organizationUnit?: string
  address1: string
  address2?: string
  locality: string
  stateProvince: string
  postalCode: string
  country: string
  dunsNumber?: string
}

export interface PurchaseCertInput {
  certId: string
  approverEmail?: string
  dvAuthMethod?: 'Email' | 'File' | 'DNS'
  csrFields?: CsrFields
  uccDomains?: UccDomain[]
}

function csrFieldParams (c: CsrFields): Params {
  const params: Params = [['CSROrganization', requireText(c.organization, 'csrFields.organization')]]
  push(params, 'CSROrganizationUnit', c.organizationUnit === undefined ? undefined : requireText(c.organizationUnit, 'csrFields.organizationUnit'))
  params.push(['CSRAddress1', requireText(c.address1, 'csrFields.address1')])
  push(params, 'CSRAddress2', c.address2 === undefined || c.address2.trim() === '' ? undefined : requireText(c.address2, 'csrFields.address2'))
  params.push(
    ['CSRLocality', requireText(c.locality, 'csrFields.locality')],
    ['CSRStateProvince', requireText(c.stateProvince, 'csrFields.stateProvince')],
    ['CSRPostalCode', requireText(c.postalCode, 'csrFields.postalCode', undefined, 20)],
    ['CSRCountry', requireText(c.country, 'csrFields.country', /^[A-Za-z]{2}$/).toUpperCase()]
  )
  push(params, 'DUNSNumber', c.dunsNumber === undefined ? undefined : requireText(c.dunsNumber, 'csrFields.dunsNumber', /^[0-9-]{9,11}$/))
  return params
}

export const certPurchaseCert = defineCommand({
  name: 'CertPurchaseCert',
  kind: 'money',
  post: (p: PurchaseCertInput) => p.csrFields !== undefined || p.uccDomains !== undefined,
  params: (p: PurchaseCertInput) => {
    const params: Params = [['CertID', requireText(p.certId, 'certId', CERT_ID)]]
    push(params, 'ApproverEmail', p.approverEmail === undefined ? undefined : requireText(p.approverEmail, 'approverEmail', EMAIL))
    if (p.dvAuthMethod !== undefined && !['Email', 'File', 'DNS'].includes(p.dvAuthMethod)) throw new InputError('dvAuthMethod is not Email, File or DNS')
    push(params, 'DVAuthMethod', p.dvAuthMethod)
    if (p.csrFields !== undefined) params.push(...csrFieldParams(p.csrFields))
    if (p.uccDomains !== undefined) params.push(...uccParams(p.uccDomains))
    return params
  },
  output: PurchaseCertResultSchema,
  map: (root, input: PurchaseCertInput) => {
    const f = new Fields(blockOf(root, 'CertPurchaseCert'))
    return compact({
      certId: f.str('CertID') ?? input.certId,
      success: f.bool('Success'),
      geoTrustOrderId: f.str('GeoTrustOrderID'),
      approverEmail: f.str('ApproverEmail'),
      ...readDcv(f),
      certificate: f.pem('SSLCertificate'),
      serialNumber: f.str('CertSerialNum')
    })
  }
})
