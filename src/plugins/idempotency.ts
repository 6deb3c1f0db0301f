// Idempotency-Key on every POST under /orders (draft-ietf-httpapi-idempotency-key-header):
// required (400), an RFC 8941 string or token of at most 255 characters, scoped to the caller's
// name. Same key and body: the stored response is replayed. Same key, other body: 422. Same key
// while the first request runs: 409. Only completed outcomes are stored: validation failures and
// 503s (database down, shed load, reconciliation pending) release the key so a retry can succeed,
// and no 5xx is ever replayed — a retry runs again, or answers with the order the key created.
// Authentication and rate limiting answer before this hook, and schema validation before it too.
//
// A key whose request died with its process (held too long) is taken over: if that request had
// created an order, the answer is that order as it is now; else the request runs again, which is
// safe because nothing was sent to eNom before the order row existed.
//
// The outcome is stored while the answer goes out, not before: the caller does not wait for that
// write. A retry with the key that reaches this instance meanwhile waits for it (and on shutdown
// the app waits for all of them); one that reaches another instance within that millisecond gets
// 409 IDEMPOTENCY_KEY_IN_USE, as during the request. Were the write lost with the process, the key
// stays held and is taken over later like any other (above): with its order, or run again.
import { hash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { IdempotencyRepository, IdempotencyRow } from '../db/idempotency-repository.js'
import { AppError, badRequest, conflict, unprocessable } from '../domain/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs an Idempotency-Key (POST under /orders). */
    idempotent?: boolean
  }
  interface FastifyRequest {
    idempotency?: IdempotencyRow
  }
  interface FastifyInstance {
    /** Resolves once every outcome this instance was storing is stored (tests, shutdown). */
    idempotencyStored: () => Promise<void>
  }
}

export interface IdempotencyOptions {
  repo: IdempotencyRepository
  /** After this long a held key counts as abandoned (longer than any request can take). */
  staleMs: number
  /** The current state of an order, for answering a retry after the original request died. */
  orderSnapshot: (orderId: string) => Promise<unknown>
}

const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/
const SF_TOKEN = /^[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*$/

/** The key's value from the header: a structured-field string (quoted) or, leniently, a token. */
export function parseIdempotencyKey (header: string | string[] | undefined): string {
  if (header === undefined) throw badRequest('IDEMPOTENCY_KEY_REQUIRED', 'send an Idempotency-Key header, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"')
  if (Array.isArray(header)) throw badRequest('IDEMPOTENCY_KEY_INVALID', 'send one Idempotency-Key header')
  const text = header.trim()
  const quoted = SF_STRING.exec(text)
  const value = quoted ? (quoted[1] as string).replace(/\\(["\\])/g, '$1') : SF_TOKEN.test(text) ? text : undefined
  if (value === undefined) throw badRequest('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be a structured-field string ("...") of printable ASCII')
  if (value.length === 0 || value.length > 255) throw badRequest('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must hold 1 to 255 characters')
  return value
}

function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

export function fingerprintOf (method: string, path: string, body: unknown): string {
  return hash('sha256', `${method} ${path}\n${canonical(body)}`, 'hex')
}

/** Outcomes that are not stored: the key is released and a retry runs the request again. */
function releases (status: number): boolean {
  return status === 400 || status === 401 || status === 403 || status === 413 || status === 415 || status === 429 || status === 503
}

/** Whether the text is a JSON document (an answer that is not is stored without its body). */
function isJson (text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function replay (reply: FastifyReply, row: IdempotencyRow) {
  return reply
    .code(row.responseStatus as number)
    .header('idempotent-replayed', 'true')
    .type(row.responseStatus as number >= 400 ? 'application/problem+json' : 'application/json')
    .send(row.responseBody)
}

async function idempotencyPlugin (app: FastifyInstance, options: IdempotencyOptions) {
  // Only routes that need a key carry the hooks: the others pay nothing for them.
  app.addHook('onRoute', (route) => {
    if (!(route.config as { idempotent?: boolean } | undefined)?.idempotent) return
    route.preHandler = [...(route.preHandler ? [route.preHandler].flat() : []), claimKey]
    route.onSend = [...(route.onSend ? [route.onSend].flat() : []), recordOutcome]
  })

  /** Outcomes this instance is storing (or giving back) right now, by caller and key. */
  const storing = new Map<string, Promise<void>>()
  const slot = (caller: string, key: string) => `${caller}\n${key}`
  /**
   * Requests holding a key, until their outcome is stored. Closing waits for them: Fastify waits
   * only for requests whose connection is still open, and one whose caller went away may still be
   * buying (its writes need the pool, which closes after the app).
   */
  const holding = new Map<FastifyRequest, { done: Promise<void>, release: () => void }>()
  const hold = (request: FastifyRequest) => {
    let release!: () => void
    const done = new Promise<void>((resolve) => { release = resolve })
    holding.set(request, { done, release })
  }
  const letGo = (request: FastifyRequest) => {
    holding.get(request)?.release()
    holding.delete(request)
  }
  app.addHook('onClose', async () => {
    while (storing.size > 0 || holding.size > 0) await Promise.all([...storing.values(), ...[...holding.values()].map((h) => h.done)])
  })
  app.decorate('idempotencyStored', async () => {
    while (storing.size > 0) await Promise.all(storing.values())
  })

  async function claimKey (request: FastifyRequest, reply: FastifyReply) {
    const key = parseIdempotencyKey(request.headers['idempotency-key'])
    const caller = request.caller?.name ?? 'anonymous'
    const path = request.url.split('?')[0] as string
    const fingerprint = fingerprintOf(request.method, path, request.body)
    let claimed = await options.repo.claim(caller, key, request.method, path, fingerprint)
    // The request before this one with the key has answered and its outcome is being stored here:
    // the retry sees that outcome (replayed, or the key given back and claimed again).
    const pending = claimed ? undefined : storing.get(slot(caller, key))
    if (pending) {
      await pending
      claimed = await options.repo.claim(caller, key, request.method, path, fingerprint)
    }
    if (claimed) {
      request.idempotency = claimed
      hold(request)
      return
    }
    const existing = await options.repo.find(caller, key)
    if (!existing) throw new AppError(503, 'IDEMPOTENCY_RETRY', 'Service unavailable', 'the Idempotency-Key was just released; retry', {}, { 'retry-after': '1' })
    if (existing.fingerprint !== fingerprint) {
      throw unprocessable('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key reused', 'this Idempotency-Key was used with another request (method, path or body); use a new key for a new request')
    }
    if (existing.completedAt) return replay(reply, existing)
    const heldSince = existing.lockedAt ?? existing.createdAt
    if (Date.now() - heldSince.getTime() < options.staleMs || !await options.repo.takeOver(existing.id, heldSince)) {
      throw conflict('IDEMPOTENCY_KEY_IN_USE', 'a request with this Idempotency-Key is still being processed; retry after it finished', { retryAfterSeconds: 5 })
    }
    request.idempotency = existing
    hold(request)
    if (existing.orderId) {
      const body = await options.orderSnapshot(existing.orderId)
      await options.repo.complete(existing.id, 200, body === undefined ? null : JSON.stringify(body))
      return reply.code(200).header('idempotent-replayed', 'true').send(body)
    }
  }

  async function recordOutcome (request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const held = request.idempotency
    if (!held || reply.getHeader('idempotent-replayed')) {
      letGo(request)
      return payload
    }
    request.idempotency = undefined
    const status = reply.statusCode
    const store = async () => {
      try {
        if (releases(status) || status >= 500) {
          await options.repo.giveBack(held.id)
        } else {
          // The body as sent is stored as its JSON text (not parsed and written out again).
          const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null
          await options.repo.complete(held.id, status, text !== null && isJson(text) ? text : null)
        }
      } catch (err) {
        request.log.error({ err }, 'could not record the idempotent outcome')
      }
    }
    const at = slot(held.caller, held.key)
    const done = (storing.get(at) ?? Promise.resolve()).then(store)
    storing.set(at, done)
    done.finally(() => {
      if (storing.get(at) === done) storing.delete(at)
      letGo(request)
    }).catch(() => undefined)
    return payload
  }
}

export default fp(idempotencyPlugin, { name: 'idempotency' })
