// What a domain call needs to know about the request behind it: its logger (whose lines carry
// the request id), the request id itself, for audit rows, and when it arrived.
import type { FastifyRequest } from 'fastify'
import type { CallScope } from '../domain/enom-gateway.js'
import { requestReceivedAt } from '../request-scope.js'

export function scopeOf (request: FastifyRequest): CallScope {
  const receivedAt = requestReceivedAt()
  return { log: request.log, requestId: request.id, ...(receivedAt === undefined ? {} : { receivedAt }) }
}
