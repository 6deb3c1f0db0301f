// A certificate's life per family, over HTTP: purchase debits the balance, configure, submit, and
// after the issue delay a real certificate for the CSR's own key that `openssl verify` accepts
// against the chain eNom hands out in CACerts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { x509 } from '../../src/lib/x509.js'
import { startSimulator, type RunningSimulator } from '../../src/simulator/app.js'
import {
  COMODO_CSR_FIELDS, buy, configure, detail, enom, errorOf, expectOk, makeCsr, sleep, waitForStatus, type TestCsr, type Xml
} from './support.js'

const DELAY = 500
let sim: RunningSimulator
let dir: string

beforeAll(async () => {
  sim = await startSimulator({ defaultIssueDelayMs: DELAY })
  dir = mkdtempSync(join(tmpdir(), 'enom-sim-test-'))
})
afterAll(async () => {
  await sim.close()
  rmSync(dir, { recursive: true, force: true })
})

async function balance (): Promise<{ balance: string, available: string }> {
  const root = expectOk(await enom(sim, { command: 'GetBalance' }))
  return { balance: root.Balance, available: root.AvailableBalance }
}

let fileNo = 0
/** Runs `openssl verify -CAfile <CACerts> <SSLCertificate>`; returns its output. */
function opensslVerify (d: Xml): string {
  const n = ++fileNo
  const chain = join(dir, `chain-${n}.pem`)
  const leaf = join(dir, `leaf-${n}.pem`)
  writeFileSync(chain, d.CACerts)
  writeFileSync(leaf, d.SSLCertificate)
  return execFileSync('openssl', ['verify', '-CAfile', chain, leaf], { encoding: 'utf8' })
}

function expectIssuedFor (d: Xml, csr: TestCsr): x509.X509Certificate {
  expect(d.CertStatusID).toBe('4')
  expect(d.CertStatus).toBe('Certificate Issued')
  const cert = new x509.X509Certificate(d.SSLCertificate)
  expect(Buffer.from(cert.publicKey.rawData).equals(csr.spki)).toBe(true)
  expect(opensslVerify(d)).toMatch(/: OK\s*$/)
  return cert
}

function dnsNames (cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension)
  return ext?.names.items.map((n) => n.value) ?? []
}

describe('GeoTrust/RapidSSL', () => {
  it('purchase debits, configure → purchase → Processing → issued after the delay, then reissue and fulfillment', async () => {
    const before = await balance()
    const certId = await buy(sim, 'Certificate-RapidSSL-RapidSSL', 2)
    const after = await balance()
    expect(Number(before.balance.replace(/,/g, '')) - Number(after.balance.replace(/,/g, ''))).toBeCloseTo(19.90, 2)
    expect(Number(before.available.replace(/,/g, '')) - Number(after.available.replace(/,/g, ''))).toBeCloseTo(19.90, 2)

    expect((await detail(sim, certId)).CertStatusID).toBe('1')
    const csr = await makeCsr('www.rapid.example', { rsa: true, sans: ['rapid.example'] })
    const conf = expectOk(await configure(sim, certId, csr, 18)).CertConfigureCert
    expect(conf.Approver.slice(0, 5).map((a: Xml) => a.ApproverEmail)).toEqual([
      'admin@rapid.example', 'administrator@rapid.example', 'hostmaster@rapid.example', 'postmaster@rapid.example', 'webmaster@rapid.example'
    ])
    const configured = await detail(sim, certId)
    expect(configured).toMatchObject({ CertStatusID: '1', WebServerTypeID: '18', WebServerTypeName: 'Other', DomainName: 'www.rapid.example', SSLCertificate: '' })
    expect(configured.CSR).toBe(csr.pem.trim())

    const purchase = expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@rapid.example' })).CertPurchaseCert
    expect(purchase).toMatchObject({ Success: 'True', CertID: String(certId), ApproverEmail: 'admin@rapid.example' })
    expect(purchase.GeoTrustOrderID).toMatch(/^\d{8}$/)
    const processing = await detail(sim, certId)
    expect(processing).toMatchObject({ CertStatusID: '2', CertStatus: 'Processing', SSLCertificate: '', CACerts: '' })

    const issued = await waitForStatus(sim, certId, 4)
    const cert = expectIssuedFor(issued, csr)
    expect(cert.subjectName.getField('CN')).toEqual(['www.rapid.example'])
    expect(dnsNames(cert).sort()).toEqual(['rapid.example', 'www.rapid.example'])
    expect(issued.ExpirationDate).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M$/)

    expectOk(await enom(sim, { command: 'CertResendFulfillmentEmail', CertID: certId }))

    const fresh = await makeCsr('www.rapid.example')
    const reissue = expectOk(await enom(sim, { command: 'CertReissueCert', CertID: certId, CSR: fresh.pem })).CertReissueCert
    expect(reissue.Success).toBe('True')
    expect((await detail(sim, certId)).ReissueStatus).toBe('Processing')
    await sleep(DELAY + 50)
    const reissued = await detail(sim, certId)
    expect(reissued.ReissueStatus).toBe('Completed')
    expectIssuedFor(reissued, fresh)
  })

  it('a wildcard product issues for *.domain', async () => {
    const certId = await buy(sim, 'certificate-rapidssl-rapidssl-wildcard')
    const csr = await makeCsr('*.wild.example')
    expectOk(await configure(sim, certId, csr, 21))
    expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'hostmaster@wild.example' }))
    const cert = expectIssuedFor(await waitForStatus(sim, certId, 4), csr)
    expect(dnsNames(cert)).toEqual(['*.wild.example'])
  })

  it('File validation on RapidSSL hands out the file to publish', async () => {
    const certId = await buy(sim, 'certificate-rapidssl-rapidssl')
    expectOk(await configure(sim, certId, await makeCsr('files.example'), 18))
    const p = expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, DVAuthMethod: 'File' })).CertPurchaseCert
    expect(p).toMatchObject({ DVAuthMethod: 'File', FileAuthName: 'fileauth.txt' })
    expect(p.FileAuthContents).toMatch(/^\w{20,}$/)
  })
})

describe('Comodo', () => {
  it('needs the CSR fields, then Approval Email Sent → Approved by Domain Owner → Certificate Issued', async () => {
    const delay = 900
    await sim.state.updateAccount('resellid', { issueDelayMs: delay })
    try {
      const certId = await buy(sim, 'certificate-comodo-essential')
      const csr = await makeCsr('www.comodo.example')
      expectOk(await configure(sim, certId, csr, 1000))
      const missing = await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@comodo.example' })
      expect(errorOf(missing)).toEqual({ number: '301397', text: 'CSRAddress1 is required' })

      const started = Date.now()
      expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@comodo.example', ...COMODO_CSR_FIELDS }))
      expect(await detail(sim, certId)).toMatchObject({ CertStatusID: '9', CertStatus: 'Approval Email Sent' })
      await sleep(delay / 2 + 100 - (Date.now() - started))
      expect(await detail(sim, certId)).toMatchObject({ CertStatusID: '10', CertStatus: 'Approved by Domain Owner', SSLCertificate: '' })
      expectIssuedFor(await waitForStatus(sim, certId, 4), csr)
    } finally {
      await sim.state.updateAccount('resellid', { issueDelayMs: DELAY })
    }
  })
})

describe('UCC', () => {
  it('issues one certificate covering the UCC domain list', async () => {
    const certId = await buy(sim, 'certificate-comodo-ucc-dv')
    const csr = await makeCsr('www.multi.example')
    expectOk(await configure(sim, certId, csr, 1002, {
      DomainListNumber: '2',
      UCCDomainList1: 'shop.multi.example',
      UCCEmailList1: 'admin@shop.multi.example',
      UCCDomainList2: 'other.example',
      UCCEmailList2: 'webmaster@other.example'
    }))
    expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@multi.example', ...COMODO_CSR_FIELDS }))
    const issued = await waitForStatus(sim, certId, 4)
    expect(issued.DomainList).toBe('shop.multi.example,other.example')
    const cert = expectIssuedFor(issued, csr)
    expect(dnsNames(cert).sort()).toEqual(['other.example', 'shop.multi.example', 'www.multi.example'])
  })
})

describe('Encryption Everywhere', () => {
  it('issues at once: CertPurchaseCert carries the certificate, no approver needed', async () => {
    const certId = await buy(sim, 'certificate-symantec-encryption-everywhere')
    const csr = await makeCsr('blog.ee.example')
    const conf = expectOk(await configure(sim, certId, csr, 18, { DVAuthMethod: 'DNS' })).CertConfigureCert
    expect(conf.DVAuthMethod).toBe('DNS')
    expect(conf.DNSAuthAddress).toMatch(/^s\d{14}\.blog\.ee\.example$/)
    const p = expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId })).CertPurchaseCert
    expect(p).toMatchObject({ CertType: 'ICA1', DNSAuthEntry: conf.DNSAuthEntry, DNSAuthAddress: conf.DNSAuthAddress })
    expect(Number(p.ValidityPeriodDays)).toBe(365)
    const leaf = new x509.X509Certificate(p.SSLCertificate)
    expect(leaf.serialNumber.toLowerCase()).toBe(p.CertSerialNum.toLowerCase())
    const d = await detail(sim, certId, { IncludeIntermediate: 'true' })
    expect(d.IntermediateCertificates.ICA1).toBe((await sim.state.ca()).intermediatePem)
    expectIssuedFor(d, csr)
  })
})

describe('validity', () => {
  it('a two-year order is capped at 397 days of certificate validity, as public CAs must', async () => {
    const certId = await buy(sim, 'certificate-geotrust-quickssl', 2)
    const csr = await makeCsr('long.example')
    expectOk(await configure(sim, certId, csr, 18))
    expectOk(await enom(sim, { command: 'CertPurchaseCert', CertID: certId, ApproverEmail: 'admin@long.example' }))
    const cert = expectIssuedFor(await waitForStatus(sim, certId, 4), csr)
    expect(Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000)).toBe(397)
    expect((await detail(sim, certId)).ValidityPeriod).toBe('24')
  })
})
