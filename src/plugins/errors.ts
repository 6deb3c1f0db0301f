// Every error leaves the service as application/problem+json with a stable `code` and the
// request id. Errors raised on purpose (AppError) keep their status and wording; framework errors
// are mapped to codes here; anything else is a 500 whose details stay in the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, type FieldError, type ProblemExtras } from '../domain/errors.js'
import { isDatabaseUnavailable } from '../db/errors.js'

export const PROBLEM_TYPE_BASE = 'urn:enom-ssl-service:problem:'

interface ValidationIssue {
  instancePath?: string
  message?: string
  keyword?: string
  params?: Record<string, unknown>
}

/** Turns schema validation issues into `field: message` pairs that name the field in error. */
export function fieldErrors (context: string, issues: ValidationIssue[]): FieldError[] {
  const prefix = context === 'querystring' ? 'query' : context
  const out: FieldError[] = []
  const push = (field: string, message: string) => {
    if (!out.some((e) => e.field === field && e.message === message)) out.push({ field, message })
  }
  const unknownFields = new Set(issues.filter((i) => i.keyword === 'additionalProperties').flatMap((i) => {
    const base = (i.instancePath ?? '')
    const extra = i.params?.additionalProperties ?? i.params?.additionalProperty
    return [extra ?? []].flat().map((name) => `${base}/${String(name)}`)
  }))
  for (const issue of issues) {
    // TypeBox also reports each unknown field as "schema is false" at its own path.
    if (unknownFields.has(issue.instancePath ?? '') && issue.keyword !== 'additionalProperties') continue
    const path = (issue.instancePath ?? '').split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    const field = [prefix, ...path].join('.')
    const params = issue.params ?? {}
    const extra = params.additionalProperties ?? params.additionalProperty
    const required = params.requiredProperties ?? params.missingProperty
    if (issue.keyword === 'additionalProperties' && extra !== undefined) {
      for (const name of [extra].flat()) push(`${field}.${String(name)}`, 'is not a known field')
    } else if (issue.keyword === 'required' && required !== undefined) {
      for (const name of [required].flat()) push(`${field}.${String(name)}`, 'is required')
    } else {
      push(field, issue.message ?? 'is invalid')
    }
  }
  return out
}

export function sendProblem (request: FastifyRequest, reply: FastifyReply, status: number, code: string, title: string,
  detail?: string, extras: ProblemExtras = {}, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value)
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: PROBLEM_TYPE_BASE + code.toLowerCase(),
      title,
      status,
      ...(detail ? { detail } : {}),
      code,
      requestId: request.id,
      ...extras
    })
}

/** Fastify's own error codes that are the caller's fault, with the code we publish for each. */
const FRAMEWORK_ERRORS: Record<string, { status: number, code: string, title: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH', title: 'Bad request' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Payload too large' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_JSON', title: 'Bad request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON', title: 'Bad request' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CHARSET: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL', title: 'Bad request' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'BAD_REQUEST', title: 'Bad request' }
}

/**
 * Fastify's `frameworkErrors`: errors the router raises before a route (and so before the error
 * handler) is chosen — a URL that does not decode, a path parameter over the length limit.
 */
export function frameworkError (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(request, reply, 414, 'URI_TOO_LONG', 'URI too long', 'a path segment is longer than any id the service uses')
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    return sendProblem(request, reply, 400, 'BAD_URL', 'Bad request', 'the URL is not valid (malformed percent-encoding)')
  }
  return sendProblem(request, reply, 400, 'BAD_REQUEST', 'Bad request', 'the request could not be routed')
}

async function errorsPlugin (app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.warn({ code: error.code, detail: error.detail }, 'request failed')
      return sendProblem(request, reply, error.status, error.code, error.title, error.detail, error.extras, error.headers)
    }
    if (error.validation) {
      const errors = fieldErrors(error.validationContext ?? 'body', error.validation as ValidationIssue[])
      return sendProblem(request, reply, 400, 'VALIDATION_FAILED', 'Request validation failed',
        errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })
    }
    const framework = error.code ? FRAMEWORK_ERRORS[error.code] : undefined
    if (framework) return sendProblem(request, reply, framework.status, framework.code, framework.title, error.message)
    if (error instanceof SyntaxError && error.statusCode === 400) {
      return sendProblem(request, reply, 400, 'INVALID_JSON', 'Bad request', 'the body is not valid JSON')
    }
    if (error.statusCode === 429) {
      return sendProblem(request, reply, 429, 'RATE_LIMITED', 'Too many requests', error.message)
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: { message: error.message, code: error.code } }, 'database unavailable')
      return sendProblem(request, reply, 503, 'DATABASE_UNAVAILABLE', 'Service unavailable',
        'the database is not reachable; retry later', {}, { 'retry-after': '2' })
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(request, reply, error.statusCode, error.code ?? 'BAD_REQUEST', 'Bad request', error.message)
    }
    request.log.error({ err: error }, 'unhandled error')
    return sendProblem(request, reply, 500, 'INTERNAL_ERROR', 'Internal server error', 'an unexpected error occurred; the request id leads to the log entry')
  })

  app.setNotFoundHandler((request, reply) => {
    return sendProblem(request, reply, 404, 'ROUTE_NOT_FOUND', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`)
  })
}

export default fp(errorsPlugin, { name: 'errors' })
