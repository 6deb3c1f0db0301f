// What the simulated reseller account can buy: every product of the shared table with a retail
// and a reseller price, the terms offered, and whether it is enabled. Prices are of the order eNom
// charged for these products; one discontinued product is listed but disabled, as eNom lists it.
import { PRODUCTS, type Product } from '../enom/families.js'
import { parseAmount } from './format.js'

export interface Offer {
  product: Product
  retailCents: bigint
  resellerCents: bigint
  years: readonly number[]
  enabled: boolean
}

interface Pricing { reseller: string, retail: string, years: readonly number[], enabled?: boolean }

const PRICING: Record<number, Pricing> = {
  23: { reseller: '9.95', retail: '19.95', years: [1, 2, 3] },
  285: { reseller: '129.00', retail: '199.00', years: [1, 2] },
  26: { reseller: '34.95', retail: '59.95', years: [1, 2, 3] },
  20: { reseller: '49.95', retail: '99.00', years: [1, 2, 3] },
  21: { reseller: '79.95', retail: '149.00', years: [1, 2] },
  27: { reseller: '299.00', retail: '499.00', years: [1, 2] },
  24: { reseller: '149.00', retail: '299.00', years: [1, 2] },
  180: { reseller: '299.00', retail: '399.00', years: [1, 2] },
  181: { reseller: '699.00', retail: '995.00', years: [1, 2] },
  182: { reseller: '799.00', retail: '1199.00', years: [1, 2] },
  183: { reseller: '1099.00', retail: '1499.00', years: [1, 2] },
  286: { reseller: '5.00', retail: '9.95', years: [1] },
  211: { reseller: '12.95', retail: '29.95', years: [1, 2, 3] },
  212: { reseller: '39.95', retail: '79.95', years: [1, 2] },
  213: { reseller: '149.00', retail: '249.00', years: [1, 2] },
  214: { reseller: '79.95', retail: '149.00', years: [1, 2] },
  221: { reseller: '99.00', retail: '199.00', years: [1, 2] },
  // EV SGC was withdrawn by Comodo; eNom kept listing such products with Enabled False.
  222: { reseller: '199.00', retail: '349.00', years: [1, 2], enabled: false },
  270: { reseller: '39.95', retail: '69.95', years: [1, 2, 3] },
  274: { reseller: '89.95', retail: '149.00', years: [1, 2] }
}

const DEFAULT_PRICING: Pricing = { reseller: '49.95', retail: '99.00', years: [1, 2] }

export const OFFERS: readonly Offer[] = PRODUCTS.map((product) => {
  const p = PRICING[product.prodType] ?? DEFAULT_PRICING
  return {
    product,
    retailCents: parseAmount(p.retail),
    resellerCents: parseAmount(p.reseller),
    years: p.years,
    enabled: p.enabled ?? true
  }
})

const BY_TYPE = new Map(OFFERS.map((o) => [o.product.prodType, o]))
const BY_CODE = new Map(OFFERS.map((o) => [o.product.code, o]))

export function offerByType (prodType: number): Offer | undefined {
  return BY_TYPE.get(prodType)
}

/** Service codes are case-insensitive at eNom. */
export function offerByCode (code: string): Offer | undefined {
  return BY_CODE.get(code.trim().toLowerCase())
}
