// SSRF guard. The eNom API URL comes from the user and the client sends credentials to it, so
// (notes/reliability-performance.md §A3): the URL must name an allowed origin, the path
// /interface.asp and nothing else; and every address its host resolves to must be public
// unicast unless that origin is explicitly allowed to be private (a local simulator). The address
// check runs inside the lookup the socket itself uses, so the checked address is the connected
// address (no DNS-rebinding window), and it runs before any byte is written.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

export interface AllowedEnomOrigin {
  /** A bare origin, e.g. 'https://reseller.enom.com'. */
  origin: string
  /** True to let this origin resolve to loopback/private addresses (simulators, tests). */
  allowPrivate: boolean
}

export const ENOM_PATH = '/interface.asp'

/** The code carried by the error a guarded lookup fails with. */
export const ADDRESS_REFUSED = 'ENOM_ADDRESS_NOT_ALLOWED'

export type UrlCheck =
  | { ok: true, origin: string, hostname: string, allowPrivate: boolean }
  | { ok: false, origin: string, detail: string }

/** Normalises the allow-list; a malformed entry is a configuration error and throws. */
export function normaliseAllowedOrigins (list: readonly AllowedEnomOrigin[]): Map<string, AllowedEnomOrigin> {
  const map = new Map<string, AllowedEnomOrigin>()
  for (const entry of list) {
    const url = new URL(entry.origin)
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin === 'null' ||
      url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
      throw new TypeError('allowedOrigins: each entry must be a bare http(s) origin such as https://reseller.enom.com')
    }
    map.set(url.origin, { origin: url.origin, allowPrivate: entry.allowPrivate })
  }
  return map
}

/**
 * Checks an API URL against the allow-list. The detail names the rule that failed and, at most,
 * the URL's origin (scheme, host and port: never userinfo, path or query, which may hold secrets).
 */
export function checkApiUrl (apiUrl: string, allowed: ReadonlyMap<string, AllowedEnomOrigin>): UrlCheck {
  let url: URL
  try {
    url = new URL(apiUrl)
  } catch {
    return { ok: false, origin: 'invalid', detail: 'the API URL is not an absolute URL' }
  }
  const origin = url.origin
  if (url.username !== '' || url.password !== '') return { ok: false, origin, detail: 'the API URL must not carry userinfo' }
  const entry = allowed.get(origin)
  if (entry === undefined) return { ok: false, origin, detail: `origin ${origin} is not on the allow-list` }
  if (url.pathname !== ENOM_PATH) return { ok: false, origin, detail: `the API URL path must be ${ENOM_PATH}` }
  if (url.search !== '' || url.hash !== '' || apiUrl.includes('?') || apiUrl.includes('#')) {
    return { ok: false, origin, detail: 'the API URL must not carry a query or fragment' }
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (isIP(hostname) !== 0 && !entry.allowPrivate && !isPublicUnicast(hostname)) {
    return { ok: false, origin, detail: 'the API host is not a public address' }
  }
  return { ok: true, origin, hostname, allowPrivate: entry.allowPrivate }
}

/**
 * True only for a public unicast address. Loopback, private, link-local, unique-local, CGNAT,
 * unspecified, multicast, broadcast, documentation/benchmark/reserved ranges, NAT64, 6to4, Teredo
 * and the IPv4-compatible block are refused; IPv4-mapped IPv6 is judged as the IPv4 inside.
 */
export function isPublicUnicast (address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.parse(address.replace(/%.*$/, ''))
  } catch {
    return false
  }
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() === 'unicast'
    // ::a.b.c.d (deprecated IPv4-compatible) is 'unicast' to ipaddr.js but embeds any IPv4.
    if (v6.parts.slice(0, 6).every((p) => p === 0)) return false
  }
  return parsed.range() === 'unicast'
}

function refused (): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('the eNom host resolved to an address that is not allowed')
  err.code = ADDRESS_REFUSED
  return err
}

/**
 * Wraps a node:dns-compatible lookup so that every address it returns is checked. Handles both
 * shapes Node asks for: a single address, and `all: true` arrays (Node 20's happy eyeballs).
 */
export function guardedLookup (base: LookupFunction | undefined, allowPrivate: boolean): LookupFunction {
  const lookup: LookupFunction = base ?? (dnsLookup as unknown as LookupFunction)
  return (hostname, options, callback) => {
    lookup(hostname, options, (err, address, family) => {
      if (err !== null) {
        callback(err, address, family)
        return
      }
      const list: LookupAddress[] = Array.isArray(address)
        ? address
        : [{ address, family: family ?? isIP(address) }]
      if (list.length === 0) {
        const none: NodeJS.ErrnoException = new Error('the eNom host name has no address')
        none.code = 'ENOTFOUND'
        callback(none, '', 0)
        return
      }
      if (!allowPrivate && list.some((a) => !isPublicUnicast(a.address))) {
        callback(refused(), '', 0)
        return
      }
      const [first] = list as [LookupAddress, ...LookupAddress[]]
      if (options.all === true) callback(null, list)
      else callback(null, first.address, first.family)
    })
  }
}
