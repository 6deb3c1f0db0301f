// The account's certificates: CertGetCerts (list) and CertGetCertDetail (status and material)
// (enom-api.md §3.3, §3.4, §5). Status is keyed on CertStatusID; the text is kept as eNom wrote
// it, since eNom's texts disagree with its own ids ("Cert Issued" with id 7 in the docs).
import { Type, type Static } from 'typebox'
import { formatUsDate, normalisePem } from '../values.js'
import { child, children, numbered, type XmlElement } from '../xml.js'
import { DcvSchema, readDcv } from './common.js'
import { CERT_ID, compact, defineCommand, Fields, InputError, push, requireInt, requireText, ShapeError, type Params } from './define.js'

const CertSummarySchema = Type.Object({
  certId: Type.String({ pattern: '^\\d+$' }),
  orderId: Type.Optional(Type.String()),
  /** As eNom wrote it (US M/D/YYYY, no zone). */
  orderDate: Type.Optional(Type.String()),
  domainName: Type.Optional(Type.String()),
  prodType: Type.Optional(Type.Integer()),
  prodDesc: Type.Optional(Type.String()),
  statusId: Type.Optional(Type.Integer()),
  statusText: Type.Optional(Type.String()),
  expirationDate: Type.Optional(Type.String()),
  validityPeriodMonths: Type.Optional(Type.Integer()),
  isExpired: Type.Optional(Type.Boolean()),
  reissueStatus: Type.Optional(Type.String())
}, { additionalProperties: false })
export type CertSummary = Static<typeof CertSummarySchema>

export const CertListSchema = Type.Object({
  certs: Type.Array(CertSummarySchema),
  totalRecords: Type.Integer({ minimum: 0 }),
  startPosition: Type.Integer({ minimum: 1 }),
  pageSize: Type.Integer({ minimum: 1 })
}, { additionalProperties: false })
export type CertList = Static<typeof CertListSchema>

export interface CertListInput {
  startPosition?: number
  /** At most 250 (eNom's limit, enforced here). */
  pageSize?: number
  sortBy?: 'CertID' | 'Domain' | 'CertStatus' | 'Expiration'
  sortDirection?: 'Asc' | 'Desc'
  statusId?: number
  prodType?: number
  domainContains?: string
  orderDateStart?: Date
  orderDateEnd?: Date
}

const SORT_BY = new Set(['CertID', 'Domain', 'CertStatus', 'Expiration'])

function usDate (d: Date | undefined, field: string): string | undefined {
  if (d === undefined) return undefined
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new InputError(`${field} is not a valid date`)
  return formatUsDate(d)
}

function certListParams (p: CertListInput): Params {
  const params: Params = []
  push(params, 'StartPosition', p.startPosition === undefined ? undefined : requireInt(p.startPosition, 'startPosition', 1, 1_000_000_000))
  push(params, 'PagingPageSize', p.pageSize === undefined ? undefined : requireInt(p.pageSize, 'pageSize', 1, 250))
  if (p.sortBy !== undefined && !SORT_BY.has(p.sortBy)) throw new InputError('sortBy is not one of CertID, Domain, CertStatus, Expiration')
  push(params, 'SortBy', p.sortBy)
  if (p.sortDirection !== undefined && p.sortDirection !== 'Asc' && p.sortDirection !== 'Desc') throw new InputError('sortDirection is not Asc or Desc')
  push(params, 'SortByDirection', p.sortDirection)
  push(params, 'CertStatusID', p.statusId === undefined ? undefined : requireInt(p.statusId, 'statusId', 0, 1000))
  push(params, 'ProdType', p.prodType === undefined ? undefined : requireInt(p.prodType, 'prodType', 1, 1_000_000))
  push(params, 'DomainNameContains', p.domainContains === undefined ? undefined : requireText(p.domainContains, 'domainContains', /^[A-Za-z0-9.*-]+$/, 253))
  push(params, 'OrderDateStart', usDate(p.orderDateStart, 'orderDateStart'))
  push(params, 'OrderDateEnd', usDate(p.orderDateEnd, 'orderDateEnd'))
  return params
}

function readSummary (el: XmlElement): Record<string, unknown> {
  const f = new Fields(el)
  return compact({
    certId: f.str('CertID'),
    orderId: f.str('OrderID'),
    orderDate: f.str('OrderDate'),
    domainName: f.str('DomainName'),
    prodType: f.int('ProdType'),
    prodDesc: f.str('ProdDesc'),
    statusId: f.int('CertStatusID'),
    statusText: f.str('CertStatus'),
    expirationDate: f.str('ExpirationDate'),
    validityPeriodMonths: f.int('ValidityPeriod'),
    isExpired: f.bool('IsExpired'),
    reissueStatus: f.str('ReissueStatus')
  })
}

export const certGetCerts = defineCommand({
  name: 'CertGetCerts',
  kind: 'read',
  params: certListParams,
  output: CertListSchema,
  map: (root, input: CertListInput) => {
    const block = child(root, 'CertGetCerts')
    if (block === undefined) throw new ShapeError('<CertGetCerts> is missing')
    const certs = child(block, 'Certs')
    const entries = [...children(certs, 'Cert'), ...numbered(certs, 'Cert')]
    const paging = new Fields(certs)
    const total = paging.int('TotalRecords') ?? new Fields(root).int('TotalCertCount') ?? entries.length
    return {
      certs: entries.map(readSummary),
      totalRecords: total,
      startPosition: paging.int('StartPosition') ?? input.startPosition ?? 1,
      pageSize: paging.int('PagingPageSize') ?? input.pageSize ?? 25
    }
  }
})

export const CertDetailSchema = Type.Object({
  certId: Type.String({ pattern: '^\\d+$' }),
  orderId: Type.Optional(Type.String()),
  domainName: Type.Optional(Type.String()),
  prodType: Type.Optional(Type.Integer()),
  prodDesc: Type.Optional(Type.String()),
  statusId: Type.Optional(Type.Integer()),
  statusText: Type.Optional(Type.String()),
  statusDetail: Type.Optional(Type.String()),
  orderDate: Type.Optional(Type.String()),
  configDate: Type.Optional(Type.String()),
  expirationDate: Type.Optional(Type.String()),
  validityPeriodMonths: Type.Optional(Type.Integer()),
  webServerTypeId: Type.Optional(Type.Integer()),
  ...DcvSchema,
  approverEmail: Type.Optional(Type.String()),
  reissueStatus: Type.Optional(Type.String()),
  /** The issued certificate (PEM), undefined until issued. */
  certificate: Type.Optional(Type.String()),
  /** CACerts: the CA chain eNom gives with the certificate (PEM, possibly several). */
  caCerts: Type.Optional(Type.String()),
  /** IntermediateCertificates/ICA1..N (Encryption Everywhere), in number order. */
  intermediates: Type.Optional(Type.Array(Type.String())),
  csr: Type.Optional(Type.String()),
  /** PVT (Encryption Everywhere only): a private key. Encrypt before storing; never log. */
  privateKey: Type.Optional(Type.String()),
  domainList: Type.Optional(Type.Array(Type.String()))
}, { additionalProperties: false })
export type CertDetail = Static<typeof CertDetailSchema>

export interface CertDetailInput {
  certId: string
  /** IncludeIntermediate=true: only meaningful for issued Encryption Everywhere certificates. */
  includeIntermediate?: boolean
}

/** DomainList's shape is undocumented: child elements in order, else a comma/space separated text. */
function readDomainList (el: XmlElement | undefined): string[] | undefined {
  if (el === undefined) return undefined
  const list = el.children.length > 0 ? el.children.map((c) => c.text) : el.text.split(/[\s,;]+/)
  const domains = list.filter((d) => d !== '')
  return domains.length > 0 ? domains : undefined
}

export const certGetCertDetail = defineCommand({
  name: 'CertGetCertDetail',
  kind: 'read',
  params: (p: CertDetailInput) => {
    const params: Params = [['CertID', requireText(p.certId, 'certId', CERT_ID)]]
    if (p.includeIntermediate === true) params.push(['IncludeIntermediate', 'true'])
    return params
  },
  output: CertDetailSchema,
  map: (root) => {
    const block = child(root, 'CertGetCertDetail')
    if (block === undefined) throw new ShapeError('<CertGetCertDetail> is missing')
    const f = new Fields(block)
    const intermediates = numbered(child(block, 'IntermediateCertificates'), 'ICA')
      .map((c) => normalisePem(c.text))
      .filter((t) => t !== undefined)
    return compact({
      certId: f.str('CertID'),
      orderId: f.str('OrderID'),
      domainName: f.str('DomainName'),
      prodType: f.int('ProdType'),
      prodDesc: f.str('ProdDesc'),
      statusId: f.int('CertStatusID'),
      statusText: f.str('CertStatus'),
      statusDetail: f.str('CertStatusDetail'),
      orderDate: f.str('OrderDate'),
      configDate: f.str('ConfigDate'),
      expirationDate: f.str('ExpirationDate'),
      validityPeriodMonths: f.int('ValidityPeriod'),
      webServerTypeId: f.int('WebServerTypeID'),
      ...readDcv(f),
      approverEmail: f.str('ApproverEmail'),
      reissueStatus: f.str('ReissueStatus'),
      certificate: f.pem('SSLCertificate'),
      caCerts: f.pem('CACerts'),
      intermediates: intermediates.length > 0 ? intermediates : undefined,
      csr: f.pem('CSR'),
      privateKey: f.pem('PVT'),
      domainList: readDomainList(child(block, 'DomainList'))
    })
  }
})
