// Certificate orders as the API takes and returns them.
import { Type, type Static } from 'typebox'
import { DateTimeSchema, PageSchema, PaginationQuery, UuidSchema } from './common.js'
import { ORDER_STATUSES } from '../domain/orders/status.js'

const text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S', ...(description ? { description } : {}) })

export const DomainSchema = Type.String({
  minLength: 3,
  maxLength: 253,
  pattern: '^(\\*\\.)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z][A-Za-z0-9-]{0,62}\\.?$',
  description: 'Fully qualified domain name (a wildcard as *.example.com)',
  examples: ['www.example.com']
})

export const ContactSchema = Type.Object({
  firstName: text(60),
  lastName: text(60),
  organization: text(100),
  jobTitle: text(60),
  address1: text(100),
  address2: Type.Optional(Type.String({ maxLength: 100 })),
  city: text(60),
  state: text(60, 'State or province'),
  postalCode: text(20),
  country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166 alpha-2, e.g. US' }),
  phone: Type.String({ pattern: '^\\+\\d{1,3}\\.\\d{4,14}$', description: "eNom's +CountryCode.Number, e.g. +1.4252744500" }),
  email: Type.String({ format: 'email', maxLength: 128 })
}, { additionalProperties: false })
export type Contact = Static<typeof ContactSchema>

export const ContactsSchema = Type.Object({ admin: ContactSchema, tech: ContactSchema, billing: ContactSchema }, { additionalProperties: false })

const WebServerType = Type.Union([
  Type.Enum(['apache', 'nginx', 'iis', 'tomcat', 'cpanel', 'plesk', 'other']),
  Type.Integer({ minimum: 1, maximum: 9999, description: "A raw eNom WebServerType code of the product's family" })
], { description: 'Symbolic name mapped to the family\'s eNom code, or a raw eNom code' })

const DcvMethod = Type.Enum(['email', 'file', 'dns'], { description: 'Domain control validation method' })

export const ConfigurationFields = {
  csr: Type.String({ minLength: 1, maxLength: 4500, description: 'PEM certificate request (eNom takes at most 4,500 characters)' }),
  webServerType: WebServerType,
  approverEmail: Type.Optional(Type.String({ format: 'email', maxLength: 128, description: 'One of the addresses eNom lists for the domain (GET approver-emails)' })),
  dcvMethod: Type.Optional(DcvMethod),
  contacts: ContactsSchema
}

export const CreateOrderSchema = Type.Object({
  serviceId: text(128, "The billing system's service id; one open order per service"),
  productCode: text(100, 'eNom product code from GET /modules/{id}/products, e.g. certificate-rapidssl-rapidssl'),
  years: Type.Integer({ minimum: 1, maximum: 10 }),
  domain: DomainSchema,
  sans: Type.Optional(Type.Array(DomainSchema, { maxItems: 100, uniqueItems: true, description: 'Additional names (UCC products only)' })),
  moduleId: Type.Optional(UuidSchema),
  dataCenter: Type.Optional(text(100, 'Choose among the modules of this data center')),
  environment: Type.Optional(Type.Enum(['live', 'test'], { description: "Default live; with moduleId, the module's environment (a different one is refused)" })),
  csr: Type.Optional(ConfigurationFields.csr),
  webServerType: Type.Optional(WebServerType),
  approverEmail: ConfigurationFields.approverEmail,
  dcvMethod: ConfigurationFields.dcvMethod,
  contacts: Type.Optional(ContactsSchema)
}, { additionalProperties: false })
export type CreateOrder = Static<typeof CreateOrderSchema>

export const ConfigureOrderSchema = Type.Object({
  csr: ConfigurationFields.csr,
  webServerType: ConfigurationFields.webServerType,
  approverEmail: ConfigurationFields.approverEmail,
  dcvMethod: ConfigurationFields.dcvMethod,
  contacts: ConfigurationFields.contacts,
  sanApproverEmails: Type.Optional(Type.Record(Type.String(), Type.String({ format: 'email' }), { description: 'UCC: approver e-mail per SAN' }))
}, { additionalProperties: false })
export type ConfigureOrder = Static<typeof ConfigureOrderSchema>

export const ApproverEmailBodySchema = Type.Object({ approverEmail: Type.String({ format: 'email', maxLength: 128 }) }, { additionalProperties: false })
export const ReissueBodySchema = Type.Object({ csr: ConfigurationFields.csr }, { additionalProperties: false })
export const EmptyBodySchema = Type.Object({}, { additionalProperties: false })
export const CloseBodySchema = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })

export const OrderSchema = Type.Object({
  id: UuidSchema,
  serviceId: Type.String(),
  moduleId: UuidSchema,
  caller: Type.String({ description: 'Who placed the order' }),
  environment: Type.Enum(['live', 'test']),
  productCode: Type.String(),
  prodType: Type.Integer(),
  family: Type.String(),
  years: Type.Integer(),
  domain: Type.String(),
  sans: Type.Array(Type.String()),
  status: Type.Enum([...ORDER_STATUSES]),
  billmanagerStatus: Type.Enum(['requested', 'enrolled', 'issued', 'failed']),
  enom: Type.Object({
    certId: Type.Union([Type.String(), Type.Null()]),
    orderId: Type.Union([Type.String(), Type.Null()]),
    statusId: Type.Union([Type.Integer(), Type.Null()]),
    statusText: Type.Union([Type.String(), Type.Null()]),
    statusUnknown: Type.Boolean({ description: 'eNom reported a status id this service does not know; the status is the last known' }),
    reissueStatus: Type.Union([Type.String(), Type.Null()], { description: "A reissue's progress (requested, eNom's ReissueStatus, completed); the certificate stays issued meanwhile" })
  }),
  amount: Type.Union([Type.String(), Type.Null()], { description: 'What eNom charged (decimal string)' }),
  webServerType: Type.Union([Type.Integer(), Type.Null()]),
  approverEmail: Type.Union([Type.String(), Type.Null()]),
  dcvMethod: Type.Union([Type.String(), Type.Null()]),
  dcv: Type.Union([Type.Object({
    fileName: Type.Optional(Type.String()),
    fileContents: Type.Optional(Type.String()),
    dnsEntry: Type.Optional(Type.String()),
    dnsAddress: Type.Optional(Type.String())
  }), Type.Null()], { description: 'What the customer must publish for file or DNS validation' }),
  approvers: Type.Array(Type.String(), { description: 'Approver addresses eNom listed' }),
  certificate: Type.Union([Type.Object({
    serialNumber: Type.String(),
    issuedAt: DateTimeSchema,
    expiresAt: DateTimeSchema
  }), Type.Null()], { description: 'Read from the certificate itself once issued; download it from /certificate' }),
  renewalOf: Type.Union([UuidSchema, Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), detail: Type.String() }), Type.Null()], { description: 'The last error of an operation on the order' }),
  closedAt: Type.Union([DateTimeSchema, Type.Null()]),
  createdAt: DateTimeSchema,
  updatedAt: DateTimeSchema
}, { $id: 'Order', title: 'Order' })
export type OrderView = Static<typeof OrderSchema>

export const OrderListQuerySchema = Type.Object({
  serviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  status: Type.Optional(Type.Enum([...ORDER_STATUSES])),
  moduleId: Type.Optional(UuidSchema),
  expiringBefore: Type.Optional(Type.String({ format: 'date-time', description: 'Issued certificates that expire before this time' })),
  ...PaginationQuery
}, { additionalProperties: false })
export type OrderListQuery = Static<typeof OrderListQuerySchema>

export const OrderPageSchema = PageSchema(Type.Ref('Order'))

export const ApproverListSchema = Type.Object({
  orderId: UuidSchema,
  domain: Type.String(),
  approvers: Type.Array(Type.Object({ email: Type.String(), type: Type.String() }))
})

export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Required: an RFC 8941 string ("…", up to 255 characters) unique per operation' }))
})
