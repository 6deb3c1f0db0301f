// The client over real sockets: resets, refused connections, DNS, the SSRF guard at connect
// time, TLS, which commands are never retried, and the pool's lifecycle.
import { createServer as createHttpsServer } from 'node:https'
import type { LookupFunction } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import type { CallEvent, EnomClient } from '../../src/enom/client.js'
import { BALANCE, contact, creds, CSR, failure, lookupTo, never, reset, sockets, status } from './harness.js'
import { startServer, xml } from './support.js'
import { selfSignedCert } from './tls-cert.js'

const { cleanup, server, client } = sockets()

describe('connection failures', () => {
  it('reports a reset after the request was received as reset, delivery unknown', async () => {
    const s = await server(reset)
    const err = await failure(client(s.origin).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'reset', delivery: 'unknown', retryable: true })
    expect(s.received).toHaveLength(3)
  })

  it('reports a refused connection as connect, delivery not_sent', async () => {
    const s = await startServer(never)
    const origin = s.origin
    await s.close()
    const events: CallEvent[] = []
    const err = await failure(client(origin, { events }).getBalance(creds(origin)))
    expect(err).toMatchObject({ reason: 'connect', delivery: 'not_sent', transportCode: 'ECONNREFUSED', retryable: true })
    expect(events).toHaveLength(3)
    const money = await failure(client(origin).purchaseServices(creds(origin), { service: 'x', numYears: 1 }))
    // Never sent, so the caller may safely send it again (the client itself does not).
    expect(money).toMatchObject({ reason: 'connect', delivery: 'not_sent', retryable: true })
  })

  it('reports a DNS failure from the lookup as dns, delivery not_sent', async () => {
    const lookup: LookupFunction = (_h, _o, cb) => { cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), '', 0) }
    const origin = 'http://enom.invalid:9'
    const err = await failure(client(origin, { lookup, allowPrivate: false }).getBalance(creds(origin)))
    expect(err).toMatchObject({ reason: 'dns', delivery: 'not_sent', code: 'ENOM_ERR_DNS' })
  })

  it('reports a connect timeout as timeout, delivery not_sent', async () => {
    const hanging: LookupFunction = () => {}
    const origin = 'http://enom-slow.test:9'
    const err = await failure(client(origin, { lookup: hanging, connectTimeoutMs: 150, retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(origin)))
    expect(err).toMatchObject({ reason: 'timeout', delivery: 'not_sent', transportCode: 'UND_ERR_CONNECT_TIMEOUT' })
  })

  it('proves nothing was sent when the deadline passes before the connection is up', async () => {
    const hanging: LookupFunction = () => {}
    const origin = 'http://enom-slow.test:9'
    const c = client(origin, { lookup: hanging, connectTimeoutMs: 400, timeoutMs: 100, purchaseTimeoutMs: 100 })
    const err = await failure(c.purchaseServices(creds(origin), { service: 'x', numYears: 1 }))
    expect(err).toMatchObject({ reason: 'timeout', delivery: 'not_sent', transportCode: 'DEADLINE', retryable: true })
  })

  it('refuses a DNS answer of 127.0.0.1 before sending anything, unless the origin allows private addresses', async () => {
    const s = await server(xml(BALANCE))
    const origin = `http://enom-sim.test:${s.port}`
    const lookup = lookupTo('127.0.0.1')
    const err = await failure(client(origin, { lookup, allowPrivate: false }).getBalance(creds(origin)))
    expect(err).toMatchObject({ reason: 'url_not_allowed', delivery: 'not_sent', retryable: false })
    expect(lookup.hosts).toContain('enom-sim.test')
    expect(s.connections).toBe(0)
    expect(s.received).toHaveLength(0)
    // The same answer is fine for an origin that is allowed to be private: the lookup is what connects.
    const ok = await client(origin, { lookup, allowPrivate: true }).getBalance(creds(origin))
    expect(ok.balance).toBe('3709.20')
    expect(s.received).toHaveLength(1)
  })

  it('refuses a private IP-literal host without a lookup or a connection', async () => {
    const s = await server(xml(BALANCE))
    const err = await failure(client(s.origin, { allowPrivate: false }).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'url_not_allowed', delivery: 'not_sent' })
    expect(s.connections).toBe(0)
  })

  it('refuses a URL outside the allow-list, nothing sent', async () => {
    const s = await server(xml(BALANCE))
    const c = client(s.origin)
    for (const apiUrl of [`${s.origin}/other.asp`, `${s.origin}/interface.asp?x=1`, 'https://reseller.enom.com/interface.asp']) {
      expect(await failure(c.getBalance({ ...creds(s.origin), apiUrl }))).toMatchObject({ reason: 'url_not_allowed', delivery: 'not_sent' })
    }
    expect(s.connections).toBe(0)
  })

  describe('TLS', () => {
    let tls: { key: string, cert: string }
    beforeAll(async () => { tls = await selfSignedCert() })

    it('reports a self-signed certificate as tls, delivery not_sent', async () => {
      const s = await startServer(xml(BALANCE), { server: createHttpsServer({ key: tls.key, cert: tls.cert }), scheme: 'https' })
      cleanup.push(s.close)
      const err = await failure(client(s.origin, { retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(s.origin)))
      expect(err).toMatchObject({ reason: 'tls', delivery: 'not_sent', code: 'ENOM_ERR_TLS', transportCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
      expect(s.received).toHaveLength(0)
    })
  })
})

describe('commands that are never retried', () => {
  it.each([
    ['PurchaseServices', (c: EnomClient, o: string) => c.purchaseServices(creds(o), { service: 'x', numYears: 1 })],
    ['CertPurchaseCert', (c: EnomClient, o: string) => c.certPurchaseCert(creds(o), { certId: '1', approverEmail: 'a@example.com' })],
    ['CertConfigureCert', (c: EnomClient, o: string) => c.certConfigureCert(creds(o), { certId: '1', webServerType: 18, csr: CSR, contacts: { admin: contact, tech: contact, billing: contact } })],
    ['CertModifyOrder', (c: EnomClient, o: string) => c.certModifyOrder(creds(o), { certId: '1' })],
    ['CertResendApproverEmail', (c: EnomClient, o: string) => c.certResendApproverEmail(creds(o), { certId: '1' })]
  ])('%s is sent once on 500, reset and a malformed answer', async (_name, call) => {
    for (const handler of [status(500), reset, xml('<html/>')]) {
      const s = await server(handler)
      const err = await failure(call(client(s.origin), s.origin))
      expect(err.delivery).toBe('unknown')
      expect(err.retryable).toBe(false)
      expect(s.received).toHaveLength(1)
    }
  })
})

describe('lifecycle', () => {
  it('fails calls after close() without sending', async () => {
    const s = await server(xml(BALANCE))
    const c = client(s.origin)
    await c.getBalance(creds(s.origin))
    await c.close()
    expect(await failure(c.getBalance(creds(s.origin)))).toMatchObject({ delivery: 'not_sent' })
    expect(s.received).toHaveLength(1)
  })

  it('reuses a keep-alive connection for consecutive calls', async () => {
    const s = await server(xml(BALANCE))
    const c = client(s.origin)
    for (let i = 0; i < 3; i++) {
      await c.getBalance(creds(s.origin))
      // undici returns the socket to the pool just after the answer completes.
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(s.received).toHaveLength(3)
    expect(s.connections).toBe(1)
  })
})
