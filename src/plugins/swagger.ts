// OpenAPI 3.1 from the route schemas (@fastify/swagger), Swagger UI at /docs, the document at
// /openapi.json. Every route is checked here at registration: it must carry tags, a summary and
// an operationId, and it gets the problem+json responses every route can send (bad input,
// authentication, rate limiting, server errors) added to its own.
//
// Those responses make some 500 response serializers (one per route, method and status), nearly
// all of them the same `{ $ref: 'Problem' }`; compiling each anew took most of the app's start-up.
// Every route is given a serializer compiler that compiles each distinct schema once.
import type { FastifyInstance, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ProblemRef, ProblemSchema } from '../schemas/common.js'
import { bodyIsOptional } from '../validation.js'

export function problemResponse (description: string) {
  return { description, content: { 'application/problem+json': { schema: ProblemRef } } }
}

const COMMON_PROBLEMS: Record<string, string> = {
  400: 'Invalid request (problem+json with the fields in error)',
  401: 'Missing or invalid bearer token',
  403: "The caller's role may not do this",
  429: 'Too many requests; retry after the Retry-After header',
  500: 'Unexpected error; the request id leads to the log entry',
  503: 'Database unavailable or service overloaded; retry after the Retry-After header'
}

export interface SwaggerOptions {
  version: string
}

type RouteSerializerCompiler = NonNullable<RouteOptions['serializerCompiler']>

/** Fastify's own default serializer compiler (fast-json-stringify), as its schema controller builds it. */
const buildSerializerCompiler = SerializerSelector()
const serializers = new Map<string, ReturnType<RouteSerializerCompiler>>()
const schemaObjectIds = new WeakMap<object, number>()
let nextSchemaObjectId = 0

function schemaObjectId (schema: object): number {
  let id = schemaObjectIds.get(schema)
  if (id === undefined) schemaObjectIds.set(schema, id = nextSchemaObjectId++)
  return id
}

/**
 * What Fastify would compile for a route of `instance` — fast-json-stringify with the shared
 * schemas of the route's context, Fastify's default (app.ts sets no serializerOpts) — but each
 * distinct pair of shared schemas and response schema is compiled once and the serializer reused.
 * A schema that is not plain JSON data is compiled every time, as before.
 */
function cachingSerializerCompiler (instance: FastifyInstance): RouteSerializerCompiler {
  return (route) => {
    const shared = instance.getSchemas() as Record<string, object>
    let plain = true
    const body = JSON.stringify(route.schema, (_key, value: unknown) => {
      if (typeof value === 'function' || typeof value === 'bigint' || (typeof value === 'object' && value !== null &&
        !Array.isArray(value) && ![Object.prototype, null].includes(Object.getPrototypeOf(value)))) plain = false
      return value
    })
    const compile = () => buildSerializerCompiler(shared)(route as Parameters<ReturnType<typeof buildSerializerCompiler>>[0])
    if (!plain || body === undefined) return compile()
    const key = Object.entries(shared).map(([id, schema]) => `${id}:${schemaObjectId(schema)}`).join(',') + '|' + body
    let serializer = serializers.get(key)
    if (!serializer) serializers.set(key, serializer = compile())
    return serializer
  }
}

async function swaggerPlugin (app: FastifyInstance, options: SwaggerOptions) {
  app.addSchema(ProblemSchema)
  // Routes whose body may be left out: @fastify/swagger marks every request body required.
  const optionalBodies = new Set<string>()

  app.addHook('onRoute', function (route: RouteOptions) {
    route.serializerCompiler ??= cachingSerializerCompiler(this)
    if (route.url === '/docs' || route.url.startsWith('/docs/')) return
    const schema = (route.schema ??= {}) as Record<string, unknown> & { response?: Record<string, unknown>, hide?: boolean }
    if (schema.hide) return
    for (const key of ['tags', 'summary', 'operationId']) {
      if (!schema[key]) throw new Error(`route ${String(route.method)} ${route.url} has no ${key}`)
    }
    if (schema.body && bodyIsOptional(schema.body)) {
      for (const method of [route.method].flat()) optionalBodies.add(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`)
    }
    const isPublic = route.config?.permission === 'public'
    if (isPublic) schema.security = []
    const response = (schema.response ??= {})
    for (const [status, description] of Object.entries(COMMON_PROBLEMS)) {
      if (isPublic && (status === '401' || status === '403')) continue
      if (!(status in response)) response[status] = problemResponse(description)
    }
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'eNom SSL processing-module service',
        description: 'The eNom processing module for SSL certificates: processing-module records, connection check, ' +
          'balances, certificate orders and tasks. Authenticate with a bearer token from API_TOKENS (Authorize button).',
        version: options.version
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from API_TOKENS (name:role:token)' }
        }
      },
      security: [{ bearerAuth: [] }],
      tags: [
        { name: 'Health', description: 'Liveness and readiness' },
        { name: 'Modules', description: 'Processing modules (the eNom accounts) and the connection check' },
        { name: 'Balance', description: 'eNom account balances' },
        { name: 'Products', description: "A module's certificate catalogue" },
        { name: 'Orders', description: 'Certificate orders: exactly-once purchases and the certificate lifecycle' },
        { name: 'CSR', description: 'Local CSR checks' },
        { name: 'Tasks', description: 'Work for the departments' },
        { name: 'Purchases', description: 'The purchase kill switch' },
        { name: 'Audit', description: 'The trail of admin actions' },
        { name: 'Webhooks', description: 'Signed events for the billing backend' },
        { name: 'Docs', description: 'The API description' }
      ]
    },
    transformObject: (documents) => {
      if (!('openapiObject' in documents)) return documents.swaggerObject
      const openapiObject = documents.openapiObject
      for (const [path, methods] of Object.entries(openapiObject.paths ?? {})) {
        for (const [method, op] of Object.entries(methods as Record<string, { requestBody?: { required?: boolean } }>)) {
          if (op.requestBody && optionalBodies.has(`${method} ${path}`)) op.requestBody.required = false
        }
      }
      return openapiObject
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { persistAuthorization: true, deepLinking: true, displayRequestDuration: true },
    staticCSP: true
  })

  app.get('/openapi.json', {
    config: { permission: 'public' },
    schema: { hide: true }
  }, async () => app.swagger())
}

export default fp(swaggerPlugin, { name: 'swagger' })
