// Who may do what: the callers (bearer tokens from API_TOKENS) and the role matrix.
// Every route names one permission (see routes/*); this file is the only place that says
// which roles hold it. A route without a permission is refused by the auth plugin.
import { hash, timingSafeEqual } from 'node:crypto'

export const ROLES = ['admin', 'billing', 'ops'] as const
export type Role = typeof ROLES[number]

/**
 * The role matrix. `public` routes need no token at all; every other permission lists the
 * roles that hold it (admin holds everything).
 */
export const PERMISSIONS = {
  public: [],
  'modules.read': ['admin', 'billing', 'ops'],
  'modules.write': ['admin'],
  'products.read': ['admin', 'billing'],
  'balance.read': ['admin', 'billing', 'ops'],
  'orders.read': ['admin', 'billing', 'ops'],
  'orders.write': ['admin', 'billing'],
  'csr.parse': ['admin', 'billing'],
  'tasks.read': ['admin', 'ops'],
  'tasks.resolve': ['admin', 'ops'],
  'metrics.read': ['admin', 'ops'],
  'purchases.control': ['admin'],
  'audit.read': ['admin'],
  'webhooks.manage': ['admin']
} as const satisfies Record<string, readonly Role[]>

export type Permission = keyof typeof PERMISSIONS

export function roleHolds (role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role)
}

export interface Caller {
  /** The caller's name from API_TOKENS: the scope of idempotency keys, audit rows and limits. */
  name: string
  role: Role
}

export class AccessConfigError extends Error {
  override name = 'AccessConfigError'
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/
const MIN_TOKEN_LENGTH = 16

interface TokenEntry { caller: Caller, digest: Buffer }

function digest (token: string): Buffer {
  return hash('sha256', token, 'buffer')
}

/**
 * The configured callers. Tokens are kept only as SHA-256 digests and compared in constant
 * time against every entry, so neither timing nor an early exit tells which prefix matched.
 */
export class TokenRegistry {
  private constructor (private readonly entries: TokenEntry[]) {}

  /** Parses `name:role:token` entries separated by commas or new lines. Messages never hold a token. */
  static parse (text: string): TokenRegistry {
    const parts = text.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)
    if (parts.length === 0) throw new AccessConfigError('API_TOKENS holds no entry')
    const names = new Set<string>()
    const digests = new Set<string>()
    const entries = parts.map((part, i) => {
      const first = part.indexOf(':')
      const second = first < 0 ? -1 : part.indexOf(':', first + 1)
      if (second < 0) throw new AccessConfigError(`API_TOKENS entry ${i + 1} is not name:role:token`)
      const name = part.slice(0, first)
      const role = part.slice(first + 1, second)
      const token = part.slice(second + 1)
      if (!NAME.test(name)) throw new AccessConfigError(`API_TOKENS entry ${i + 1}: the name must be 1-64 characters of A-Z a-z 0-9 _ . -`)
      if (!(ROLES as readonly string[]).includes(role)) throw new AccessConfigError(`API_TOKENS entry ${i + 1} (${name}): role must be one of ${ROLES.join(', ')}`)
      if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) throw new AccessConfigError(`API_TOKENS entry ${i + 1} (${name}): the token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`)
      if (names.has(name)) throw new AccessConfigError(`API_TOKENS: the name ${name} is used twice`)
      const d = digest(token)
      if (digests.has(d.toString('hex'))) throw new AccessConfigError(`API_TOKENS entry ${i + 1} (${name}) reuses another entry's token`)
      names.add(name)
      digests.add(d.toString('hex'))
      return { caller: { name, role: role as Role }, digest: d }
    })
    return new TokenRegistry(entries)
  }

  /** The caller a presented token belongs to, if any. */
  identify (token: string): Caller | undefined {
    const presented = digest(token)
    let found: Caller | undefined
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found = entry.caller
    }
    return found
  }

  get callers (): Caller[] {
    return this.entries.map((e) => e.caller)
  }
}
