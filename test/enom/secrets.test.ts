// With a distinctive uid and pw, every failure kind and a success: no log line, CallEvent,
// error message, error property or serialised error may contain the pw, the uid, the CSR or
// the URL with its query.
import { createServer as createHttpsServer } from 'node:https'
import type { LookupFunction } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EnomClient, type CallContext, type CallEvent, type EnomCredentials } from '../../src/enom/client.js'
import { EnomError } from '../../src/enom/errors.js'
import { collectingLogger, fixture, startServer, xml, type Handler, type LogLine, type TestServer } from './support.js'
import { selfSignedCert } from './tls-cert.js'

const PW = 'Pw+Zq9/Xv=S3cr3t&x'
const UID = 'uid-Distinct-7731'
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBsecretcsr\n-----END CERTIFICATE REQUEST-----'
const FORBIDDEN = [PW, encodeURIComponent(PW), new URLSearchParams({ pw: PW }).toString().slice(3), UID, 'interface.asp?', 'MIIBsecretcsr']

/** Echoes the request (URL with query, body) in an HTML page, as proxies' error pages do. */
const echo = (code: number): Handler => (req, res) => {
  res.writeHead(code, { 'content-type': 'text/html', ...(code === 302 ? { location: `http://127.0.0.1:1${req.url}` } : {}) })
  res.end(`<html><body><p>${req.method} ${req.url} ${req.body} ${PW} ${UID}</p></body></html>`)
}
const escape = (t: string): string => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;')

/** An eNom error envelope that repeats the credentials it was sent. */
const enomEcho: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/xml' })
  res.end(fixture('getbalance.auth-failure.xml').replace('Bad User name or Password',
    `Bad User name or Password: ${escape(req.params.get('uid') ?? '')} / ${escape(req.params.get('pw') ?? '')}`))
}

const servers: TestServer[] = []
beforeAll(async () => {
  const tls = await selfSignedCert()
  servers.push(await startServer(xml(''), { server: createHttpsServer(tls), scheme: 'https' }))
})
afterAll(async () => {
  for (const s of servers) await s.close()
})

async function serve (handler: Handler): Promise<string> {
  const s = await startServer(handler)
  servers.push(s)
  return s.origin
}

interface Outcome { err: unknown, events: CallEvent[], lines: LogLine[] }

type Call = (c: EnomClient, creds: EnomCredentials, ctx: CallContext) => Promise<unknown>

const balance: Call = (c, creds, ctx) => c.getBalance(creds, ctx)

async function run (origin: string, call: Call, opts: { apiUrl?: string, lookup?: LookupFunction, allowPrivate?: boolean, signal?: AbortSignal } = {}): Promise<Outcome> {
  const events: CallEvent[] = []
  const log = collectingLogger()
  const c = new EnomClient({
    allowedOrigins: [{ origin, allowPrivate: opts.allowPrivate ?? true }],
    timeoutMs: 300,
    purchaseTimeoutMs: 300,
    bodyTimeoutMs: 200,
    connectTimeoutMs: 300,
    maxResponseBytes: 8_192,
    retry: { attempts: 2, baseDelayMs: 1 },
    onCall: (e) => events.push(e),
    ...(opts.lookup !== undefined ? { lookup: opts.lookup } : {})
  })
  let err: unknown
  try {
    await call(c, { apiUrl: opts.apiUrl ?? `${origin}/interface.asp`, uid: UID, pw: PW }, { log, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) })
  } catch (e) {
    err = e
  }
  await c.close()
  return { err, events, lines: log.lines }
}

function everything (o: Outcome): string[] {
  const texts = [JSON.stringify(o.events), JSON.stringify(o.lines)]
  if (o.err instanceof Error) {
    texts.push(o.err.message, String(o.err), JSON.stringify(o.err), o.err.stack ?? '', JSON.stringify(Object.entries(o.err)))
    texts.push(JSON.stringify(o.err.cause ?? null))
  }
  return texts
}

const closedPort = async (): Promise<string> => {
  const s = await startServer(() => {})
  await s.close()
  return s.origin
}

describe('credentials and URLs never leak', () => {
  const cases: Array<[string, () => Promise<Outcome>, string]> = [
    ['success', async () => run(await serve(xml(fixture('getbalance.success-bensie.xml'))), balance), 'ok'],
    ['url with the pw in its query', async () => {
      const o = await serve(xml(''))
      return run(o, balance, { apiUrl: `${o}/interface.asp?uid=${UID}&pw=${encodeURIComponent(PW)}` })
    }, 'url_not_allowed'],
    ['url with the pw as userinfo', async () => {
      const o = await serve(xml(''))
      return run(o, balance, { apiUrl: o.replace('http://', `http://${UID}:${encodeURIComponent(PW)}@`) + '/interface.asp' })
    }, 'url_not_allowed'],
    ['url on another origin', async () => run(await serve(xml('')), balance, { apiUrl: `https://evil.example/interface.asp?pw=${PW}` }), 'url_not_allowed'],
    ['bad input', async () => run(await serve(xml('')), (c, creds, ctx) => c.certReissueCert(creds, { certId: '1', csr: `${PW} MIIBsecretcsr` }, ctx)), 'validation'],
    ['dns', async () => run('http://enom.invalid:9', balance, { lookup: (_h, _o, cb) => { cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${PW}`), { code: 'ENOTFOUND' }), '', 0) } }), 'dns'],
    ['private address from dns', async () => run('http://enom.test:9', balance, { allowPrivate: false, lookup: (_h, _o, cb) => { cb(null, [{ address: '127.0.0.1', family: 4 }]) } }), 'url_not_allowed'],
    ['connect refused', async () => run(await closedPort(), balance), 'connect'],
    ['tls', async () => run(servers[0]?.origin ?? '', balance), 'tls'],
    ['timeout', async () => run(await serve(() => {}), balance), 'timeout'],
    ['reset', async () => run(await serve((_r, _res, socket) => socket.destroy()), balance), 'reset'],
    ['redirect echoing the URL', async () => run(await serve(echo(302)), balance), 'http_status'],
    ['502 page echoing the URL', async () => run(await serve(echo(502)), balance), 'http_status'],
    ['200 HTML page echoing the URL', async () => run(await serve(echo(200)), balance), 'malformed_response'],
    ['POST echo with a CSR', async () => run(await serve(echo(200)), (c, creds, ctx) => c.certParseCsr(creds, { csr: CSR }, ctx)), 'malformed_response'],
    ['oversized answer', async () => run(await serve(xml(`<interface-response>${PW.repeat(2000)}</interface-response>`)), balance), 'malformed_response'],
    ['eNom error echoing the credentials', async () => run(await serve(enomEcho), balance), 'auth'],
    ['ip not allowed', async () => run(await serve(xml(fixture('getbalance.ip-not-allowed.xml'))), balance), 'ip_not_allowed'],
    ['csr error', async () => run(await serve(xml(fixture('certconfigurecert.csr-error.xml'))), (c, creds, ctx) => c.certParseCsr(creds, { csr: CSR }, ctx)), 'csr'],
    ['purchase timeout', async () => run(await serve(() => {}), (c, creds, ctx) => c.purchaseServices(creds, { service: 'x', numYears: 1 }, ctx)), 'timeout'],
    ['caller abort', async () => run(await serve(() => {}), balance, { signal: AbortSignal.timeout(50) }), 'timeout']
  ]

  it.each(cases)('%s', async (_name, scenario, outcome) => {
    const o = await scenario()
    if (outcome === 'ok') {
      expect(o.err).toBeUndefined()
    } else {
      expect(o.err).toBeInstanceOf(EnomError)
      expect((o.err as EnomError).reason).toBe(outcome)
    }
    expect(o.events.length).toBeGreaterThan(0)
    expect(o.lines).toHaveLength(o.events.length)
    for (const text of everything(o)) {
      for (const secret of FORBIDDEN) expect(text).not.toContain(secret)
    }
  })

  it('logs one line per attempt with the documented fields only', async () => {
    const o = await run(await serve(echo(500)), balance)
    expect(o.lines).toHaveLength(2)
    expect(o.lines.map((l) => l.level)).toEqual(['info', 'info'])
    const first = o.lines[0]?.obj as Record<string, unknown>
    expect(Object.keys(first).sort()).toEqual(['attempt', 'code', 'delivery', 'durationMs', 'enomCommand', 'enomOrigin', 'httpStatus', 'outcome', 'transportCode'])
    expect(first).toMatchObject({ enomCommand: 'GetBalance', outcome: 'http_status', attempt: 1, httpStatus: 500, delivery: 'unknown' })
    expect(o.events[1]).toMatchObject({ command: 'GetBalance', outcome: 'http_status', attempt: 2 })
    expect(Object.keys(o.events[1] ?? {}).sort()).toEqual(['attempt', 'command', 'durationMs', 'origin', 'outcome'])
  })

  it('logs read-only successes at debug and money successes at info, with the eNom number on errors', async () => {
    const ok = await run(await serve(xml(fixture('getbalance.success-bensie.xml'))), balance)
    expect(ok.lines.map((l) => [l.level, (l.obj as { outcome: string }).outcome])).toEqual([['debug', 'ok']])
    const purchase = fixture('purchaseservices.success-google-apps.xml')
    const money = await run(await serve(xml(purchase)), (c, creds, ctx) => c.purchaseServices(creds, { service: 'x', numYears: 1 }, ctx))
    expect(money.lines.map((l) => l.level)).toEqual(['info'])
    const auth = await run(await serve(xml(fixture('getbalance.auth-failure.xml'))), balance)
    expect(auth.lines[0]?.obj).toMatchObject({ outcome: 'auth', responseNumber: '304155' })
    expect(auth.events).toEqual([expect.objectContaining({ outcome: 'auth', responseNumber: '304155', attempt: 1 })])
  })

  it('uses the client-wide logger when the call brings none', async () => {
    const log = collectingLogger()
    const origin = await serve(xml(fixture('getbalance.success-bensie.xml')))
    const c = new EnomClient({ allowedOrigins: [{ origin, allowPrivate: true }], log })
    await c.getBalance({ apiUrl: `${origin}/interface.asp`, uid: UID, pw: PW })
    await c.close()
    expect(log.lines).toHaveLength(1)
    expect(log.lines[0]?.obj).toMatchObject({ enomCommand: 'GetBalance', outcome: 'ok', attempt: 1, enomOrigin: origin })
  })

  it('keeps going when the onCall hook throws', async () => {
    const origin = await serve(xml(fixture('getbalance.success-bensie.xml')))
    const c = new EnomClient({ allowedOrigins: [{ origin, allowPrivate: true }], onCall: () => { throw new Error('metrics down') } })
    await expect(c.getBalance({ apiUrl: `${origin}/interface.asp`, uid: UID, pw: PW })).resolves.toMatchObject({ balance: '3709.20' })
    await c.close()
  })
})
