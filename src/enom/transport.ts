// HTTP for the eNom client: one keep-alive undici Pool per origin, every timeout explicit
// (undici's defaults are 300 s, notes/reliability-performance.md §A4), a body-size cap, no
// redirects, and an overall deadline per call.
//
// Requests go through Pool.dispatch with a handler of our own rather than Pool.request, because
// the handler learns the one fact exactly-once purchases need: whether the request reached the
// socket. undici calls onRequestStart right before it writes a request; a failure before that
// proves nothing was sent, a failure after it does not.
import type { LookupFunction } from 'node:net'
import { Pool, type Dispatcher } from 'undici'
import type { EnomCause, EnomDelivery } from './errors.js'
import { ADDRESS_REFUSED, guardedLookup } from './guard.js'

export interface TransportOptions {
  connectTimeoutMs: number
  bodyTimeoutMs: number
  maxResponseBytes: number
  lookup?: LookupFunction
}

export interface HttpRequest {
  origin: string
  allowPrivate: boolean
  method: 'GET' | 'POST'
  /** Path and query; holds credentials for GET, so it is never logged or put in an error. */
  path: string
  body?: string
  /** Overall deadline of this attempt, and the headers timeout. */
  timeoutMs: number
  idempotent: boolean
  signal?: AbortSignal
}

/** A failed HTTP exchange, classified. Carries no URL, header or body. */
export class TransportFailure extends Error {
  constructor (
    readonly reason: EnomCause,
    readonly delivery: EnomDelivery,
    readonly transportCode: string,
    readonly httpStatus?: number
  ) {
    super(`${reason} (${transportCode})`)
    this.name = 'TransportFailure'
  }
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME'])
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL'])
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET'])
// OpenSSL certificate-verification results, as Node reports them in err.code.
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'EPROTO'
])

function codeOf (err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'UNKNOWN'
  const e = err as { code?: unknown, errors?: unknown }
  if (typeof e.code === 'string' && e.code !== '') return e.code
  // Happy eyeballs reports "all addresses failed" as an AggregateError of the attempts.
  if (Array.isArray(e.errors) && e.errors.length > 0) return codeOf(e.errors[0])
  return 'UNKNOWN'
}

/**
 * Maps a low-level error to a cause. `sent` is whether undici had started writing the request:
 * when it had not, delivery is `not_sent` whatever the error.
 */
export function classifyTransportError (err: unknown, sent: boolean): TransportFailure {
  const code = codeOf(err)
  const delivery: EnomDelivery = sent ? 'unknown' : 'not_sent'
  let reason: EnomCause = 'unknown'
  if (code === ADDRESS_REFUSED) reason = 'url_not_allowed'
  else if (DNS_CODES.has(code)) reason = 'dns'
  else if (CONNECT_CODES.has(code)) reason = 'connect'
  else if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) reason = 'tls'
  else if (TIMEOUT_CODES.has(code)) reason = 'timeout'
  else if (RESET_CODES.has(code)) reason = 'reset'
  // undici's maxResponseSize: the answer was cut off, so whatever arrived cannot be trusted.
  else if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') reason = 'malformed_response'
  return new TransportFailure(reason, delivery, code)
}

class CollectingHandler implements Dispatcher.DispatchHandler {
  sent = false
  private controller: Dispatcher.DispatchController | undefined
  private pendingAbort: Error | undefined
  private readonly chunks: Buffer[] = []
  private size = 0
  private done = false

  constructor (
    private readonly maxBytes: number,
    private readonly resolve: (body: string) => void,
    private readonly reject: (failure: TransportFailure) => void
  ) {}

  /** Fails the exchange now and stops undici from (further) sending or reading. */
  fail (failure: TransportFailure): void {
    this.finish(() => this.reject(failure))
    const reason = new Error(failure.transportCode)
    if (this.controller !== undefined) this.controller.abort(reason)
    else this.pendingAbort = reason
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.controller = controller
    // Failed before the socket was ready (deadline): abort here and undici will not write.
    if (this.pendingAbort !== undefined || this.done) {
      controller.abort(this.pendingAbort ?? new Error('settled'))
      return
    }
    this.sent = true
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number): void {
    // Anything but 200 is refused without reading the body, redirects included: eNom answers
    // everything, errors too, with 200 (enom-api.md §1).
    if (statusCode !== 200) this.fail(new TransportFailure('http_status', 'unknown', `HTTP_${statusCode}`, statusCode))
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return
    this.size += chunk.length
    if (this.size > this.maxBytes) {
      this.fail(new TransportFailure('malformed_response', 'unknown', 'UND_ERR_RES_EXCEEDED_MAX_SIZE'))
      return
    }
    this.chunks.push(chunk)
  }

  onResponseEnd (): void {
    const body = Buffer.concat(this.chunks).toString('utf8')
    this.finish(() => this.resolve(body))
  }

  onResponseError (_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish(() => this.reject(classifyTransportError(err, this.sent)))
  }

  private finish (settle: () => void): void {
    if (this.done) return
    this.done = true
    settle()
  }
}

export class Transport {
  private readonly pools = new Map<string, Pool>()
  private closed = false

  constructor (private readonly options: TransportOptions) {}

  private pool (origin: string, allowPrivate: boolean): Pool {
    let pool = this.pools.get(origin)
    if (pool === undefined) {
      pool = new Pool(origin, {
        connect: {
          timeout: this.options.connectTimeoutMs,
          lookup: guardedLookup(this.options.lookup, allowPrivate)
        },
        bodyTimeout: this.options.bodyTimeoutMs,
        maxResponseSize: this.options.maxResponseBytes,
        pipelining: 1
      })
      this.pools.set(origin, pool)
    }
    return pool
  }

  /** Sends one request; resolves with the body of a 200 answer, rejects with a TransportFailure. */
  request (req: HttpRequest): Promise<string> {
    if (this.closed) return Promise.reject(new TransportFailure('unknown', 'not_sent', 'CLIENT_CLOSED'))
    return new Promise<string>((resolve, reject) => {
      const deadline = AbortSignal.timeout(req.timeoutMs)
      const signal = req.signal === undefined ? deadline : AbortSignal.any([deadline, req.signal])
      const onAbort = (): void => {
        const callerAbort = !deadline.aborted
        const timedOut = !callerAbort || (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError'
        handler.fail(new TransportFailure(timedOut ? 'timeout' : 'unknown',
          handler.sent ? 'unknown' : 'not_sent', callerAbort ? 'CALLER_ABORTED' : 'DEADLINE'))
      }
      const handler = new CollectingHandler(this.options.maxResponseBytes, (body) => {
        signal.removeEventListener('abort', onAbort)
        resolve(body)
      }, (failure) => {
        signal.removeEventListener('abort', onAbort)
        reject(failure)
      })
      if (signal.aborted) {
        onAbort()
        return
      }
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        this.pool(req.origin, req.allowPrivate).dispatch({
          path: req.path,
          method: req.method,
          headers: {
            accept: 'application/xml, text/xml',
            'user-agent': 'enom-ssl-service',
            ...(req.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {})
          },
          body: req.body ?? null,
          idempotent: req.idempotent,
          blocking: true,
          headersTimeout: req.timeoutMs,
          bodyTimeout: Math.min(this.options.bodyTimeoutMs, req.timeoutMs)
        }, handler)
      } catch (err) {
        handler.fail(classifyTransportError(err, false))
      }
    })
  }

  /** Stops at once: calls still in flight fail (their outcome is then unknown to the caller). */
  async destroy (): Promise<void> {
    this.closed = true
    const pools = [...this.pools.values()]
    this.pools.clear()
    await Promise.allSettled(pools.map((p) => p.destroy()))
  }

  async close (): Promise<void> {
    this.closed = true
    const pools = [...this.pools.values()]
    this.pools.clear()
    await Promise.all(pools.map((p) => p.close()))
  }
}
