// The wizard's last step: can the service reach this eNom account with these settings? The
// check reads the account's identity (CheckLogin) and balance (GetBalance), both read-only. A
// failure carries the seed's message, its three hints, a classified cause and a detail that says
// what to fix (the IP to allow, or that live and test credentials differ).
import type { AllowedOrigin } from '../config.js'
import { isEnomError, type EnomError } from '../enom/errors.js'
import type { CallScope, EnomGateway } from './enom-gateway.js'
import { AppError } from './errors.js'
import { checkApiUrl } from './url-policy.js'

export const CONNECTION_TITLE = 'Cannot connect to the processing module'
export const CONNECTION_HINTS = [
  'Check the connection parameters: API URL, username and password (or API token).',
  'Check that the API URL is reachable from this server.',
  "Check that API calls are allowed from this server's IP address in the eNom account."
]

export type ConnectionCause = 'dns' | 'connect' | 'tls' | 'timeout' | 'http_status' | 'malformed_response' | 'auth' | 'ip_not_allowed' | 'url_not_allowed'

export interface ConnectionSettings {
  apiUrl: string
  username: string
  password: string
}

export interface ConnectionSuccess {
  balance: string
  availableBalance: string
  currency: 'USD'
  account: string
  partyId: string
  checkedAt: Date
}

export class ConnectionFailed extends AppError {
  constructor (readonly connectionCause: ConnectionCause, detail: string, extras: { ip?: string, enomCode?: string } = {}) {
    super(422, 'CONNECTION_FAILED', CONNECTION_TITLE, detail, { cause: connectionCause, hints: CONNECTION_HINTS, ...extras })
  }
}

function hostOf (apiUrl: string): string {
  try {
    return new URL(apiUrl).host
  } catch {
    return apiUrl
  }
}

/** The client's causes folded into the wizard's: what the operator can act on. */
function failureFor (err: EnomError, settings: ConnectionSettings, environment: 'live' | 'test'): ConnectionFailed {
  const host = hostOf(settings.apiUrl)
  const enomCode = err.responseNumbers[0]
  const extras = enomCode ? { enomCode } : {}
  switch (err.reason) {
    case 'dns':
      return new ConnectionFailed('dns', `the host name ${host} could not be resolved from this server`)
    case 'connect':
    case 'reset':
      return new ConnectionFailed('connect', `no connection could be made to ${host}: it refused the connection, was unreachable, or closed it`)
    case 'tls':
      return new ConnectionFailed('tls', `the TLS connection to ${host} failed (${err.transportCode ?? 'certificate or handshake error'})`)
    case 'timeout':
      return new ConnectionFailed('timeout', `${host} did not answer in time`)
    case 'http_status':
      return new ConnectionFailed('http_status', `${host} answered with HTTP status ${err.httpStatus ?? 'other than 200'} instead of an eNom API response`)
    case 'auth':
      return new ConnectionFailed('auth', `eNom refused the username or password/API token for the ${environment} environment (${host}). ` +
        'Live and test accounts have different passwords and API tokens: check that these credentials belong to this environment.', extras)
    case 'ip_not_allowed':
      return new ConnectionFailed('ip_not_allowed', `eNom does not accept API calls from ${err.ip ? `IP address ${err.ip}` : "this server's IP address"}: ` +
        `add ${err.ip ?? 'it'} to the API IP allow-list of the ${environment} account (Resellers → Manage → API).`, { ...extras, ...(err.ip ? { ip: err.ip } : {}) })
    case 'url_not_allowed':
      return new ConnectionFailed('url_not_allowed', `the API URL is not allowed: ${err.message}`)
    default:
      // eNom answered, but not with anything a connection check can use.
      return new ConnectionFailed('malformed_response', `${host} did not give a usable eNom answer: ${err.enomMessages.join('; ') || err.message}`, extras)
  }
}

export function createConnectionChecker (deps: { gateway: EnomGateway, allowedOrigins: readonly AllowedOrigin[] }) {
  return {
    /**
     * Checks the settings against eNom; throws ConnectionFailed. A disallowed URL fails before
     * any connection is made.
     */
    async check (settings: ConnectionSettings, scope: CallScope, moduleId?: string): Promise<ConnectionSuccess> {
      const verdict = checkApiUrl(settings.apiUrl, deps.allowedOrigins)
      if (!verdict.ok) throw new ConnectionFailed('url_not_allowed', verdict.detail)
      const target = { apiUrl: verdict.url, uid: settings.username, pw: settings.password, ...(moduleId ? { moduleId } : {}) }
      try {
        const login = await deps.gateway.call(target, 'CheckLogin', scope, (c, creds, ctx) => c.checkLogin(creds, ctx))
        const balance = await deps.gateway.call(target, 'GetBalance', scope, (c, creds, ctx) => c.getBalance(creds, ctx))
        return {
          balance: balance.balance,
          availableBalance: balance.availableBalance,
          currency: 'USD',
          account: login.account,
          partyId: login.partyId,
          checkedAt: new Date()
        }
      } catch (err) {
        if (isEnomError(err)) throw failureFor(err, settings, verdict.environment)
        throw err
      }
    }
  }
}

export type ConnectionChecker = ReturnType<typeof createConnectionChecker>
