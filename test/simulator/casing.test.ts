// The simulator must speak eNom's element names with eNom's casing. For every command, the set of
// element names it emits is compared with the fixture of the same answer (test/fixtures/enom, from
// enom-api.md §7), read with fast-xml-parser directly, not with any project code.
import { readFileSync } from 'node:fs'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../src/simulator/app.js'
import {
  COMODO_CSR_FIELDS, buy, configure, enom, expectOk, makeCsr, waitForStatus, type EnomAnswer, type TestCsr
} from './support.js'

const ordered = new XMLParser({ preserveOrder: true, ignoreAttributes: false })

type Ordered = Array<Record<string, unknown>>

/** Every element name in the document, exact casing; numbered CertN/ErrN names collapse to one. */
function elementNames (xml: string): Set<string> {
  const names = new Set<string>()
  const walk = (nodes: Ordered) => {
    for (const n of nodes) {
      for (const [key, value] of Object.entries(n)) {
        if (key === '#text' || key === ':@' || key.startsWith('?')) continue
        names.add(key.replace(/^Cert\d+$/, 'CertN').replace(/^Err\d+$/, 'ErrN'))
        if (Array.isArray(value)) walk(value as Ordered)
      }
    }
  }
  walk(ordered.parse(xml) as Ordered)
  return names
}

// Envelope elements some fixtures lack (older backends) but every simulator answer carries (§2).
const ENVELOPE = new Set(['APIType', 'Language', 'ResponseCount', 'MinPeriod', 'MaxPeriod', 'IsLockable', 'IsRealTimeTLD',
  'TimeDifference', 'ExecTime', 'TrackingKey', 'RequestDateTime'])

const fixture = (name: string) => readFileSync(new URL(`../fixtures/enom/${name}`, import.meta.url), 'utf8')

interface Allowance { mayLack?: string[], mayAdd?: (name: string) => boolean }

function expectSameNames (answer: EnomAnswer, fixtureFile: string, allow: Allowance = {}): void {
  expect(XMLValidator.validate(answer.text), 'simulator XML is well-formed').toBe(true)
  const sim = elementNames(answer.text)
  const fix = elementNames(fixture(fixtureFile))
  const lack = new Set(['debug', ...(allow.mayLack ?? [])])
  const missing = [...fix].filter((n) => !sim.has(n) && !lack.has(n))
  const extra = [...sim].filter((n) => !fix.has(n) && !ENVELOPE.has(n) && !(allow.mayAdd?.(n) ?? false))
  expect({ missing, extra }).toEqual({ missing: [], extra: [] })
}

let sim: RunningSimulator
let csr: TestCsr

beforeAll(async () => {
  sim = await startSimulator({ defaultIssueDelayMs: 60_000 })
  csr = await makeCsr('www.example.com')
})
afterAll(async () => { await sim.close() })

async function configured (service = 'certificate-rapidssl-rapidssl', serverType = 18, extra: Record<string, string> = {}) {
  const certId = await buy(sim, service)
  expectOk(await configure(sim, certId, csr, serverType, extra))
  return certId
}

async function submitted () {
  const certId = await configured()
  expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@example.com' }))
  return certId
}

describe('element names and casing match the eNom fixtures', () => {
  it('GetBalance (F2), with thousands separators and Reseller 1', async () => {
    await sim.state.updateAccount('resellid', { balance: '-1832.23', availableBalance: '6193.37' })
    const a = await enom(sim, { command: 'GetBalance' })
    expectSameNames(a, 'getbalance.success-docs.xml')
    expect(a.root).toMatchObject({ Reseller: '1', Balance: '-1,832.23', AvailableBalance: '6,193.37', Command: 'GETBALANCE' })
    await sim.state.updateAccount('resellid', { balance: '5000' })
  })

  it('CheckLogin (F7), with Reseller True and a braced PartyID', async () => {
    const a = await enom(sim, { command: 'CheckLogin' })
    expectSameNames(a, 'checklogin.success.xml')
    expect(a.root.Reseller).toBe('True')
    expect(a.root.PartyID).toMatch(/^\{[0-9A-F-]{36}\}$/)
  })

  it('GetCerts (F17): numbered CertN products, $ prices, repeated Years', async () => {
    const a = await enom(sim, { command: 'GetCerts' })
    expectSameNames(a, 'getcerts.success.xml')
    expect(a.text).toMatch(/<Cert1>[\s\S]*<Cert2>/)
    expect(a.root.GetCerts.Certs.Cert1).toMatchObject({ ProdCode: 'certificate-rapidssl-rapidssl', ResellerPrice: '$9.95', RetailPrice: '$19.95', QtyDesc: 'Year(s)' })
    expect(a.root.GetCerts.Certs.Cert1.Years).toEqual(['1', '2', '3'])
    expect(a.text).toContain('<Enabled>False</Enabled>')
  })

  it('PE_GetProductPrice (F16): lower-case productprice/price/productenabled', async () => {
    const a = await enom(sim, { command: 'PE_GetProductPrice', ProductType: 23, Years: 2 })
    expectSameNames(a, 'pe_getproductprice.success.xml')
    expect(a.root.productprice).toEqual({ price: '19.90', productenabled: 'True' })
  })

  it('PurchaseServices: top-level lower-case certid and orderid, no declaration', async () => {
    const a = await enom(sim, { command: 'PurchaseServices', Service: 'certificate-rapidssl-rapidssl', NumYears: 1 })
    expectSameNames(a, 'purchaseservices.success-google-apps.xml', {
      mayLack: ['DomainName', 'OrderID', 'VasItemID'],
      mayAdd: (n) => n === 'certid' || n === 'orderid'
    })
    expect(a.text).toMatch(/<certid>\d+<\/certid>/)
    expect(a.text).toMatch(/<orderid>\d+<\/orderid>/)
    expect(a.text).not.toContain('<OrderID>')
    expect(a.text.startsWith('<interface-response>')).toBe(true)
    expect(a.root).toMatchObject({ Success: 'True', OrderAmount: '9.95' })
  })

  it('CertGetCerts (F8), with CertStatusid/prodtype on odd CertIDs and CertStatusID/ProdType on even ones', async () => {
    await buy(sim, 'certificate-comodo-essential')
    await buy(sim, 'certificate-comodo-essential')
    const a = await enom(sim, { command: 'CertGetCerts', PagingPageSize: 250 })
    expectSameNames(a, 'certgetcerts.success-enompro.xml', { mayAdd: (n) => n === 'CertStatusid' || n === 'prodtype' })
    const certs = a.root.CertGetCerts.Certs.Cert as Array<Record<string, string>>
    for (const c of certs) {
      const odd = Number(c.CertID) % 2 === 1
      expect(Object.keys(c)).toContain(odd ? 'CertStatusid' : 'CertStatusID')
      expect(Object.keys(c)).toContain(odd ? 'prodtype' : 'ProdType')
    }
    expect(a.text).toMatch(/<DomainName><!\[CDATA\[/)
    expect(a.root.TotalCertCount).toBe(String(certs.length))
  })

  it('CertConfigureCert (F11)', async () => {
    const certId = await buy(sim, 'certificate-rapidssl-rapidssl')
    const a = await configure(sim, certId, csr, 18)
    expectSameNames(a, 'certconfigurecert.success.xml')
    expect(a.root.CertConfigureCert.Approver.at(-1)).toEqual({ '@_Type': 'Manual' })
    expect(a.root.CertConfigureCert.Approver[0]).toEqual({ '@_Type': 'Domain', ApproverEmail: 'admin@example.com' })
  })

  it('CertGetApproverEMail (F12), capital M', async () => {
    const certId = await configured()
    const a = await enom(sim, { command: 'CertGetApproverEmail', CertID: certId, Domain: 'example.com' })
    expectSameNames(a, 'certgetapproveremail.success.xml')
    expect(a.text).toContain('<CertGetApproverEMail>')
  })

  it('CertPurchaseCert (F13), no declaration', async () => {
    const certId = await configured()
    const a = await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@example.com' })
    expectSameNames(a, 'certpurchasecert.success.xml')
    expect(a.text.startsWith('<interface-response>')).toBe(true)
  })

  it('CertParseCSR (F14)', async () => {
    const a = await enom(sim, { command: 'CertParseCSR', CSR: csr.pem })
    expectSameNames(a, 'certparsecsr.success.xml')
    expect(a.root.CertParseCSR).toMatchObject({ DomainName: 'www.example.com', Organization: 'Example Ltd', State: 'WA', Country: 'US' })
  })

  it('CertGetCertDetail (F9), issued Encryption Everywhere with IncludeIntermediate', async () => {
    const ee = await makeCsr('shop.example.com')
    const certId = await buy(sim, 'certificate-symantec-encryption-everywhere')
    expectOk(await configure(sim, certId, ee, 18, { DVAuthMethod: 'DNS' }))
    expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId }))
    const a = await enom(sim, { command: 'CertGetCertDetail', CertID: certId, IncludeIntermediate: 'true' })
    const contact = /^(Admin|Tech|Billing)(OrgName|JobTitle|FName|LName|Address1|Address2|City|StateProvince|StateProvinceChoice|PostalCode|Country|Phone|Fax|EmailAddress|PhoneExt)$/
    expectSameNames(a, 'certgetcertdetail.success-docs.xml', {
      // §3.4 lists these; the docs example happens to omit them.
      mayAdd: (n) => contact.test(n) || n === 'FileAuthName' || n === 'FileAuthContents'
    })
    expect(a.text).toMatch(/<SSLCertificate><!\[CDATA\[-----BEGIN CERTIFICATE-----/)
  })

  it('CertModifyOrder and CertResendApproverEmail (F15), CertChangeApproverEmail alike', async () => {
    const first = await submitted()
    expectSameNames(await enom(sim, { command: 'CertResendApproverEmail', CertID: first }), 'certresendapproveremail.success.xml')
    const change = await enom(sim, { command: 'CertChangeApproverEmail', CertID: first, ApproverEmail: 'webmaster@example.com' })
    expectSameNames(change, 'certresendapproveremail.success.xml', {
      mayLack: ['CertResendApproverEmail'],
      mayAdd: (n) => n === 'CertChangeApproverEmail'
    })
    expectSameNames(await enom(sim, { command: 'CertModifyOrder', CertID: first }), 'certmodifyorder.success.xml')
  })

  it('Comodo purchase answers with the same CertPurchaseCert names', async () => {
    const comodo = await makeCsr('mail.example.org')
    const certId = await buy(sim, 'certificate-comodo-essential')
    expectOk(await configure(sim, certId, comodo, 1000))
    const a = await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@mail.example.org', ...COMODO_CSR_FIELDS })
    expectSameNames(a, 'certpurchasecert.success.xml')
    expect((await waitForStatus(sim, certId, 9, 0)).CertStatusID).toBe('9')
  })
})

describe('error answers match the error fixtures', () => {
  it('bad credentials (F3)', async () => {
    const a = await enom(sim, { command: 'GetBalance' }, { pw: 'wrong' })
    expectSameNames(a, 'getbalance.auth-failure.xml')
    expect(a.status).toBe(200)
    expect(a.root).toMatchObject({
      ErrCount: '1',
      errors: { Err1: 'Bad User name or Password' },
      responses: { response: [{ ResponseNumber: '304155', ResponseString: 'Validation error; invalid ; loginid' }] },
      Done: 'true'
    })
  })

  it('IP not allowed (F4)', async () => {
    await sim.state.updateAccount('resellid', { allowedIps: ['203.0.113.7'] })
    try {
      const a = await enom(sim, { command: 'GetBalance' })
      expectSameNames(a, 'getbalance.ip-not-allowed.xml')
      expect(a.root.errors.Err1).toBe('User not permitted from this IP address - 127.0.0.1')
      expect(a.root.responses.response[0]).toEqual({ ResponseNumber: '713254', ResponseString: 'Policy error; unauthorized; user(s)' })
    } finally {
      await sim.state.updateAccount('resellid', { allowedIps: ['*'] })
    }
  })

  it('an unparsable CSR (F6): two errors, 620397 twice', async () => {
    const certId = await buy(sim, 'certificate-rapidssl-rapidssl')
    const a = await configure(sim, certId, { pem: '-----BEGIN CERTIFICATE REQUEST-----\nnot a csr\n-----END CERTIFICATE REQUEST-----', spki: Buffer.alloc(0) }, 18)
    expectSameNames(a, 'certconfigurecert.csr-error.xml')
    expect(a.root).toMatchObject({
      ErrCount: '2',
      errors: { Err1: '500 - Unable to parse CSR.', Err2: 'Unable to retrieve CSR information' },
      ResponseCount: '2'
    })
    expect(a.root.responses.response.map((r: { ResponseNumber: string }) => r.ResponseNumber)).toEqual(['620397', '620397'])
  })
})
