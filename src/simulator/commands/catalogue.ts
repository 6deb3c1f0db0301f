// Buying: GetCerts (the product list, F17), PE_GetProductPrice (one price, F16) and
// PurchaseServices (the real-time purchase that debits the balance, §3.1).
import { OFFERS, offerByCode, offerByType, type Offer } from '../catalogue.js'
import { EnomError, enomErrors } from '../errors.js'
import { dollarAmount, plainAmount } from '../format.js'
import { el, node } from '../xml.js'
import { API, param, type Command, type CommandContext } from './context.js'

export const getCerts: Command = {
  name: 'GetCerts',
  style: { declaration: 'none', apiType: 'API' },
  run: async () => ({
    body: [node('GetCerts', [
      el('Reseller', 'True'),
      node('Certs', OFFERS.map((o, i) => node(`Cert${i + 1}`, [
        el('ProdCode', o.product.code),
        el('ProdType', o.product.prodType),
        el('ProdDesc', o.product.description),
        el('QtyDesc', 'Year(s)'),
        el('RetailPrice', dollarAmount(o.retailCents)),
        el('ResellerPrice', dollarAmount(o.resellerCents)),
        el('Enabled', o.enabled),
        ...o.years.map((y) => el('Years', y))
      ]))),
      el('CertCount', OFFERS.length)
    ])]
  })
}

function years (ctx: CommandContext, name: string, offer: Offer, label: string): number {
  const raw = param(ctx, name) || '1'
  const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN
  if (!offer.years.includes(n)) throw new EnomError(enomErrors.yearsNotOffered(label, raw))
  return n
}

/** ProductType is the numeric ProdType; the service code is accepted too. */
function offerFor (value: string): Offer | undefined {
  return /^\d+$/.test(value) ? offerByType(Number(value)) : offerByCode(value)
}

export const getProductPrice: Command = {
  name: 'PE_GetProductPrice',
  style: { declaration: 'bare', apiType: 'API' },
  run: async (ctx) => {
    const type = param(ctx, 'ProductType')
    if (!type) throw new EnomError(enomErrors.missingProduct('ProductType'))
    const offer = offerFor(type)
    if (!offer) throw new EnomError(enomErrors.unknownProduct(type))
    const n = years(ctx, 'Years', offer, type)
    return {
      body: [node('productprice', [
        el('price', plainAmount(offer.resellerCents * BigInt(n))),
        el('productenabled', offer.enabled)
      ])]
    }
  }
}

export const purchaseServices: Command = {
  name: 'PurchaseServices',
  // The only PurchaseServices example eNom documents has no XML declaration.
  style: { ...API, declaration: 'none' },
  run: async (ctx) => {
    const service = param(ctx, 'Service')
    if (!service) throw new EnomError(enomErrors.missingProduct('Service'))
    const offer = offerByCode(service)
    if (!offer) throw new EnomError(enomErrors.unknownProduct(service))
    if (!offer.enabled) throw new EnomError(enomErrors.productDisabled(service))
    const n = years(ctx, 'NumYears', offer, service)
    const amount = offer.resellerCents * BigInt(n)
    const { account, state } = ctx
    if (amount > account.availableCents) throw new EnomError(enomErrors.insufficientFunds())
    account.balanceCents -= amount
    account.availableCents -= amount
    const cert = state.createCert(account, offer.product, n, amount)
    return {
      body: [
        el('Success', 'True'),
        el('ProductType', offer.product.description),
        el('ActionType', 'Create'),
        // eNom's SSL purchase answers in lower case (clients read `certid`/`orderid`, §3.1).
        ...(account.omitCertIdInPurchase ? [] : [el('certid', cert.certId)]),
        el('orderid', cert.orderId),
        el('Quantity', n),
        el('BillingPeriod', 'Annual'),
        el('OrderAmount', plainAmount(amount))
      ],
      certId: cert.certId,
      orderId: cert.orderId,
      amountCents: amount
    }
  }
}
