// The catalogue and buying a certificate: GetCerts, PE_GetProductPrice, PurchaseServices
// (enom-api.md §3.1, §3.2).
import { Type, type Static } from 'typebox'
import { parseInteger } from '../values.js'
import { child, children, numbered, type XmlElement } from '../xml.js'
import { Money } from './common.js'
import { blockOf, compact, defineCommand, Fields, requireInt, requireText, ShapeError } from './define.js'

const ProductSchema = Type.Object({
  prodCode: Type.String({ minLength: 1 }),
  prodType: Type.Integer(),
  prodDesc: Type.String(),
  qtyDesc: Type.Optional(Type.String()),
  retailPrice: Money,
  resellerPrice: Money,
  enabled: Type.Boolean(),
  years: Type.Array(Type.Integer({ minimum: 1 }))
}, { additionalProperties: false })
export type CatalogueProduct = Static<typeof ProductSchema>

export const CertCatalogueSchema = Type.Object({
  reseller: Type.Boolean(),
  products: Type.Array(ProductSchema),
  /**
   * Entries eNom listed without a ProdCode, ProdType, ProdDesc, price or Enabled flag. They
   * cannot be priced or bought, so they are left out of `products` and only counted here.
   */
  skipped: Type.Integer({ minimum: 0 })
}, { additionalProperties: false })
export type CertCatalogue = Static<typeof CertCatalogueSchema>

const REQUIRED = ['ProdCode', 'ProdType', 'ProdDesc', 'RetailPrice', 'ResellerPrice', 'Enabled']

function readProduct (el: XmlElement): Record<string, unknown> | undefined {
  const f = new Fields(el)
  if (REQUIRED.some((name) => f.str(name) === undefined)) return undefined
  const years = children(el, 'Years').filter((y) => y.text !== '').map((y) => {
    const n = parseInteger(y.text)
    if (n === undefined) throw new ShapeError('<Years> is not an integer')
    return n
  })
  return compact({
    prodCode: f.str('ProdCode'),
    prodType: f.int('ProdType'),
    prodDesc: f.str('ProdDesc'),
    qtyDesc: f.str('QtyDesc'),
    retailPrice: f.money('RetailPrice'),
    resellerPrice: f.money('ResellerPrice'),
    enabled: f.bool('Enabled'),
    years
  })
}

export const getCerts = defineCommand({
  name: 'GetCerts',
  kind: 'read',
  params: (_input: void) => [],
  output: CertCatalogueSchema,
  map: (root) => {
    const block = child(root, 'GetCerts')
    if (block === undefined) throw new ShapeError('<GetCerts> is missing')
    const certs = child(block, 'Certs')
    // Products come numbered (<Cert1>, <Cert2>, as the docs' closing tags show); a plain
    // repeated <Cert> is read the same way in case the other backend writes that.
    const entries = [...numbered(certs, 'Cert'), ...children(certs, 'Cert')]
    const products = entries.map(readProduct)
    const listed = products.filter((p) => p !== undefined)
    return { reseller: new Fields(block).bool('Reseller'), products: listed, skipped: products.length - listed.length }
  }
})

export const ProductPriceSchema = Type.Object({
  price: Money,
  enabled: Type.Boolean()
}, { additionalProperties: false })
export type ProductPrice = Static<typeof ProductPriceSchema>

export interface ProductPriceInput { productType: number, years: number }

export const getProductPrice = defineCommand({
  name: 'PE_GetProductPrice',
  kind: 'read',
  params: (p: ProductPriceInput) => [
    ['ProductType', String(requireInt(p.productType, 'productType', 1, 1_000_000))],
    ['Years', String(requireInt(p.years, 'years', 1, 10))]
  ],
  output: ProductPriceSchema,
  map: (root) => {
    const f = new Fields(blockOf(root, 'productprice'))
    return compact({ price: f.money('price'), enabled: f.bool('productenabled') })
  }
})

export const PurchaseResultSchema = Type.Object({
  certId: Type.Optional(Type.String({ pattern: '^\\d+$' })),
  orderId: Type.Optional(Type.String({ pattern: '^\\d+$' })),
  orderAmount: Type.Optional(Money)
}, { additionalProperties: false })
export type PurchaseResult = Static<typeof PurchaseResultSchema>

export interface PurchaseInput { service: string, numYears: number }

export const purchaseServices = defineCommand({
  name: 'PurchaseServices',
  kind: 'money',
  params: (p: PurchaseInput) => [
    ['Service', requireText(p.service, 'service', /^[A-Za-z0-9-]+$/, 100)],
    ['NumYears', String(requireInt(p.numYears, 'numYears', 1, 10))]
  ],
  output: PurchaseResultSchema,
  map: (root) => {
    // CE and AGILE read top-level lower-case <certid>/<orderid>; the docs' example has <OrderID>.
    // Names are matched case-insensitively, at the top level or in a <PurchaseServices> block.
    const top = new Fields(root)
    const block = new Fields(child(root, 'PurchaseServices'))
    const certId = top.str('CertID') ?? block.str('CertID')
    const orderId = top.str('OrderID') ?? block.str('OrderID')
    // A purchase answer naming neither id leaves the caller nothing to reconcile with.
    if (certId === undefined && orderId === undefined) throw new ShapeError('neither <CertID> nor <OrderID> is present')
    return compact({ certId, orderId, orderAmount: top.money('OrderAmount') ?? block.money('OrderAmount') })
  }
})
