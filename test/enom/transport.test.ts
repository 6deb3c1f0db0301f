// The client over real sockets, against a tiny node:http server written here (not the
// simulator): methods and parameters, HTTP statuses, truncated and oversized bodies, timeouts.
import { describe, expect, it } from 'vitest'
import type { CallEvent } from '../../src/enom/client.js'
import { BALANCE, CONFIGURE, contact, creds, CSR, failure, never, PURCHASE, PURCHASE_CERT, sockets, status } from './harness.js'
import { fixture, xml, type Handler } from './support.js'

const { server, client } = sockets()

describe('requests', () => {
  it('sends read-only commands as GET with command, credentials and responsetype=xml', async () => {
    const s = await server(xml(BALANCE))
    const balance = await client(s.origin).getBalance(creds(s.origin))
    expect(balance).toEqual({ balance: '3709.20', availableBalance: '3669.40', reseller: true, domainCount: 74 })
    const [req] = s.received
    expect(req?.method).toBe('GET')
    expect(req?.url.startsWith('/interface.asp?')).toBe(true)
    expect(Object.fromEntries(req?.params ?? [])).toEqual({ command: 'GetBalance', uid: 'resellid', pw: 'resellpw', responsetype: 'xml' })
  })

  it('sends CSR-bearing commands as a form-encoded POST with nothing in the URL', async () => {
    const s = await server(xml(fixture('certparsecsr.success.xml')))
    const c = client(s.origin)
    await c.certParseCsr(creds(s.origin), { csr: CSR, certId: '123' })
    const [req] = s.received
    expect(req?.method).toBe('POST')
    expect(req?.url).toBe('/interface.asp')
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(req?.params.get('command')).toBe('CertParseCSR')
    expect(req?.params.get('CertID')).toBe('123')
    // The CSR's +, / and = survive the form encoding.
    expect(req?.params.get('CSR')).toBe(CSR)
    expect(req?.body).toContain('%2B')
  })

  it('sends CertConfigureCert as POST with contacts, State/Province by country and UCC lists', async () => {
    const s = await server(xml(CONFIGURE))
    const result = await client(s.origin).certConfigureCert(creds(s.origin), {
      certId: '725899',
      webServerType: 1002,
      csr: CSR,
      contacts: { admin: contact, tech: { ...contact, country: 'de', state: 'Bayern', fax: '+49.891234' }, billing: { ...contact, phoneExt: '12' } },
      uccDomains: [{ domain: 'a.example.com', approverEmail: 'admin@example.com' }, { domain: 'b.example.com' }],
      dvAuthMethod: 'DNS'
    })
    expect(result.approvers).toHaveLength(2)
    const p = s.received[0]?.params ?? new URLSearchParams()
    expect(s.received[0]?.method).toBe('POST')
    expect(p.get('WebServerType')).toBe('1002')
    expect(p.get('AdminState')).toBe('WA')
    expect(p.get('AdminStateProvinceChoice')).toBe('S')
    expect(p.get('AdminPhone')).toBe('+1.4252744500')
    expect(p.get('TechProvince')).toBe('Bayern')
    expect(p.get('TechState')).toBeNull()
    expect(p.get('TechStateProvinceChoice')).toBe('P')
    expect(p.get('TechCountry')).toBe('DE')
    expect(p.get('TechFax')).toBe('+49.891234')
    expect(p.get('BillingPhoneExt')).toBe('12')
    expect(p.get('AdminEmailAddress')).toBe('admin@example.com')
    expect(p.get('DomainListNumber')).toBe('2')
    expect(p.get('UCCDomainList2')).toBe('b.example.com')
    expect(p.get('UCCEmailList1')).toBe('admin@example.com')
    expect(p.get('UCCEmailList2')).toBeNull()
    expect(p.get('DVAuthMethod')).toBe('DNS')
  })

  it('maps CertGetCerts filters to eNom parameters and refuses a page over 250 without sending', async () => {
    const s = await server(xml(fixture('certgetcerts.success-enompro.xml')))
    const c = client(s.origin)
    await c.certGetCerts(creds(s.origin), {
      startPosition: 26,
      pageSize: 250,
      sortBy: 'Expiration',
      sortDirection: 'Desc',
      statusId: 4,
      prodType: 23,
      domainContains: 'example',
      orderDateStart: new Date(Date.UTC(2024, 0, 5)),
      orderDateEnd: new Date(Date.UTC(2024, 11, 31))
    })
    expect(Object.fromEntries(s.received[0]?.params ?? [])).toMatchObject({
      command: 'CertGetCerts',
      StartPosition: '26',
      PagingPageSize: '250',
      SortBy: 'Expiration',
      SortByDirection: 'Desc',
      CertStatusID: '4',
      ProdType: '23',
      DomainNameContains: 'example',
      OrderDateStart: '01/05/2024',
      OrderDateEnd: '12/31/2024'
    })
    const err = await failure(c.certGetCerts(creds(s.origin), { pageSize: 251 }))
    expect(err).toMatchObject({ reason: 'validation', delivery: 'not_sent', retryable: false })
    expect(s.received).toHaveLength(1)
  })

  it('sends the other commands with their parameters', async () => {
    const s = await server((req, res) => {
      const byCommand: Record<string, string> = {
        PurchaseServices: PURCHASE,
        CertPurchaseCert: PURCHASE_CERT,
        PE_GetProductPrice: fixture('pe_getproductprice.success.xml'),
        CertGetApproverEmail: fixture('certgetapproveremail.success.xml'),
        CertChangeApproverEmail: fixture('certresendapproveremail.success.xml').replaceAll('CertResendApproverEmail', 'CertChangeApproverEmail')
      }
      xml(byCommand[req.params.get('command') ?? ''] ?? '')(req, res, res.socket as never)
    })
    const c = client(s.origin)
    expect(await c.purchaseServices(creds(s.origin), { service: 'Certificate-RapidSSL-RapidSSL', numYears: 2 })).toEqual({ certId: '48455', orderId: '162046629', orderAmount: '4.50' })
    await c.getProductPrice(creds(s.origin), { productType: 23, years: 2 })
    await c.certGetApproverEmail(creds(s.origin), { certId: '1', domain: 'example.com' })
    await c.certChangeApproverEmail(creds(s.origin), { certId: '1', approverEmail: 'hostmaster@example.com' })
    await c.certPurchaseCert(creds(s.origin), {
      certId: '48455',
      approverEmail: 'admin@example.com',
      dvAuthMethod: 'Email',
      csrFields: { organization: 'Org', address1: 'A1', locality: 'City', stateProvince: 'WA', postalCode: '98033', country: 'us' }
    })
    const [purchase, price, approver, change, cert] = s.received
    expect(purchase?.method).toBe('GET')
    expect(Object.fromEntries(purchase?.params ?? [])).toMatchObject({ Service: 'Certificate-RapidSSL-RapidSSL', NumYears: '2' })
    expect(Object.fromEntries(price?.params ?? [])).toMatchObject({ ProductType: '23', Years: '2' })
    expect(Object.fromEntries(approver?.params ?? [])).toMatchObject({ CertID: '1', Domain: 'example.com' })
    expect(Object.fromEntries(change?.params ?? [])).toMatchObject({ CertID: '1', ApproverEmail: 'hostmaster@example.com' })
    expect(cert?.method).toBe('POST')
    expect(Object.fromEntries(cert?.params ?? [])).toMatchObject({
      CertID: '48455', ApproverEmail: 'admin@example.com', DVAuthMethod: 'Email', CSROrganization: 'Org', CSRCountry: 'US', CSRLocality: 'City'
    })
  })

  it('sends CertReissueCert as POST, and CertPurchaseCert without CSR fields and the after-sale commands as GET', async () => {
    const s = await server((req, res, socket) => {
      const command = req.params.get('command') ?? ''
      const body = command === 'CertPurchaseCert'
        ? PURCHASE_CERT
        : command === 'CertModifyOrder' ? fixture('certmodifyorder.success.xml') : '<interface-response><Success>True</Success><ErrCount>0</ErrCount><Done>true</Done></interface-response>'
      xml(body)(req, res, socket)
    })
    const c = client(s.origin)
    expect(await c.certReissueCert(creds(s.origin), { certId: '7', csr: CSR })).toEqual({ success: true })
    expect((await c.certPurchaseCert(creds(s.origin), { certId: '48455', approverEmail: 'admin@example.com' })).success).toBe(true)
    expect(await c.certModifyOrder(creds(s.origin), { certId: '48455' })).toEqual({ certId: '48455' })
    expect(await c.certResendFulfillmentEmail(creds(s.origin), { certId: '7' })).toEqual({ success: true })
    expect(s.received.map((r) => [r.params.get('command'), r.method, r.params.get('CertID')])).toEqual([
      ['CertReissueCert', 'POST', '7'], ['CertPurchaseCert', 'GET', '48455'], ['CertModifyOrder', 'GET', '48455'], ['CertResendFulfillmentEmail', 'GET', '7']
    ])
    expect(s.received[0]?.params.get('CSR')).toBe(CSR)
  })

  it('refuses bad input without sending anything', async () => {
    const s = await server(xml(BALANCE))
    const c = client(s.origin)
    const cases: Array<Promise<unknown>> = [
      c.certGetCertDetail(creds(s.origin), { certId: '12&pw=x' }),
      c.purchaseServices(creds(s.origin), { service: 'x y', numYears: 1 }),
      c.purchaseServices(creds(s.origin), { service: 'x', numYears: 11 }),
      c.certReissueCert(creds(s.origin), { certId: '1', csr: 'not a csr' }),
      c.certReissueCert(creds(s.origin), { certId: '1', csr: `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(4600)}\n-----END CERTIFICATE REQUEST-----` }),
      c.certConfigureCert(creds(s.origin), { certId: '1', webServerType: 18, csr: CSR, contacts: { admin: { ...contact, phone: '425-274-4500' }, tech: contact, billing: contact } }),
      c.getBalance({ ...creds(s.origin), pw: '' })
    ]
    for (const p of cases) expect(await failure(p)).toMatchObject({ reason: 'validation', delivery: 'not_sent', code: 'ENOM_ERR_VALIDATION' })
    expect(s.received).toHaveLength(0)
    const err = await failure(c.certConfigureCert(creds(s.origin), { certId: '1', webServerType: 18, csr: CSR, contacts: { admin: { ...contact, phone: '1' }, tech: contact, billing: contact } }))
    expect(err.message).toContain('contacts.admin.phone')
  })
})

describe('HTTP status and body failures', () => {
  it('does not follow redirects: a 302 is http_status and the target is never asked', async () => {
    const target = await server(xml(BALANCE))
    const s = await server(status(302, { location: `${target.origin}/interface.asp` }))
    const err = await failure(client(s.origin).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'http_status', httpStatus: 302, delivery: 'unknown', retryable: false })
    expect(s.received).toHaveLength(1)
    expect(target.received).toHaveLength(0)
  })

  it('retries a 500 for read-only commands and reports http_status', async () => {
    const s = await server(status(500))
    const events: CallEvent[] = []
    const err = await failure(client(s.origin, { events }).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'http_status', httpStatus: 500, delivery: 'unknown', retryable: true })
    expect(s.received).toHaveLength(3)
    expect(events.map((e) => [e.attempt, e.outcome])).toEqual([[1, 'http_status'], [2, 'http_status'], [3, 'http_status']])
  })

  it('succeeds when a retry does', async () => {
    let n = 0
    const s = await server((req, res, socket) => (++n < 3 ? status(503) : xml(BALANCE))(req, res, socket))
    const events: CallEvent[] = []
    const balance = await client(s.origin, { events }).getBalance(creds(s.origin))
    expect(balance.balance).toBe('3709.20')
    expect(events.map((e) => e.outcome)).toEqual(['http_status', 'http_status', 'ok'])
  })

  it('retries an eNom system error (6xxxxx) for read-only commands, never an auth error', async () => {
    const transient = fixture('getbalance.auth-failure.xml').replace('304155', '607150').replace('Bad User name or Password', 'Connection failed')
    const t = await server(xml(transient))
    expect(await failure(client(t.origin).getBalance(creds(t.origin)))).toMatchObject({ reason: 'transient', delivery: 'processed' })
    expect(t.received).toHaveLength(3)
    const a = await server(xml(fixture('getbalance.auth-failure.xml')))
    expect(await failure(client(a.origin).getBalance(creds(a.origin)))).toMatchObject({ reason: 'auth', delivery: 'processed' })
    expect(a.received).toHaveLength(1)
    const ip = await server(xml(fixture('getbalance.ip-not-allowed.xml')))
    expect(await failure(client(ip.origin).checkLogin(creds(ip.origin)))).toMatchObject({ reason: 'ip_not_allowed', ip: '203.0.113.7' })
    expect(ip.received).toHaveLength(1)
  })

  it('treats a truncated 200 body as malformed_response (retried when read-only)', async () => {
    const s = await server(xml(BALANCE.slice(0, 120)))
    expect(await failure(client(s.origin).getBalance(creds(s.origin)))).toMatchObject({ reason: 'malformed_response', delivery: 'unknown' })
    expect(s.received).toHaveLength(3)
  })

  it('treats a connection closed mid-body as reset with delivery unknown', async () => {
    const s = await server((_r, res) => {
      res.writeHead(200, { 'content-length': String(BALANCE.length) })
      res.write(BALANCE.slice(0, 50))
      setTimeout(() => res.socket?.destroy(), 20)
    })
    const err = await failure(client(s.origin, { retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'reset', delivery: 'unknown' })
  })

  it('refuses an answer over maxResponseBytes as malformed_response', async () => {
    const big = BALANCE.replace('<debug>', `<debug>${'x'.repeat(20_000)}`)
    const s = await server(xml(big))
    const err = await failure(client(s.origin, { maxResponseBytes: 4096, retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'malformed_response', delivery: 'unknown', transportCode: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' })
    const chunked = await server((_r, res) => {
      res.writeHead(200)
      for (let i = 0; i < 10; i++) res.write('x'.repeat(1000))
      res.end()
    })
    const err2 = await failure(client(chunked.origin, { maxResponseBytes: 4096, retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(chunked.origin)))
    expect(err2.reason).toBe('malformed_response')
  })
})

describe('timeouts', () => {
  it('times out a server that never answers, delivery unknown, request received once', async () => {
    const s = await server(never)
    const started = Date.now()
    const err = await failure(client(s.origin, { timeoutMs: 200, retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'timeout', delivery: 'unknown', code: 'ENOM_ERR_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(s.received).toHaveLength(1)
  })

  it('times out a body that stalls (bodyTimeoutMs)', async () => {
    const s = await server((_r, res) => {
      res.writeHead(200, { 'content-length': String(BALANCE.length) })
      res.write(BALANCE.slice(0, 40))
    })
    const err = await failure(client(s.origin, { bodyTimeoutMs: 150, retry: { attempts: 1, baseDelayMs: 1 } }).getBalance(creds(s.origin)))
    expect(err).toMatchObject({ reason: 'timeout', delivery: 'unknown', transportCode: 'UND_ERR_BODY_TIMEOUT' })
  })

  it('gives money commands purchaseTimeoutMs and the others timeoutMs', async () => {
    const slow = (body: string): Handler => (req, res, socket) => { setTimeout(() => xml(body)(req, res, socket), 400) }
    const s = await server((req, res, socket) => slow(req.params.get('command') === 'PurchaseServices' ? PURCHASE : BALANCE)(req, res, socket))
    const c = client(s.origin, { timeoutMs: 150, purchaseTimeoutMs: 3_000, retry: { attempts: 1, baseDelayMs: 1 } })
    expect((await c.purchaseServices(creds(s.origin), { service: 'x', numYears: 1 })).certId).toBe('48455')
    expect(await failure(c.getBalance(creds(s.origin)))).toMatchObject({ reason: 'timeout' })
  })

  it('stops a money command at purchaseTimeoutMs, sent once', async () => {
    const s = await server(never)
    const started = Date.now()
    const err = await failure(client(s.origin, { timeoutMs: 50, purchaseTimeoutMs: 400 }).certPurchaseCert(creds(s.origin), { certId: '1', approverEmail: 'a@example.com' }))
    const elapsed = Date.now() - started
    expect(err).toMatchObject({ reason: 'timeout', delivery: 'unknown', retryable: false })
    expect(elapsed).toBeGreaterThanOrEqual(350)
    expect(s.received).toHaveLength(1)
  })

  it('stops when the caller aborts, without retrying', async () => {
    const s = await server(never)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const err = await failure(client(s.origin).getBalance(creds(s.origin), { signal: controller.signal }))
    expect(err).toMatchObject({ reason: 'unknown', delivery: 'unknown', transportCode: 'CALLER_ABORTED', retryable: false })
    expect(s.received).toHaveLength(1)
  })
})
