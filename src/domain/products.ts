// A module's certificate catalogue as eNom lists it (GetCerts), with what each product's family
// allows, cached per module like the balance (one eNom call per module at a time).
import { FAMILIES, familyOf, productByType, type DcvMethod, type FamilyId, type WebServerName } from '../enom/families.js'
import { isEnomError } from '../enom/errors.js'
import type { ModuleRow } from '../db/module-repository.js'
import type { CallScope, EnomGateway } from './enom-gateway.js'
import { enomProblem } from './enom-problems.js'

export interface ProductView {
  productCode: string
  prodType: number
  family: FamilyId
  familyLabel: string
  description: string
  yearsAvailable: number[]
  retailPrice: string
  resellerPrice: string
  enabled: boolean
  wildcard: boolean
  allows: {
    sans: boolean
    maxSans: number
    dcvMethods: DcvMethod[]
    reissue: boolean
    resendFulfillment: boolean
    approvalStatuses: boolean
    webServerTypes: WebServerName[]
  }
}

export interface Catalogue {
  products: ProductView[]
  fetchedAt: Date
  source: 'live' | 'cache'
}

export interface ProductDeps {
  gateway: EnomGateway
  ttlSeconds: number
  target: (row: ModuleRow) => Promise<{ moduleId: string, apiUrl: string, uid: string, pw: string }>
  now?: () => number
}

export function createProductService (deps: ProductDeps) {
  const now = deps.now ?? Date.now
  const cache = new Map<string, { products: ProductView[], fetchedAt: Date }>()
  const inflight = new Map<string, Promise<{ products: ProductView[], fetchedAt: Date }>>()

  async function fetchLive (row: ModuleRow, scope: CallScope) {
    let pending = inflight.get(row.id)
    if (!pending) {
      pending = (async () => {
        const target = await deps.target(row)
        const result = await deps.gateway.call(target, 'GetCerts', scope, (c, creds, ctx) => c.getCerts(creds, ctx))
        const products = result.products.map((p): ProductView => {
          const family = familyOf(p.prodType, p.prodDesc)
          const f = FAMILIES[family]
          const known = productByType(p.prodType)
          return {
            productCode: p.prodCode.toLowerCase(),
            prodType: p.prodType,
            family,
            familyLabel: f.label,
            description: p.prodDesc,
            yearsAvailable: [...p.years].sort((a, b) => a - b),
            retailPrice: p.retailPrice,
            resellerPrice: p.resellerPrice,
            enabled: p.enabled,
            wildcard: known?.wildcard ?? /wildcard/i.test(p.prodDesc),
            allows: {
              sans: f.sans,
              maxSans: f.maxSans,
              dcvMethods: [...(known?.dcvMethods ?? f.dcvMethods)],
              reissue: f.reissue,
              resendFulfillment: f.resendFulfillment,
              approvalStatuses: f.approvalStatuses,
              webServerTypes: Object.keys(f.webServerNames) as WebServerName[]
            }
          }
        })
        const entry = { products, fetchedAt: new Date(now()) }
        cache.set(row.id, entry)
        return entry
      })().finally(() => inflight.delete(row.id))
      inflight.set(row.id, pending)
    }
    return pending
  }

  return {
    async list (row: ModuleRow, scope: CallScope, options: { refresh?: boolean } = {}): Promise<Catalogue> {
      const cached = cache.get(row.id)
      if (!options.refresh && cached && now() - cached.fetchedAt.getTime() < deps.ttlSeconds * 1000) {
        return { ...cached, source: 'cache' }
      }
      try {
        return { ...(await fetchLive(row, scope)), source: 'live' }
      } catch (err) {
        throw isEnomError(err) ? enomProblem(err) : err
      }
    },

    /** One product of the module's live catalogue, by its code (case-insensitive). */
    async find (row: ModuleRow, productCode: string, scope: CallScope): Promise<ProductView | undefined> {
      const { products } = await this.list(row, scope)
      return products.find((p) => p.productCode === productCode.toLowerCase())
    },

    forget (moduleId: string) {
      cache.delete(moduleId)
    }
  }
}

export type ProductService = ReturnType<typeof createProductService>
