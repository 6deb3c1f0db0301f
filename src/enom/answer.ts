// Turning what came back into a result or an EnomError: the envelope, eNom's error block, the
// command's mapping and its schema check, and the classification of everything that can fail
// on the way. Pure functions, so every fixture can be read without a socket.
import type { Static, TSchema } from 'typebox'
import { ShapeError, type Command } from './commands/define.js'
import { describeFailure, EnomError, errorFromEnvelope, type EnomCause, type EnomDelivery } from './errors.js'
import { TransportFailure } from './transport.js'
import { EnvelopeError, parseEnvelope } from './xml.js'

const TRANSIENT: ReadonlySet<EnomCause> = new Set(['dns', 'connect', 'timeout', 'reset', 'malformed_response', 'transient'])

/** A transient cause, and either a read-only command or a request that never left. */
export function isRetryable (reason: EnomCause, delivery: EnomDelivery, readOnly: boolean, httpStatus?: number): boolean {
  const transient = TRANSIENT.has(reason) || (reason === 'http_status' && httpStatus !== undefined && httpStatus >= 500)
  return transient && (readOnly || delivery === 'not_sent')
}

/**
 * Replaces the caller's credentials wherever eNom might have echoed them. Values of one or two
 * characters are left alone: they would redact fragments of ordinary words, and hide nothing.
 */
export function scrub (text: string, secrets: readonly string[]): string {
  let out = text
  for (const s of secrets) if (s.length > 2) out = out.split(s).join('[redacted]')
  return out
}

export interface ReadOptions {
  maxBytes: number
  /** uid and pw, removed from any eNom text that is kept. */
  secrets?: readonly string[]
}

/**
 * Reads a 200 body as the answer to `cmd`: a checked result, or a thrown EnomError, either
 * eNom's error envelope (`processed`) or a body that is not a readable answer
 * (malformed_response, `unknown`).
 */
export function readAnswer<I, S extends TSchema> (cmd: Command<I, S>, body: string, input: I, options: ReadOptions): Static<S> {
  try {
    return read(cmd, body, input, options)
  } catch (e) {
    // Whatever fails while reading a received body means the body could not be read.
    const known = e instanceof EnomError || e instanceof EnvelopeError || e instanceof ShapeError
    throw toEnomError(cmd.name, known ? e : new ShapeError(`answer could not be read: ${(e as Error)?.message ?? String(e)}`), cmd.kind === 'read')
  }
}

function read<I, S extends TSchema> (cmd: Command<I, S>, body: string, input: I, options: ReadOptions): Static<S> {
  const secrets = options.secrets ?? []
  const envelope = parseEnvelope(body, options.maxBytes)
  if (envelope.errCount > 0 || envelope.errors.length > 0) {
    const numbers = envelope.responses.map((r) => r.number).filter((n) => n !== undefined)
    throw errorFromEnvelope(cmd.name, numbers.map((n) => scrub(n, secrets)),
      envelope.errors.map((m) => scrub(m, secrets)), cmd.kind === 'read')
  }
  const mapped = cmd.map(envelope.root, input)
  if (!cmd.check(mapped)) throw new ShapeError(`result does not match its schema: ${cmd.firstError(mapped)}`)
  return mapped
}

/** Any failure of an attempt as an EnomError. */
export function toEnomError (command: string, e: unknown, readOnly: boolean): EnomError {
  if (e instanceof EnomError) return e
  if (e instanceof TransportFailure) {
    const detail = e.httpStatus !== undefined ? `HTTP ${e.httpStatus}` : e.transportCode
    return new EnomError({
      reason: e.reason,
      command,
      delivery: e.delivery,
      message: describeFailure(command, e.reason, detail),
      retryable: isRetryable(e.reason, e.delivery, readOnly, e.httpStatus),
      transportCode: e.transportCode,
      ...(e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {})
    })
  }
  // A 200 answer that is not a complete envelope, or whose values cannot be read: eNom may well
  // have done the work, so delivery is unknown.
  const detail = e instanceof EnvelopeError ? e.detail : e instanceof ShapeError ? e.message : undefined
  const reason: EnomCause = detail === undefined ? 'unknown' : 'malformed_response'
  return new EnomError({
    reason,
    command,
    delivery: 'unknown',
    message: describeFailure(command, reason, detail ?? 'unexpected failure while reading the answer'),
    retryable: isRetryable(reason, 'unknown', readOnly)
  })
}
