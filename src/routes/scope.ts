// What a domain call needs to know about the request behind it: its logger (whose lines carry
// the request id) and the request id itself, for audit rows.
import type { FastifyRequest } from 'fastify'
import type { CallScope } from '../domain/enom-gateway.js'

export function scopeOf (request: FastifyRequest): CallScope {
  return { log: request.log, requestId: request.id }
}
