// Recognising "the database is not there" among the errors pg, pg-pool and Prisma's adapter
// raise, so that callers get a 503 they can retry rather than a 500.

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
// PostgreSQL SQLSTATEs: 57P01-57P03 shutdown/cannot connect now, 08xxx connection exceptions, 53300 too many connections.
const SQLSTATE = /^(57P0[123]|08\d{3}|53300)$/
const MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /connect ECONNREFUSED/i,
  /Can't reach database server/i,
  /the database system is (shutting down|starting up)/i,
  /terminating connection due to administrator command/i,
  /Client has encountered a connection error/i,
  /Cannot use a pool after calling end/i
]

export function isDatabaseUnavailable (error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 5) return false
  const e = error as { code?: unknown, message?: unknown, cause?: unknown, kind?: unknown, originalCode?: unknown }
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || SQLSTATE.test(e.code))) return true
  if (typeof e.originalCode === 'string' && (CONNECTION_CODES.has(e.originalCode) || SQLSTATE.test(e.originalCode))) return true
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true
  // Prisma wraps driver errors; the original is found under `cause`.
  return isDatabaseUnavailable(e.cause, depth + 1)
}

/** A unique-constraint violation, from Prisma (P2002) or pg (23505). */
export function isUniqueViolation (error: unknown): boolean {
  const e = error as { code?: unknown, cause?: { code?: unknown, originalCode?: unknown } }
  return e?.code === 'P2002' || e?.code === '23505' || e?.cause?.originalCode === '23505'
}

/**
 * An error PostgreSQL itself reported for a statement (a SQLSTATE with a severity): the statement's
 * transaction ended without writing anything. A connection lost on the way is not one: whether
 * the statement committed is then not known.
 */
export function refusedByServer (err: unknown): boolean {
  const e = err as { code?: unknown, severity?: unknown }
  return typeof e?.severity === 'string' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
}
