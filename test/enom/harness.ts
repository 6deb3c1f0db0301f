// Shared pieces of the eNom client tests: sample input, one-line helpers to catch EnomErrors,
// and (for the socket tests) servers and clients that are closed after each test.
import type { LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { afterEach } from 'vitest'
import { EnomClient, type CallEvent, type EnomClientOptions, type EnomCredentials } from '../../src/enom/client.js'
import { EnomError } from '../../src/enom/errors.js'
import { fixture, startServer, type Handler, type TestServer } from './support.js'

export const BALANCE = fixture('getbalance.success-bensie.xml')
export const PURCHASE = fixture('purchaseservices.success-google-apps.xml').replace('<OrderID>162046629</OrderID>', '<certid>48455</certid><orderid>162046629</orderid>')
export const CONFIGURE = fixture('certconfigurecert.success.xml')
export const PURCHASE_CERT = fixture('certpurchasecert.success.xml')
/** A PEM CSR whose body holds +, / and =, the characters form encoding must carry. */
export const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBa+b/c=\n-----END CERTIFICATE REQUEST-----'
export const contact = {
  firstName: 'John',
  lastName: 'Smith',
  organization: 'Rightside',
  jobTitle: 'CTO',
  address1: '1 Main St',
  city: 'Kirkland',
  state: 'WA',
  postalCode: '98033',
  country: 'US',
  phone: '+1.4252744500',
  email: 'admin@example.com'
}

/** Runs fn and returns the EnomError it throws. */
export function caught (fn: () => unknown): EnomError {
  try {
    fn()
  } catch (e) {
    if (e instanceof EnomError) return e
    throw e
  }
  throw new Error('expected an EnomError')
}

/** Awaits p and returns the EnomError it rejects with. */
export async function failure (p: Promise<unknown>): Promise<EnomError> {
  try {
    await p
  } catch (e) {
    if (e instanceof EnomError) return e
    throw e
  }
  throw new Error('expected the call to fail')
}

/** Wraps a command block in the common success envelope. */
export function envelope (inner: string, command = 'X'): string {
  return `<?xml version="1.0" encoding="utf-8"?><interface-response>${inner}<Command>${command}</Command><ErrCount>0</ErrCount><ResponseCount>0</ResponseCount><Done>true</Done></interface-response>`
}

export function creds (origin: string): EnomCredentials {
  return { apiUrl: `${origin}/interface.asp`, uid: 'resellid', pw: 'resellpw' }
}

export const never: Handler = () => {}
export const status = (code: number, headers: Record<string, string> = {}): Handler => (_r, res) => {
  res.writeHead(code, headers)
  res.end('<html><body>nope</body></html>')
}
export const reset: Handler = (_r, _res, socket) => { socket.destroy() }

/** A lookup answering `address` for every host, recording the hosts asked for. */
export function lookupTo (address: string): LookupFunction & { hosts: string[] } {
  const fn = ((host: string, options: { all?: boolean }, cb: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) => {
    fn.hosts.push(host)
    if (options.all === true) cb(null, [{ address, family: 4 }])
    else cb(null, address, 4)
  }) as LookupFunction & { hosts: string[] }
  fn.hosts = []
  return fn
}

export type ClientExtra = Partial<EnomClientOptions> & { events?: CallEvent[], allowPrivate?: boolean }

/**
 * Servers and clients for one test file, closed after each test. Call at the top level of a
 * test file (it registers an afterEach hook there).
 */
export function sockets (): {
  cleanup: Array<() => Promise<void>>
  server: (handler: Handler) => Promise<TestServer>
  client: (origin: string, extra?: ClientExtra) => EnomClient
} {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })
  return {
    cleanup,
    server: async (handler) => {
      const s = await startServer(handler)
      cleanup.push(s.close)
      return s
    },
    client: (origin, extra = {}) => {
      const { events, allowPrivate, ...rest } = extra
      const c = new EnomClient({
        allowedOrigins: [{ origin, allowPrivate: allowPrivate ?? true }],
        timeoutMs: 3_000,
        retry: { attempts: 3, baseDelayMs: 1 },
        ...(events !== undefined ? { onCall: (e) => events.push(e) } : {}),
        ...rest
      })
      cleanup.push(() => c.close())
      return c
    }
  }
}
