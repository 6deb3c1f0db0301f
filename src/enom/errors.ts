// Every failure of an eNom call is one EnomError with a stable code (ENOM_ERR_<REASON>). The code
// and `delivery` are the contract: `delivery` says whether eNom may have acted on the request,
// which is what decides if a money-spending call may be sent again (enom-api.md §6, §8).
//
// Messages are written for operators. They are built from fixed text, eNom's own error texts
// and numbers, and never from the request: no URL, uid, pw, CSR or parameter reaches them.

export type EnomCause =
  | 'dns' | 'connect' | 'tls' | 'timeout' | 'reset' | 'http_status' | 'malformed_response'
  | 'auth' | 'ip_not_allowed' | 'insufficient_funds' | 'validation' | 'csr' | 'transient'
  | 'unknown' | 'url_not_allowed'

export type EnomOutcome = 'ok' | EnomCause

/**
 * - `not_sent`: proven that no byte of the request left this process (refused URL or address,
 *   DNS failure, connection refused, TLS handshake failure, connect timeout, bad input).
 * - `unknown`: the request may have reached eNom and its result is not known (timeouts after
 *   the request went out, resets, truncated or unreadable answers, any non-200 status).
 * - `processed`: eNom answered with an error envelope (ErrCount > 0); it did not do the work.
 */
export type EnomDelivery = 'not_sent' | 'unknown' | 'processed'

export interface EnomErrorInit {
  reason: EnomCause
  command: string
  delivery: EnomDelivery
  message: string
  retryable?: boolean
  httpStatus?: number
  responseNumbers?: string[]
  enomMessages?: string[]
  ip?: string
  transportCode?: string
}

export class EnomError extends Error {
  /** 'ENOM_ERR_' + the reason upper-cased, e.g. ENOM_ERR_IP_NOT_ALLOWED. */
  readonly code: string
  /** The classified cause. Named `reason` because `cause` is Error's own (ES2022) property. */
  readonly reason: EnomCause
  /** The eNom command, e.g. 'CertPurchaseCert'. */
  readonly command: string
  readonly delivery: EnomDelivery
  /**
   * True when sending the same call again is safe and may succeed: a transient cause, and either
   * a read-only command or a request that provably never left.
   */
  readonly retryable: boolean
  readonly httpStatus?: number
  /** eNom ResponseNumber(s), e.g. ['304155']. */
  readonly responseNumbers: string[]
  /** eNom's Err texts (credentials scrubbed). */
  readonly enomMessages: string[]
  /** ip_not_allowed: the address eNom saw, to put on the account's API allow-list. */
  readonly ip?: string
  /** The low-level code behind a transport failure (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...). */
  readonly transportCode?: string

  constructor (init: EnomErrorInit) {
    super(init.message)
    this.name = 'EnomError'
    this.code = `ENOM_ERR_${init.reason.toUpperCase()}`
    this.reason = init.reason
    this.command = init.command
    this.delivery = init.delivery
    this.retryable = init.retryable ?? false
    this.responseNumbers = init.responseNumbers ?? []
    this.enomMessages = init.enomMessages ?? []
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus
    if (init.ip !== undefined) this.ip = init.ip
    if (init.transportCode !== undefined) this.transportCode = init.transportCode
  }

  toJSON (): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      reason: this.reason,
      command: this.command,
      delivery: this.delivery,
      retryable: this.retryable,
      message: this.message,
      responseNumbers: this.responseNumbers,
      enomMessages: this.enomMessages,
      ...(this.httpStatus !== undefined ? { httpStatus: this.httpStatus } : {}),
      ...(this.ip !== undefined ? { ip: this.ip } : {}),
      ...(this.transportCode !== undefined ? { transportCode: this.transportCode } : {})
    }
  }
}

export function isEnomError (err: unknown): err is EnomError {
  return err instanceof EnomError
}

const AUTH_NUMBERS = new Set(['304155', '304156'])
const IP_NUMBER = '713254'
const CSR_NUMBER = '620397'
const AUTH_TEXT = /^Bad User name or Password/i
const IP_TEXT = /User not permitted from this IP address/i
const IP_VALUE = /User not permitted from this IP address\s*[-:]\s*([0-9A-Fa-f:.]+)/i
const CSR_TEXT = /unable to parse (the )?CSR|CSR information|invalid CSR|CSR is (invalid|malformed)|could not (parse|decode) (the )?CSR/i

/**
 * The cause of an eNom error envelope, from its ResponseNumbers and Err texts (enom-api.md §6).
 * Precedence when several apply: auth, IP, funds, CSR, validation, transient, unknown.
 */
export function classifyEnvelope (numbers: readonly string[], messages: readonly string[]): { reason: EnomCause, ip?: string } {
  const digits = numbers.filter((n) => /^\d{6}$/.test(n))
  if (digits.some((n) => AUTH_NUMBERS.has(n)) || messages.some((m) => AUTH_TEXT.test(m.trim()))) return { reason: 'auth' }
  if (digits.includes(IP_NUMBER) || messages.some((m) => IP_TEXT.test(m))) {
    for (const m of messages) {
      const ip = IP_VALUE.exec(m)?.[1]?.replace(/\.$/, '')
      if (ip !== undefined && isIpText(ip)) return { reason: 'ip_not_allowed', ip }
    }
    return { reason: 'ip_not_allowed' }
  }
  if (digits.some((n) => n.slice(1, 3) === '24' || n.startsWith('5'))) return { reason: 'insufficient_funds' }
  if (digits.includes(CSR_NUMBER) || messages.some((m) => CSR_TEXT.test(m))) return { reason: 'csr' }
  if (digits.some((n) => n.startsWith('3'))) return { reason: 'validation' }
  if (digits.some((n) => n.startsWith('6'))) return { reason: 'transient' }
  return { reason: 'unknown' }
}

function isIpText (text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) || (/^[0-9a-f:.]+$/i.test(text) && text.includes(':'))
}

const LEADS: Record<EnomCause, string> = {
  auth: 'eNom refused the login ID or password/API token (test and live credentials differ)',
  ip_not_allowed: "eNom refused this service's IP address; add it to the account's API IP allow-list",
  insufficient_funds: 'the eNom reseller balance is insufficient',
  csr: 'eNom could not use the CSR',
  validation: 'eNom rejected a parameter',
  transient: 'eNom reported a system error',
  unknown: 'eNom reported an error',
  dns: 'the eNom host name could not be resolved',
  connect: 'the connection to eNom was refused or unreachable',
  tls: 'the TLS handshake with eNom failed',
  timeout: 'eNom did not answer in time',
  reset: 'the connection to eNom was closed before the answer was complete',
  http_status: 'eNom answered with an unexpected HTTP status',
  malformed_response: "eNom's answer could not be read",
  url_not_allowed: 'the eNom API URL or the address it resolves to is not allowed'
}

/** `${command}: ${lead}` plus detail, the one message format of this module. */
export function describeFailure (command: string, reason: EnomCause, detail?: string): string {
  return `eNom ${command}: ${LEADS[reason]}${detail === undefined || detail === '' ? '' : ` (${detail})`}`
}

/** The error for an answer with ErrCount > 0: eNom processed the request and refused it. */
export function errorFromEnvelope (command: string, numbers: string[], messages: string[], readOnly: boolean): EnomError {
  const { reason, ip } = classifyEnvelope(numbers, messages)
  const shown = [
    ...messages,
    ...(numbers.length > 0 ? [`ResponseNumber ${numbers.join(', ')}`] : [])
  ].join('; ')
  const detail = reason === 'ip_not_allowed' ? `address ${ip ?? 'not given'}; ${shown}` : shown
  return new EnomError({
    reason,
    command,
    delivery: 'processed',
    message: describeFailure(command, reason, detail),
    // A system error (6xxxxx) is worth another try only for read-only commands: for a purchase,
    // eNom's own error does not prove that nothing was charged.
    retryable: reason === 'transient' && readOnly,
    responseNumbers: numbers,
    enomMessages: messages,
    ...(ip !== undefined ? { ip } : {})
  })
}
