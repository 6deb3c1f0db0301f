// eNom's refusals: credentials, IP allow-list, money, paging, and every after-sale command outside
// its statuses or its families. Each answer is HTTP 200 with ErrCount and a ResponseNumber.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../src/simulator/app.js'
import {
  COMODO_CSR_FIELDS, buy, configure, contactParams, enom, errorOf, expectOk, makeCsr, type TestCsr
} from './support.js'

let sim: RunningSimulator
let csr: TestCsr

beforeAll(async () => {
  sim = await startSimulator({ defaultIssueDelayMs: 60_000, accounts: [{ uid: 'resellid', pw: 'resellpw', balance: '500.00' }] })
  csr = await makeCsr('www.example.com')
})
afterAll(async () => { await sim.close() })
beforeEach(() => { sim.state.reset() })

const RAPID = 'certificate-rapidssl-rapidssl'
const COMODO = 'certificate-comodo-essential'

async function submitted (service = RAPID, serverType = 18) {
  const certId = await buy(sim, service)
  expectOk(await configure(sim, certId, csr, serverType))
  expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@example.com', ...COMODO_CSR_FIELDS }))
  return certId
}

describe('login', () => {
  it('a wrong password gets 304155 and the ledger never sees the password', async () => {
    const a = await enom(sim, { command: 'GetBalance' }, { pw: 'nope-secret' })
    expect(a.status).toBe(200)
    expect(errorOf(a)).toEqual({ number: '304155', text: 'Bad User name or Password' })
    expect(sim.state.ledger().at(-1)).toMatchObject({ command: 'GetBalance', uid: 'resellid', outcome: 'error', errorNumber: 304155, processed: false })
    expect(JSON.stringify(sim.state.ledger())).not.toContain('nope-secret')
  })

  it('an unknown uid gets the same answer', async () => {
    expect(errorOf(await enom(sim, { command: 'GetBalance' }, { uid: 'nobody' }))?.number).toBe('304155')
  })

  it('a caller outside the allow-list gets 713254 naming the IP the simulator saw', async () => {
    sim.state.updateAccount('resellid', { allowedIps: ['198.51.100.1', '2001:db8::1'] })
    const a = await enom(sim, { command: 'PurchaseServices', Service: RAPID })
    expect(errorOf(a)).toEqual({ number: '713254', text: 'User not permitted from this IP address - 127.0.0.1' })
    expect(sim.state.account('resellid')?.balance).toBe('500.00')
    sim.state.updateAccount('resellid', { allowedIps: ['127.0.0.1'] })
    expect(expectOk(await enom(sim, { command: 'GetBalance' })).Balance).toBe('500.00')
  })

  it('an unknown command is an eNom error', async () => {
    const a = await enom(sim, { command: 'CertCancel' })
    expect(errorOf(a)).toEqual({ number: '304150', text: 'Invalid command: CertCancel' })
    expect(a.root.Command).toBe('CERTCANCEL')
  })
})

describe('buying', () => {
  it('refuses a purchase above the available balance with 524181 and debits nothing', async () => {
    sim.state.updateAccount('resellid', { balance: '1000.00', availableBalance: '50.00' })
    const a = await enom(sim, { command: 'PurchaseServices', Service: 'certificate-comodo-ev', NumYears: 1 })
    expect(errorOf(a)).toEqual({ number: '524181', text: 'Insufficient funds to complete this order' })
    expect(sim.state.account('resellid')).toMatchObject({ balance: '1000.00', availableBalance: '50.00' })
    expect(await sim.state.certs('resellid')).toEqual([])
  })

  it('refuses unknown and disabled products and terms not offered', async () => {
    expect(errorOf(await enom(sim, { command: 'PurchaseServices', Service: 'certificate-nope' }))?.number).toBe('304182')
    expect(errorOf(await enom(sim, { command: 'PurchaseServices', Service: 'certificate-comodo-ev-sgc' }))?.number).toBe('312182')
    expect(errorOf(await enom(sim, { command: 'PurchaseServices', Service: RAPID, NumYears: 5 }))?.number).toBe('303182')
    expect(errorOf(await enom(sim, { command: 'PurchaseServices' }))?.number).toBe('301182')
    expect(errorOf(await enom(sim, { command: 'PE_GetProductPrice', ProductType: 99999 }))?.number).toBe('304182')
    expect(expectOk(await enom(sim, { command: 'PE_GetProductPrice', ProductType: 222 })).productprice.productenabled).toBe('False')
  })
})

describe('CertGetCerts paging', () => {
  it('pages, sorts and filters; refuses a page size above 250', async () => {
    const ids = [await buy(sim, RAPID), await buy(sim, COMODO), await buy(sim, RAPID)]
    expectOk(await configure(sim, ids[1] as number, await makeCsr('b.example.org'), 1000))
    const page = expectOk(await enom(sim, { command: 'CertGetCerts', PagingPageSize: 2, StartPosition: 2, SortBy: 'CertID', SortByDirection: 'Asc' }))
    const certs = page.CertGetCerts.Certs
    expect(certs.Cert.map((c: { CertID: string }) => Number(c.CertID))).toEqual([ids[1], ids[2]])
    expect(certs).toMatchObject({ StartPosition: '2', PagingPageSize: '2', Count: '2', TotalRecords: '3', SortByDirection: 'asc' })

    const byDomain = expectOk(await enom(sim, { command: 'CertGetCerts', DomainNameContains: 'example.org' }))
    expect(byDomain.CertGetCerts.Certs.Cert).toHaveLength(1)
    const byType = expectOk(await enom(sim, { command: 'CertGetCerts', ProdType: 23 }))
    expect(byType.CertGetCerts.Certs).toMatchObject({ ProductType: '23', TotalRecords: '2' })
    expect(byType.TotalCertCount).toBe('3')
    const today = new Date()
    const us = `${today.getUTCMonth() + 1}/${today.getUTCDate()}/${today.getUTCFullYear()}`
    expect(expectOk(await enom(sim, { command: 'CertGetCerts', OrderDateStart: us, OrderDateEnd: us })).CertGetCerts.Certs.TotalRecords).toBe('3')
    expect(expectOk(await enom(sim, { command: 'CertGetCerts', OrderDateEnd: '01/01/2001' })).CertGetCerts.Certs.TotalRecords).toBe('0')

    expect(errorOf(await enom(sim, { command: 'CertGetCerts', PagingPageSize: 251 }))?.number).toBe('303999')
    expect(errorOf(await enom(sim, { command: 'CertGetCerts', PagingPageSize: 250 }))).toBeUndefined()
    expect(errorOf(await enom(sim, { command: 'CertGetCerts', StartPosition: 0 }))?.number).toBe('303999')
    expect(errorOf(await enom(sim, { command: 'CertGetCerts', SortBy: 'Price' }))?.number).toBe('304397')
    expect(errorOf(await enom(sim, { command: 'CertGetCerts', OrderDateStart: '2020-01-01' }))?.number).toBe('304397')
  })

  it('lists only the calling account\'s certificates, and refuses other accounts\' CertIDs', async () => {
    sim.state.addAccount({ uid: 'other', pw: 'otherpw' })
    const mine = await buy(sim, RAPID)
    const theirs = await buy(sim, RAPID, 1, { uid: 'other', pw: 'otherpw' })
    const list = expectOk(await enom(sim, { command: 'CertGetCerts' })).CertGetCerts.Certs.Cert
    expect(list.map((c: { CertID: string }) => Number(c.CertID))).toEqual([mine])
    for (const command of ['CertGetCertDetail', 'CertConfigureCert', 'CertPurchaseCert', 'CertModifyOrder', 'CertReissueCert',
      'CertResendApproverEmail', 'CertChangeApproverEmail', 'CertResendFulfillmentEmail', 'CertGetApproverEmail', 'CertParseCSR']) {
      const a = await enom(sim, { command, CertID: theirs, CSR: csr.pem, Domain: 'example.com' })
      expect(errorOf(a), command).toEqual({ number: '316397', text: `Certificate not found: CertID ${theirs}` })
    }
    expect(errorOf(await enom(sim, { command: 'CertGetCertDetail', CertID: 'abc' }))?.number).toBe('316397')
    expect(errorOf(await enom(sim, { command: 'CertGetCertDetail' }))?.number).toBe('301397')
  })
})

describe('after-sale commands outside their statuses', () => {
  it('refuses cancel/resend/change in Awaiting Configuration, fulfillment/reissue before issue', async () => {
    const certId = await buy(sim, RAPID)
    for (const command of ['CertModifyOrder', 'CertResendApproverEmail', 'CertChangeApproverEmail', 'CertResendFulfillmentEmail']) {
      const a = await enom(sim, { command, CertID: certId, ApproverEmail: 'admin@example.com' })
      expect(errorOf(a), command).toEqual({ number: '306397', text: `${command} is not allowed while the certificate status is Awaiting Configuration` })
    }
    const reissue = await enom(sim, { command: 'CertReissueCert', CertID: certId, CSR: csr.pem })
    expect(errorOf(reissue)?.text).toBe('CertReissueCert is not allowed while the certificate status is Awaiting Configuration')
  })

  it('refuses configure and purchase while Processing, and purchase before configure', async () => {
    const fresh = await buy(sim, RAPID)
    expect(errorOf(await enom(sim, { command: 'CertPurchaseCert', CertID: fresh, ApproverEmail: 'admin@example.com' }))?.number).toBe('306397')
    const certId = await submitted()
    expect(errorOf(await configure(sim, certId, csr, 18))?.text).toBe('CertConfigureCert is not allowed while the certificate status is Processing')
    expect(errorOf(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@example.com' }))?.text)
      .toBe('CertPurchaseCert is not allowed while the certificate status is Processing')
    expect(errorOf(await enom(sim, { command: 'CertResendFulfillmentEmail', CertID: certId }))?.number).toBe('306397')
    expect(errorOf(await enom(sim, { command: 'CertReissueCert', CertID: certId, CSR: csr.pem }))?.number).toBe('306397')
  })

  it('allows cancel/resend/change while Processing; cancelling makes the order configurable again', async () => {
    const certId = await submitted()
    expect(expectOk(await enom(sim, { command: 'CertResendApproverEmail', CertID: certId })).CertResendApproverEmail)
      .toEqual({ ApproverEmail: 'admin@example.com', Success: 'true' })
    const change = await enom(sim, { command: 'CertChangeApproverEmail', CertID: certId, ApproverEmail: 'someone@else.example' })
    expect(errorOf(change)?.number).toBe('304397')
    expectOk(await enom(sim, { command: 'CertChangeApproverEmail', CertID: certId, ApproverEmail: 'postmaster@example.com' }))
    expect((await sim.state.cert(certId))?.approverEmail).toBe('postmaster@example.com')
    expect(expectOk(await enom(sim, { command: 'CertModifyOrder', CertID: certId })).CertModifyOrder.CertID).toBe(String(certId))
    expect(await sim.state.cert(certId)).toMatchObject({ statusId: 1, csrPem: null, approverEmail: null })
    expect(errorOf(await enom(sim, { command: 'CertModifyOrder', CertID: certId }))?.number).toBe('306397')
    expectOk(await configure(sim, certId, csr, 18))
  })

  it('refuses reissue and fulfillment e-mail for Comodo, whatever the status', async () => {
    const certId = await submitted(COMODO, 1000)
    await sim.state.setCertStatus(certId, 4)
    for (const command of ['CertReissueCert', 'CertResendFulfillmentEmail']) {
      const a = await enom(sim, { command, CertID: certId, CSR: csr.pem })
      expect(errorOf(a), command).toEqual({ number: '306182', text: `${command} is not available for SSL Certificate - Comodo Essential` })
    }
  })
})

describe('CertConfigureCert checks', () => {
  it('refuses a web server type of another family', async () => {
    const certId = await buy(sim, RAPID)
    expect(errorOf(await configure(sim, certId, csr, 1000))?.text).toBe('Invalid WebServerType 1000 for SSL Certificate - RapidSSL')
    const comodo = await buy(sim, COMODO)
    expect(errorOf(await configure(sim, comodo, csr, 18))?.number).toBe('304397')
  })

  it('refuses phones that are not +CC.Number', async () => {
    const certId = await buy(sim, RAPID)
    const a = await configure(sim, certId, csr, 18, contactParams({ Phone: '425-274-4500' }))
    expect(errorOf(a)).toEqual({ number: '304145', text: 'Invalid telephone number format' })
  })

  it('fails non-ASCII contacts at GeoTrust, but not at Comodo', async () => {
    const certId = await buy(sim, RAPID)
    const a = await configure(sim, certId, csr, 18, contactParams({ City: 'München' }))
    expect(errorOf(a)).toEqual({ number: '607397', text: 'Failure connecting to GeoTrust API' })
    const comodo = await buy(sim, COMODO)
    expectOk(await configure(sim, comodo, csr, 1000, contactParams({ City: 'München' })))
    expect((await enom(sim, { command: 'CertGetCertDetail', CertID: comodo })).text).toContain('<AdminCity><![CDATA[München]]></AdminCity>')
  })

  it('matches wildcard products with wildcard common names only', async () => {
    const wildcard = await buy(sim, 'certificate-rapidssl-rapidssl-wildcard')
    expect(errorOf(await configure(sim, wildcard, csr, 18))?.number).toBe('304397')
    const plain = await buy(sim, RAPID)
    expect(errorOf(await configure(sim, plain, await makeCsr('*.example.com'), 18))?.text)
      .toBe('SSL Certificate - RapidSSL does not accept a wildcard common name')
  })

  it('takes SANs only for UCC, and at most 100', async () => {
    const rapid = await buy(sim, RAPID)
    expect(errorOf(await configure(sim, rapid, csr, 18, { DomainListNumber: '1', UCCDomainList1: 'a.example.com' }))?.number).toBe('306182')
    const ucc = await buy(sim, 'certificate-comodo-ucc-dv')
    const many: Record<string, string> = { DomainListNumber: '101' }
    for (let i = 1; i <= 101; i++) many[`UCCDomainList${i}`] = `h${i}.example.com`
    expect(errorOf(await configure(sim, ucc, csr, 1000, many))?.number).toBe('303999')
    many.DomainListNumber = '100'
    expectOk(await configure(sim, ucc, csr, 1000, many))
  })

  it('requires the contacts', async () => {
    const certId = await buy(sim, RAPID)
    expect(errorOf(await configure(sim, certId, csr, 18, { BillingEmailAddress: '' }))).toEqual({ number: '301145', text: 'BillingEmailAddress is required' })
  })
})

describe('CertPurchaseCert checks', () => {
  it('wants a listed approver, and only the DCV methods of the product', async () => {
    const certId = await buy(sim, RAPID)
    expectOk(await configure(sim, certId, csr, 18))
    expect(errorOf(await enom(sim, { command: 'CertPurchaseCert', CertID: certId }))?.text).toBe('ApproverEmail is required')
    expect(errorOf(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'me@example.com' }))?.number).toBe('304397')
    const comodo = await buy(sim, COMODO)
    expectOk(await configure(sim, comodo, csr, 1000))
    const dns = await enom(sim, { command: 'CertPurchaseCert', CertID: comodo, DVAuthMethod: 'DNS', ...COMODO_CSR_FIELDS })
    expect(errorOf(dns)).toEqual({ number: '306182', text: 'DVAuthMethod DNS is not available for SSL Certificate - Comodo Essential' })
    const ee = await buy(sim, 'certificate-symantec-encryption-everywhere')
    expectOk(await configure(sim, ee, csr, 18))
    expect(errorOf(await enom(sim, { command: 'CertPurchaseCert', CertID: ee }))?.text).toBe('DVAuthMethod is required')
    expect(errorOf(await enom(sim, { command: 'CertPurchaseCert', CertID: ee, DVAuthMethod: 'Email' }))?.number).toBe('306182')
  })
})
