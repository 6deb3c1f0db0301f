// The wire protocol (GET and POST, names in any case, Text vs XML answers), start-up time, the
// ledger, and the /_sim control API.
import { Writable } from 'node:stream'
import { XMLValidator } from 'fast-xml-parser'
import { request } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildSimulator, startSimulator, type RunningSimulator } from '../../src/simulator/app.js'
import { buy, configure, control, enom, expectOk, makeCsr } from './support.js'

let sim: RunningSimulator

beforeAll(async () => {
  sim = await startSimulator({ defaultIssueDelayMs: 60_000 })
})
afterAll(async () => { await sim.close() })
beforeEach(() => { sim.state.reset() })

describe('start-up', () => {
  it('startSimulator resolves in well under a second', async () => {
    const started = performance.now()
    const other = await startSimulator()
    const ms = performance.now() - started
    try {
      expect(ms).toBeLessThan(1000)
      expect(other.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/interface\.asp$/)
      expect((await request(`${other.url}/_sim/health`)).statusCode).toBe(200)
    } finally {
      await other.close()
    }
  })

  it('buildSimulator answers through inject without listening', async () => {
    const { app, state } = await buildSimulator({ accounts: [{ uid: 'a', pw: 'b', balance: 12 }] })
    const res = await app.inject({ method: 'GET', url: '/interface.asp?command=getbalance&uid=a&pw=b&responsetype=xml' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('<Balance>12.00</Balance>')
    expect(state.ledger()).toHaveLength(1)
    await app.close()
  })
})

describe('logging', () => {
  it('logs request paths without the query string that carries the password', async () => {
    const lines: string[] = []
    const stream = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
    const logged = await startSimulator({ logger: { level: 'info', stream } })
    try {
      const res = await request(`${logged.apiUrl}?command=GetBalance&uid=resellid&pw=resellpw-secret&responsetype=xml`)
      await res.body.text()
      const head = await request(logged.apiUrl, { method: 'HEAD' })
      expect(head.statusCode).toBe(404)
    } finally {
      await logged.close()
    }
    const log = lines.join('')
    expect(log).toContain('"url":"/interface.asp"')
    expect(log).not.toContain('resellpw-secret')
  })
})

describe('requests', () => {
  it('GET and POST give the same answer', async () => {
    const get = await enom(sim, { command: 'GetBalance' }, { method: 'GET' })
    const post = await enom(sim, { command: 'GetBalance' }, { method: 'POST' })
    expect(get.root.Balance).toBe('5,000.00')
    expect(post.root.Balance).toBe('5,000.00')
    expect(sim.state.ledger().map((e) => e.method)).toEqual(['GET', 'POST'])
  })

  it('takes parameter names and command values in any case', async () => {
    const res = await request(`${sim.apiUrl}?Command=PurchaseServices&UID=resellid&PW=resellpw&ResponseType=XML&SERVICE=Certificate-RapidSSL-RapidSSL&numYEARS=1`)
    const text = await res.body.text()
    expect(text).toMatch(/<certid>\d+<\/certid>/)
    const list = await request(sim.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'command=CertGetcerts&uid=resellid&pw=resellpw&responsetype=xml&pagingpagesize=10'
    })
    const listText = await list.body.text()
    expect(listText).toContain('<Command>CERTGETCERTS</Command>')
    expect(listText).toContain('<PagingPageSize>10</PagingPageSize>')
    expect(sim.state.ledger().map((e) => e.command)).toEqual(['PurchaseServices', 'CertGetCerts'])
  })

  it('answers in eNom\'s Text format when responsetype is not xml', async () => {
    const ok = await request(`${sim.apiUrl}?command=GetBalance&uid=resellid&pw=resellpw`)
    const okText = await ok.body.text()
    expect(okText).toContain('Balance=5,000.00\r\n')
    expect(okText).toContain('ErrCount=0\r\n')
    expect(okText).toMatch(/Done=true\r\n$/)
    const bad = await request(`${sim.apiUrl}?command=GetBalance&uid=resellid&pw=wrong`)
    const badText = await bad.body.text()
    for (const line of ['ErrCount=1', 'Err1=Bad User name or Password', 'ResponseCount=1', 'ResponseNumber1=304155',
      'ResponseString1=Validation error; invalid ; loginid', 'Done=true']) {
      expect(badText).toContain(`${line}\r\n`)
    }
  })

  it('writes US dates, a tracking key and well-formed XML with CDATA and escapes', async () => {
    const certId = await buy(sim, 'certificate-comodo-essential')
    expectOk(await configure(sim, certId, await makeCsr('x.example.com'), 1000, { AdminOrgName: 'Smith & Sons <Ltd> ]]> Co' }))
    const a = await enom(sim, { command: 'CertGetCertDetail', CertID: certId })
    expect(XMLValidator.validate(a.text)).toBe(true)
    expect(a.root.CertGetCertDetail.AdminOrgName).toBe('Smith & Sons <Ltd> ]]> Co')
    expect(a.root.RequestDateTime).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$/)
    expect(a.root.TrackingKey).toMatch(/^[0-9a-f-]{36}$/)
    expect(a.root.CertGetCertDetail.OrderDate).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$/)
  })
})

describe('ledger', () => {
  it('records every request with its outcome, filterable by uid, command and sequence', async () => {
    sim.state.addAccount({ uid: 'second', pw: 'pw2' })
    await enom(sim, { command: 'GetBalance' })
    await enom(sim, { command: 'purchaseservices', Service: 'certificate-rapidssl-rapidssl' })
    await enom(sim, { command: 'GetBalance' }, { uid: 'second', pw: 'pw2' })
    await enom(sim, { command: 'NoSuchCommand' })
    const all = sim.state.ledger()
    expect(all.map((e) => [e.command, e.outcome, e.processed])).toEqual([
      ['GetBalance', 'ok', true], ['PurchaseServices', 'ok', true], ['GetBalance', 'ok', true], ['NoSuchCommand', 'error', false]
    ])
    const purchase = all[1]
    expect(purchase).toMatchObject({ uid: 'resellid', ip: '127.0.0.1', method: 'POST', amount: '9.95', certId: expect.any(Number), orderId: expect.any(Number) })
    expect(new Date(purchase?.at ?? '').toString()).not.toBe('Invalid Date')
    const seqs = all.map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))

    const res = await control(sim, 'GET', `/ledger?uid=second&command=getbalance&sinceSeq=${(all[0]?.seq ?? 0)}`)
    expect(res.body).toHaveLength(1)
    expect(res.body[0]).toMatchObject({ uid: 'second', command: 'GetBalance' })
    expect((await control(sim, 'DELETE', '/ledger')).status).toBe(204)
    expect(sim.state.ledger()).toEqual([])
  })
})

describe('control API', () => {
  it('creates, reads and changes accounts', async () => {
    const created = await control(sim, 'POST', '/accounts', { uid: 'ctl', pw: 'ctlpw', balance: '1,234.50', allowedIps: ['*'], omitCertIdInPurchase: true, issueDelayMs: 10 })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ uid: 'ctl', balance: '1234.50', availableBalance: '1234.50', issueDelayMs: 10, omitCertIdInPurchase: true })
    expect(created.body).not.toHaveProperty('pw')
    expect(created.body.partyId).toMatch(/^\{[0-9A-F-]{36}\}$/)
    expect(created.body.account).toMatch(/^\d{3}-[a-z]{2}-\d{4}$/)
    expect((await control(sim, 'POST', '/accounts', { uid: 'ctl', pw: 'x' })).status).toBe(409)
    expect((await control(sim, 'POST', '/accounts', { uid: 'bad', pw: 'x', balance: 'lots' })).status).toBe(400)

    const buyAnswer = expectOk(await enom(sim, { command: 'PurchaseServices', Service: 'certificate-rapidssl-rapidssl' }, { uid: 'ctl', pw: 'ctlpw' }))
    expect(buyAnswer.orderid).toMatch(/^\d+$/)
    expect(buyAnswer).not.toHaveProperty('certid')

    const patched = await control(sim, 'PATCH', '/accounts/ctl', { balance: -50, pw: 'newpw' })
    expect(patched.body).toMatchObject({ balance: '-50.00', availableBalance: '-50.00' })
    expect(expectOk(await enom(sim, { command: 'GetBalance' }, { uid: 'ctl', pw: 'newpw' })).Balance).toBe('-50.00')
    expect((await control(sim, 'GET', '/accounts/ctl')).body.balance).toBe('-50.00')
    expect((await control(sim, 'GET', '/accounts/none')).status).toBe(404)
    expect((await control(sim, 'PATCH', '/accounts/none', { balance: 1 })).status).toBe(404)
  })

  it('lists certificates and forces statuses; forcing 4 issues the certificate', async () => {
    const certId = await buy(sim, 'certificate-rapidssl-rapidssl')
    const list = await control(sim, 'GET', '/certs?uid=resellid')
    expect(list.body).toEqual([expect.objectContaining({ certId, statusId: 1, status: 'Awaiting Configuration', amount: '9.95', productCode: 'certificate-rapidssl-rapidssl' })])
    expect((await control(sim, 'POST', `/certs/${certId}/status`, { statusId: 4 })).status).toBe(409)

    const csr = await makeCsr('forced.example')
    expectOk(await configure(sim, certId, csr, 18))
    expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@forced.example' }))
    const rejected = await control(sim, 'POST', `/certs/${certId}/status`, { statusId: 6 })
    expect(rejected.body).toMatchObject({ statusId: 6, status: 'Rejected by Customer', frozen: true })
    expect(expectOk(await enom(sim, { command: 'CertGetCertDetail', CertID: certId })).CertGetCertDetail.CertStatusID).toBe('6')
    expectOk(await configure(sim, certId, csr, 18))
    expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@forced.example' }))

    const issued = await control(sim, 'POST', `/certs/${certId}/status`, { statusId: 4 })
    expect(issued.body).toMatchObject({ statusId: 4, certificatePem: expect.stringContaining('BEGIN CERTIFICATE') })
    const d = expectOk(await enom(sim, { command: 'CertGetCertDetail', CertID: certId })).CertGetCertDetail
    expect(d.SSLCertificate).toBe(issued.body.certificatePem.trim())
    const ca = await control(sim, 'GET', '/ca')
    expect(d.CACerts.trim()).toBe(`${ca.body.intermediatePem}\n${ca.body.rootPem}`)

    expect((await control(sim, 'POST', `/certs/${certId}/status`, { statusId: 8 })).body.status).toBe('Refunded - Cert Issued')
    expect((await control(sim, 'POST', `/certs/${certId}/status`, { statusId: 3 })).status).toBe(400)
    expect((await control(sim, 'GET', '/certs/1')).status).toBe(404)
    expect((await control(sim, 'GET', `/certs/${certId}`)).body.statusId).toBe(8)
  })

  it('resets to the start-up accounts and reports health', async () => {
    await buy(sim, 'certificate-rapidssl-rapidssl')
    sim.state.addFault({ htmlPage: true })
    sim.state.addAccount({ uid: 'temp', pw: 'x' })
    expect((await control(sim, 'POST', '/reset')).status).toBe(204)
    expect(sim.state.accounts().map((a) => a.uid)).toEqual(['resellid'])
    expect(sim.state.account('resellid')?.balance).toBe('5000.00')
    expect(sim.state.faults()).toEqual([])
    expect(await sim.state.certs()).toEqual([])
    expect((await control(sim, 'GET', '/health')).body).toEqual({ status: 'ok' })
  })
})
