// The eNom API URL is user input that the service will send credentials to, so it is held to an
// allow-list before anything is connected: an allowed origin (scheme, host and port exactly), the
// path /interface.asp, no userinfo, no query, no fragment. What the host resolves to is checked
// again at connect time by the eNom client (private and loopback addresses need their exact
// origin on the list).
import type { AllowedOrigin } from '../config.js'

export type UrlRefusal = 'not_a_url' | 'scheme' | 'userinfo' | 'origin' | 'path' | 'query'

export type UrlVerdict =
  | { ok: true, url: string, origin: string, environment: 'live' | 'test' }
  | { ok: false, reason: UrlRefusal, detail: string }

export const ENOM_PATH = '/interface.asp'

export function checkApiUrl (input: string, allowed: readonly AllowedOrigin[]): UrlVerdict {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return { ok: false, reason: 'not_a_url', detail: 'the API URL is not an absolute URL' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, reason: 'scheme', detail: 'the API URL must use https' }
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'userinfo', detail: 'the API URL must not carry a user name or password; use the username and password fields' }
  }
  // The origin must also be written the way it is allowed: alternative spellings of an address
  // (decimal or hex IPv4, a default port, mixed case) are refused rather than normalised.
  const match = allowed.find((a) => a.origin === url.origin && input.toLowerCase().startsWith(`${a.origin}/`))
  if (!match) {
    return {
      ok: false,
      reason: 'origin',
      detail: `the API URL's origin ${url.origin} is not allowed; allowed: ${allowed.map((a) => a.origin).join(', ')}`
    }
  }
  if (url.pathname !== ENOM_PATH) {
    return { ok: false, reason: 'path', detail: `the API URL's path must be ${ENOM_PATH}` }
  }
  if (url.search !== '' || url.hash !== '' || input.includes('?') || input.includes('#')) {
    return { ok: false, reason: 'query', detail: 'the API URL must not carry a query or fragment' }
  }
  return { ok: true, url: `${url.origin}${ENOM_PATH}`, origin: url.origin, environment: match.environment }
}
