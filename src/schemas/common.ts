// Schemas shared by every route: ids, money, pagination, and the problem+json error body.
import { Type, type Static, type TSchema } from 'typebox'

export const UuidSchema = Type.String({ format: 'uuid', description: 'A UUID made by the service' })

export const IdParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false })

/** Money in and out of the API: a decimal string with exactly two places, never a JSON number. */
export const MoneySchema = Type.String({ pattern: '^-?\\d{1,12}\\.\\d{2}$', description: 'Decimal amount with two places, e.g. "100.00"', examples: ['100.00'] })
export const NonNegativeMoneySchema = Type.String({ pattern: '^\\d{1,12}\\.\\d{2}$', description: 'Decimal amount ≥ 0 with two places, e.g. "100.00"', examples: ['100.00'] })

export const DateTimeSchema = Type.String({ format: 'date-time' })

export const PaginationQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Items per page (default 50)' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'Items to skip (default 0)' }))
}

/** The page a query asks for (the validator fills the defaults; this keeps the types honest). */
export function pageOf (query: { limit?: number | undefined, offset?: number | undefined }): { limit: number, offset: number } {
  return { limit: query.limit ?? 50, offset: query.offset ?? 0 }
}

/** A list query split into its page and its filters. */
export function splitPage<Q extends { limit?: number | undefined, offset?: number | undefined }> (query: Q): { page: { limit: number, offset: number }, filter: Omit<Q, 'limit' | 'offset'> } {
  const { limit, offset, ...filter } = query
  return { page: pageOf({ limit, offset }), filter }
}

export function PageSchema<T extends TSchema> (item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer({ description: 'Items matching the filters, all pages together' }),
    limit: Type.Integer(),
    offset: Type.Integer()
  })
}

export const FieldErrorSchema = Type.Object({
  field: Type.String({ description: 'Where the problem is, e.g. body.name' }),
  message: Type.String()
})

/**
 * RFC 9457 problem details. `code` is the stable, machine-readable part; `title` and `detail`
 * are for people. Extension members are listed so that the serializer emits them.
 */
export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URI identifying the problem type' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.Optional(Type.String()),
  code: Type.String({ description: 'Stable error code, e.g. VALIDATION_FAILED' }),
  requestId: Type.String({ description: 'The X-Request-Id of the request, for the logs' }),
  errors: Type.Optional(Type.Array(FieldErrorSchema)),
  cause: Type.Optional(Type.String({ description: 'Classified cause (connection check, eNom failures)' })),
  hints: Type.Optional(Type.Array(Type.String())),
  ip: Type.Optional(Type.String({ description: 'The IP address eNom saw (cause ip_not_allowed)' })),
  enomCode: Type.Optional(Type.String({ description: "eNom's ResponseNumber, when eNom answered with an error" })),
  moduleId: Type.Optional(Type.String()),
  orderId: Type.Optional(Type.String()),
  orderIds: Type.Optional(Type.Array(Type.String())),
  taskId: Type.Optional(Type.String()),
  retryAfterSeconds: Type.Optional(Type.Integer())
}, { $id: 'Problem', title: 'Problem' })
export type Problem = Static<typeof ProblemSchema>

export const ProblemRef = Type.Ref('Problem')
