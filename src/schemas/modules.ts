// Processing modules: the wizard's fields as the API takes and returns them.
import { Type, type Static } from 'typebox'
import { DateTimeSchema, NonNegativeMoneySchema, PageSchema, PaginationQuery, UuidSchema } from './common.js'

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Unique name of the module' })
const DataCenter = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: "Id of the billing system's data center" })
const Department = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Id of the department that receives tasks from this module' })
const Sort = Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Lower sorts are chosen first among modules that can serve an order' })
const MinimalBalance = Type.Union([NonNegativeMoneySchema, Type.Null()], {
  description: 'Alert threshold for the available eNom balance (USD), e.g. "100.00"; null: no alert'
})
const Policy = Type.Enum(['notify', 'block'], {
  description: 'notify: a task for the department when below the minimal balance (BILLmanager behaviour); block: also keep the module out of selection for new orders while below'
})
const ApiUrl = Type.String({ minLength: 1, maxLength: 2048, description: 'eNom API URL, e.g. https://reseller.enom.com/interface.asp', examples: ['https://resellertest.enom.com/interface.asp'] })
const Username = Type.String({ minLength: 1, maxLength: 255, description: 'eNom login id (uid)' })
const Password = Type.String({ minLength: 1, maxLength: 1024, description: 'eNom password or API token; write-only, stored encrypted', writeOnly: true })

export const CreateModuleSchema = Type.Object({
  name: Name,
  dataCenter: DataCenter,
  department: Department,
  sort: Sort,
  minimalBalance: Type.Optional(MinimalBalance),
  minimalBalancePolicy: Type.Optional(Policy),
  apiUrl: ApiUrl,
  username: Username,
  password: Password,
  addNewClient: Type.Optional(Type.Boolean({ description: 'Show the eNom reseller sign-up link (registrationUrl)' })),
  enabled: Type.Optional(Type.Boolean({ description: 'Disabled modules are never chosen for new orders (default true)' })),
  checkConnection: Type.Optional(Type.Boolean({ description: 'Check the settings against eNom before saving (default true); a failed check saves nothing' }))
}, { additionalProperties: false })
export type CreateModule = Static<typeof CreateModuleSchema>

export const UpdateModuleSchema = Type.Object({
  name: Type.Optional(Name),
  dataCenter: Type.Optional(DataCenter),
  department: Type.Optional(Department),
  sort: Type.Optional(Sort),
  minimalBalance: Type.Optional(MinimalBalance),
  minimalBalancePolicy: Type.Optional(Policy),
  apiUrl: Type.Optional(ApiUrl),
  username: Type.Optional(Username),
  password: Type.Optional(Password),
  addNewClient: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
  checkConnection: Type.Optional(Type.Boolean({ description: 'New API URL, username or password are checked against eNom (default true); false is refused when the module has orders' }))
}, { additionalProperties: false, minProperties: 1 })
export type UpdateModule = Static<typeof UpdateModuleSchema>

export const ModuleSchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  productType: Type.Literal('ssl_certificate'),
  handler: Type.Literal('enom'),
  dataCenter: Type.String(),
  department: Type.String(),
  sort: Type.Integer(),
  minimalBalance: Type.Union([Type.String(), Type.Null()]),
  minimalBalancePolicy: Type.Enum(['notify', 'block']),
  environment: Type.Enum(['live', 'test'], { description: 'From the API URL' }),
  apiUrl: Type.String(),
  username: Type.String(),
  passwordSet: Type.Boolean({ description: 'A password is stored (it is never returned)' }),
  addNewClient: Type.Boolean(),
  registrationUrl: Type.Union([Type.String(), Type.Null()], { description: 'eNom reseller sign-up link, when addNewClient is on' }),
  enabled: Type.Boolean(),
  enomAccount: Type.Union([Type.String(), Type.Null()], { description: 'The eNom account the credentials reach (CheckLogin), once checked' }),
  lastCheck: Type.Union([Type.Object({
    at: DateTimeSchema,
    ok: Type.Boolean(),
    cause: Type.Union([Type.String(), Type.Null()]),
    detail: Type.Union([Type.String(), Type.Null()])
  }), Type.Null()], { description: 'The last connection check' }),
  lastBalance: Type.Union([Type.Object({
    balance: Type.String(),
    availableBalance: Type.String(),
    fetchedAt: DateTimeSchema
  }), Type.Null()], { description: 'The last balance read from eNom' }),
  deletedAt: Type.Union([DateTimeSchema, Type.Null()], { description: 'Set when the module was deleted; it is kept, disabled, for history' }),
  createdAt: DateTimeSchema,
  updatedAt: DateTimeSchema,
  version: Type.Integer({ description: 'Increases with every change; the ETag' })
}, { $id: 'Module', title: 'Module' })
export type ModuleView = Static<typeof ModuleSchema>

export const ModuleListQuerySchema = Type.Object({
  dataCenter: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  enabled: Type.Optional(Type.Boolean()),
  environment: Type.Optional(Type.Enum(['live', 'test'])),
  includeDeleted: Type.Optional(Type.Boolean({ default: false, description: 'Also list deleted (disabled, kept) modules' })),
  ...PaginationQuery
}, { additionalProperties: false })
export type ModuleListQuery = Static<typeof ModuleListQuerySchema>

export const ModulePageSchema = PageSchema(Type.Ref('Module'))

export const IfMatchHeadersSchema = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'The ETag of the module as last read (required)' }))
})
