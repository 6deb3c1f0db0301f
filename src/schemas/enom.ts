// Connection checks, balances and products as the API returns them.
import { Type } from 'typebox'
import { DateTimeSchema, UuidSchema } from './common.js'

export const ConnectionSettingsSchema = Type.Object({
  apiUrl: Type.String({ minLength: 1, maxLength: 2048, examples: ['https://resellertest.enom.com/interface.asp'] }),
  username: Type.String({ minLength: 1, maxLength: 255 }),
  password: Type.String({ minLength: 1, maxLength: 1024, writeOnly: true })
}, { additionalProperties: false })

export const ConnectionResultSchema = Type.Object({
  ok: Type.Literal(true),
  balance: Type.String({ description: 'eNom Balance (decimal string, may be negative)' }),
  availableBalance: Type.String({ description: 'eNom AvailableBalance: what can be spent' }),
  currency: Type.Literal('USD'),
  account: Type.String({ description: 'The eNom account these credentials reach' }),
  checkedAt: DateTimeSchema
})

const BalanceErrorSchema = Type.Object({
  code: Type.String(),
  cause: Type.String(),
  detail: Type.String()
})

export const BalanceSchema = Type.Object({
  moduleId: UuidSchema,
  moduleName: Type.String(),
  environment: Type.Enum(['live', 'test']),
  balance: Type.String({ description: 'Decimal string; may be negative' }),
  availableBalance: Type.String({ description: 'Decimal string; what can be spent' }),
  currency: Type.Literal('USD'),
  minimalBalance: Type.Union([Type.String(), Type.Null()]),
  belowMinimal: Type.Boolean({ description: 'availableBalance < minimalBalance (false when there is no minimum)' }),
  fetchedAt: DateTimeSchema,
  source: Type.Enum(['live', 'cache']),
  stale: Type.Boolean({ description: 'eNom could not be read; this is the last known balance' }),
  ageSeconds: Type.Integer(),
  error: Type.Optional(BalanceErrorSchema)
}, { $id: 'Balance', title: 'Balance' })

export const BalanceListSchema = Type.Object({
  items: Type.Array(Type.Ref('Balance')),
  failures: Type.Array(Type.Object({
    moduleId: UuidSchema,
    moduleName: Type.String(),
    error: BalanceErrorSchema
  }), { description: 'Modules whose balance could not be read and is not known at all' })
})

export const RefreshQuerySchema = Type.Object({
  refresh: Type.Optional(Type.Boolean({ default: false, description: 'Bypass the cache and ask eNom' }))
}, { additionalProperties: false })

export const ProductSchema = Type.Object({
  productCode: Type.String({ description: 'eNom service code for PurchaseServices' }),
  prodType: Type.Integer({ description: 'eNom ProdType id' }),
  family: Type.Enum(['geotrust', 'comodo', 'encryption_everywhere', 'ucc']),
  familyLabel: Type.String(),
  description: Type.String(),
  yearsAvailable: Type.Array(Type.Integer()),
  retailPrice: Type.String(),
  resellerPrice: Type.String({ description: 'What eNom charges the account per year' }),
  enabled: Type.Boolean(),
  wildcard: Type.Boolean(),
  allows: Type.Object({
    sans: Type.Boolean(),
    maxSans: Type.Integer(),
    dcvMethods: Type.Array(Type.Enum(['email', 'file', 'dns'])),
    reissue: Type.Boolean(),
    resendFulfillment: Type.Boolean(),
    approvalStatuses: Type.Boolean({ description: 'Statuses 9 (approval e-mail sent) and 10 (approved) occur' }),
    webServerTypes: Type.Array(Type.String(), { description: 'Symbolic web server names accepted by configure' })
  })
})

export const ProductListSchema = Type.Object({
  moduleId: UuidSchema,
  fetchedAt: DateTimeSchema,
  source: Type.Enum(['live', 'cache']),
  items: Type.Array(ProductSchema)
})
