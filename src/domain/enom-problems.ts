// How an eNom failure reaches the service's callers: a problem+json with a stable code, the
// classified cause, and eNom's own error number. Gateway-style failures (eNom unreachable or
// answering nonsense) are 502, a timeout 504; refusals of the request itself keep their meaning.
import type { EnomError } from '../enom/errors.js'
import { AppError } from './errors.js'

interface Mapping { status: number, code: string, title: string }

const BY_REASON: Record<EnomError['reason'], Mapping> = {
  dns: { status: 502, code: 'ENOM_UNREACHABLE', title: 'eNom is unreachable' },
  connect: { status: 502, code: 'ENOM_UNREACHABLE', title: 'eNom is unreachable' },
  tls: { status: 502, code: 'ENOM_UNREACHABLE', title: 'eNom is unreachable' },
  reset: { status: 502, code: 'ENOM_UNREACHABLE', title: 'eNom is unreachable' },
  timeout: { status: 504, code: 'ENOM_TIMEOUT', title: 'eNom did not answer in time' },
  http_status: { status: 502, code: 'ENOM_BAD_RESPONSE', title: 'eNom answered with an error page' },
  malformed_response: { status: 502, code: 'ENOM_BAD_RESPONSE', title: 'eNom answered with something unreadable' },
  auth: { status: 502, code: 'ENOM_AUTH_FAILED', title: "eNom refused the module's credentials" },
  ip_not_allowed: { status: 502, code: 'ENOM_IP_NOT_ALLOWED', title: "eNom refused this service's IP address" },
  insufficient_funds: { status: 409, code: 'INSUFFICIENT_FUNDS', title: 'Insufficient eNom balance' },
  validation: { status: 422, code: 'ENOM_REJECTED', title: 'eNom rejected the request' },
  csr: { status: 422, code: 'ENOM_CSR_REJECTED', title: 'eNom rejected the CSR' },
  transient: { status: 502, code: 'ENOM_ERROR', title: 'eNom reported a system error' },
  unknown: { status: 502, code: 'ENOM_ERROR', title: 'eNom reported an error' },
  url_not_allowed: { status: 422, code: 'URL_NOT_ALLOWED', title: 'eNom API URL not allowed' }
}

export function enomProblem (err: EnomError): AppError {
  const m = BY_REASON[err.reason]
  const enomCode = err.responseNumbers[0]
  return new AppError(m.status, m.code, m.title, err.message, {
    cause: err.reason,
    ...(enomCode ? { enomCode } : {}),
    ...(err.ip ? { ip: err.ip } : {})
  }, m.status === 502 || m.status === 504 ? { 'retry-after': '30' } : {})
}
