// CertGetCerts: the account's orders with paging, sorting and filters, in the shape of the real
// capture (F8). Odd CertIDs use the `CertStatusid`/`prodtype` spellings eNom was caught sending,
// so clients must read element names case-insensitively.
import { reissueStatus } from '../cert-view.js'
import { certDomain, expirationOf, statusText, type CertRecord } from '../certs.js'
import { EnomError, enomErrors } from '../errors.js'
import { DAY_MS, parseUsDate, usDate } from '../format.js'
import { cdata, el, node, type XmlNode } from '../xml.js'
import { API_NET, param, type Command, type CommandContext } from './context.js'

const MAX_PAGE = 250

const SORTS: Record<string, (a: CertRecord, b: CertRecord) => number> = {
  certid: (a, b) => a.certId - b.certId,
  domain: (a, b) => certDomain(a).localeCompare(certDomain(b)),
  certstatus: (a, b) => statusText(a.statusId).localeCompare(statusText(b.statusId)),
  expiration: (a, b) => expirationOf(a).getTime() - expirationOf(b).getTime()
}

function int (ctx: CommandContext, name: string, fallback: number, min: number, max: number): number {
  const raw = param(ctx, name)
  // `all` is how eNom itself echoes an absent ProdType/CertStatusID filter.
  if (!raw || raw.toLowerCase() === 'all') return fallback
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN
  if (!(n >= min && n <= max)) throw new EnomError(enomErrors.outOfRange(`${name} must be between ${min} and ${max}`))
  return n
}

function dateParam (ctx: CommandContext, name: string): Date | undefined {
  const raw = param(ctx, name)
  if (!raw) return undefined
  const d = parseUsDate(raw)
  if (!d) throw new EnomError(enomErrors.invalid(`${name} must be a date in MM/DD/YYYY format`))
  return d
}

type Filter = (c: CertRecord) => boolean

function filters (ctx: CommandContext): { checks: Filter[], prodType?: number, statusId?: number } {
  const checks: Filter[] = []
  const prodType = int(ctx, 'ProdType', 0, 0, 100_000) || undefined
  const statusId = int(ctx, 'CertStatusID', 0, 0, 100) || undefined
  if (prodType) checks.push((c) => c.product.prodType === prodType)
  if (statusId) checks.push((c) => c.statusId === statusId)
  const contains = param(ctx, 'DomainNameContains')?.toLowerCase()
  if (contains) checks.push((c) => certDomain(c).includes(contains))
  const ranges: Array<[string, string, (c: CertRecord) => Date]> = [
    ['OrderDateStart', 'OrderDateEnd', (c) => c.orderedAt],
    ['ExpirationDateStart', 'ExpirationDateEnd', expirationOf]
  ]
  for (const [startName, endName, pick] of ranges) {
    const start = dateParam(ctx, startName)
    const end = dateParam(ctx, endName)
    // The end date names a whole day.
    if (start) checks.push((c) => pick(c) >= start)
    if (end) checks.push((c) => pick(c).getTime() < end.getTime() + DAY_MS)
  }
  return { checks, prodType, statusId }
}

function entry (cert: CertRecord, now: Date): XmlNode {
  const odd = cert.certId % 2 === 1
  const expiration = expirationOf(cert)
  return node('Cert', [
    el('IsExpired', cert.issued !== undefined && expiration < now),
    el('CertID', cert.certId),
    el('OrderDate', usDate(cert.orderedAt)),
    el('ConfigDate', cert.config ? usDate(cert.config.configuredAt) : ''),
    cdata('DomainName', certDomain(cert)),
    el('ValidityPeriod', cert.years * 12),
    el('RenewalIndicator', 'False'),
    el(odd ? 'prodtype' : 'ProdType', cert.product.prodType),
    el('ProdDesc', cert.product.description),
    el('ExpirationDate', usDate(expiration)),
    el('ServerCount', 1),
    el('CertStatus', statusText(cert.statusId)),
    el(odd ? 'CertStatusid' : 'CertStatusID', cert.statusId),
    el('OrderID', cert.orderId),
    el('DomainCountAllowed', cert.product.family === 'ucc' ? (cert.config?.sans.length ?? 0) + 1 : ''),
    el('ReissueStatus', reissueStatus(cert))
  ])
}

export const certGetCerts: Command = {
  name: 'CertGetCerts',
  style: API_NET,
  run: async (ctx) => {
    const start = int(ctx, 'StartPosition', 1, 1, 1_000_000_000)
    const size = int(ctx, 'PagingPageSize', 25, 1, MAX_PAGE)
    const sortBy = param(ctx, 'SortBy') ?? ''
    const sort = sortBy ? SORTS[sortBy.toLowerCase()] : SORTS.certid
    if (!sort) throw new EnomError(enomErrors.invalid('SortBy must be CertID, Domain, CertStatus or Expiration'))
    const direction = (param(ctx, 'SortByDirection') || 'desc').toLowerCase()
    if (direction !== 'asc' && direction !== 'desc') throw new EnomError(enomErrors.invalid('SortByDirection must be Asc or Desc'))
    const { checks, prodType, statusId } = filters(ctx)

    const all = await ctx.state.certsOf(ctx.account)
    const sign = direction === 'asc' ? 1 : -1
    const matching = all.filter((c) => checks.every((check) => check(c)))
      .sort((a, b) => sign * (sort(a, b) || a.certId - b.certId))
    const page = matching.slice(start - 1, start - 1 + size)
    return {
      body: [
        node('CertGetCerts', [node('Certs', [
          ...page.map((c) => entry(c, ctx.now)),
          el('ProductType', prodType ?? 'all'),
          el('StatusID', statusId ?? 'all'),
          el('StartPosition', start),
          el('PagingPageSize', size),
          el('Count', page.length),
          el('Sortby', sortBy),
          el('SortByDirection', direction),
          el('TotalRecords', matching.length)
        ])]),
        el('TotalCertCount', all.length)
      ]
    }
  }
}
