// Fixtures of test/fixtures/enom read verbatim through the certificate commands they answer,
// with the casing and shape variants eNom is known to produce.
import { describe, expect, it } from 'vitest'
import { readAnswer } from '../../src/enom/answer.js'
import { certChangeApproverEmail, certModifyOrder, certReissueCert, certResendApproverEmail, certResendFulfillmentEmail } from '../../src/enom/commands/after-sale.js'
import { certGetCertDetail, certGetCerts } from '../../src/enom/commands/certs.js'
import { certConfigureCert, certGetApproverEmail, certParseCsr, certPurchaseCert, type ConfigureInput } from '../../src/enom/commands/configure.js'
import { caught, contact, CSR, envelope } from './harness.js'
import { fixture } from './support.js'

const opts = { maxBytes: 2 * 1024 * 1024 }
const configureInput: ConfigureInput = { certId: '725899', webServerType: 18, csr: CSR, contacts: { admin: contact, tech: contact, billing: contact } }

describe('CertGetCerts', () => {
  const f8 = fixture('certgetcerts.success-enompro.xml')
  const expected = {
    certId: '29036',
    orderId: '161857490',
    orderDate: '6/2/2015',
    domainName: 'mycircletree.com',
    prodType: 26,
    prodDesc: 'SSL Certificate - GeoTrust QuickSSL',
    statusId: 2,
    statusText: 'Processing',
    expirationDate: '6/2/2016',
    validityPeriodMonths: 12,
    isExpired: false
  }

  it('reads F8 (real capture) with its paging fields', () => {
    expect(readAnswer(certGetCerts, f8, {}, opts)).toEqual({ certs: [expected], totalRecords: 4059, startPosition: 1, pageSize: 10 })
  })

  it.each([
    ['CertStatusid', (t: string) => t.replaceAll('CertStatusID', 'CertStatusid')],
    ['certstatusid', (t: string) => t.replaceAll('CertStatusID', 'certstatusid')],
    ['prodtype', (t: string) => t.replaceAll('ProdType', 'prodtype')],
    ['all lower-case', (t: string) => t.replace(/<(\/?)([A-Za-z]+)/g, (_m, slash: string, name: string) => `<${slash}${name === 'interface' ? name : name.toLowerCase()}`)]
  ])('reads the %s casing variant the same way', (_name, variant) => {
    expect(readAnswer(certGetCerts, variant(f8), {}, opts).certs).toEqual([expected])
  })

  it('keys status on the id and keeps the text as written ("Cert Issued" with id 7, as in the docs)', () => {
    const body = f8.replace('<CertStatus>Processing</CertStatus>', '<CertStatus>Cert Issued</CertStatus>')
      .replace('<CertStatusID>2</CertStatusID>', '<CertStatusID>7</CertStatusID>')
    const [cert] = readAnswer(certGetCerts, body, {}, opts).certs
    expect(cert).toMatchObject({ statusId: 7, statusText: 'Cert Issued' })
  })

  it('reads several certs, an empty list, and TotalCertCount when paging is absent', () => {
    const two = envelope('<CertGetCerts><Certs><Cert><CertID>1</CertID></Cert><Cert><CertID>2</CertID><CertStatusID>4</CertStatusID></Cert></Certs></CertGetCerts><TotalCertCount>2</TotalCertCount>')
    expect(readAnswer(certGetCerts, two, { startPosition: 1, pageSize: 25 }, opts)).toEqual({
      certs: [{ certId: '1' }, { certId: '2', statusId: 4 }], totalRecords: 2, startPosition: 1, pageSize: 25
    })
    const none = envelope('<CertGetCerts><Certs><TotalRecords>0</TotalRecords></Certs></CertGetCerts>')
    expect(readAnswer(certGetCerts, none, {}, opts).certs).toEqual([])
  })

  it('is malformed when a cert has no CertID or a bad status id', () => {
    expect(caught(() => readAnswer(certGetCerts, f8.replace('<CertID>29036</CertID>', ''), {}, opts)).reason).toBe('malformed_response')
    expect(caught(() => readAnswer(certGetCerts, f8.replace('<CertStatusID>2<', '<CertStatusID>two<'), {}, opts)).reason).toBe('malformed_response')
  })
})

describe('CertGetCertDetail', () => {
  it('reads F9: CDATA, elided text, ICA1, PVT, empty CACerts', () => {
    const d = readAnswer(certGetCertDetail, fixture('certgetcertdetail.success-docs.xml'), { certId: '726347' }, opts)
    expect(d).toEqual({
      certId: '726347',
      orderId: '267562392',
      domainName: 'buditest.com',
      prodType: 286,
      prodDesc: 'Symantec Encryption Everywhere',
      statusId: 1,
      statusText: 'Awaiting Configuration',
      orderDate: '12/15/2016 5:13:02 PM',
      expirationDate: '12/15/2017 5:13:02 PM',
      validityPeriodMonths: 12,
      webServerTypeId: 18,
      dvAuthMethod: 'DNS',
      dnsAuthEntry: 's23lxkrm431e2d23d1188qij441a',
      dnsAuthAddress: 's20201215064552.buditest.com',
      certificate: '-----BEGIN CERTIFICATE-----\nMIIFpTCCBI2gAwIBAgIQV9OHOE3c6nT93ARUn2LWozANBgkq1kiG9w0BAQsFADCB…\n-----END CERTIFICATE-----',
      intermediates: ['-----BEGIN CERTIFICATE-----…-----END CERTIFICATE-----'],
      csr: '-----BEGIN NEW CERTIFICATE REQUEST-----…-----END NEW CERTIFICATE REQUEST-----',
      privateKey: '-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----'
    })
    expect(d.caCerts).toBeUndefined()
  })

  it('orders ICA elements by number and reads CACerts and DomainList', () => {
    const body = envelope('<CertGetCertDetail><CertID>9</CertID><CertStatusID>4</CertStatusID><SSLCertificate><![CDATA[-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----]]></SSLCertificate>' +
      '<CACerts><![CDATA[-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----]]></CACerts>' +
      '<IntermediateCertificates><ICA2><![CDATA[B]]></ICA2><ICA1><![CDATA[A]]></ICA1><ICA10><![CDATA[J]]></ICA10></IntermediateCertificates>' +
      '<DomainList><Domain>a.example.com</Domain><Domain>b.example.com</Domain></DomainList></CertGetCertDetail>')
    const d = readAnswer(certGetCertDetail, body, { certId: '9' }, opts)
    expect(d.intermediates).toEqual(['A', 'B', 'J'])
    expect(d.certificate).toBe('-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----')
    expect(d.caCerts).toBe('-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----')
    expect(d.domainList).toEqual(['a.example.com', 'b.example.com'])
  })

  it('asks for intermediates only when told to', () => {
    expect(certGetCertDetail.params({ certId: '9' })).toEqual([['CertID', '9']])
    expect(certGetCertDetail.params({ certId: '9', includeIntermediate: true })).toEqual([['CertID', '9'], ['IncludeIntermediate', 'true']])
  })

  it('decodes entities in text but not inside CDATA', () => {
    const body = envelope('<CertGetCertDetail><CertID>9</CertID><ProdDesc>A &amp; B &#233;</ProdDesc><DomainName><![CDATA[x&amp;y]]></DomainName></CertGetCertDetail>')
    const d = readAnswer(certGetCertDetail, body, { certId: '9' }, opts)
    expect(d.prodDesc).toBe('A & B é')
    expect(d.domainName).toBe('x&amp;y')
  })
})

describe('CertConfigureCert', () => {
  it('reads F11: CSR data and approvers, dropping the empty Manual entry', () => {
    expect(readAnswer(certConfigureCert, fixture('certconfigurecert.success.xml'), configureInput, opts)).toEqual({
      certId: '725899',
      prodType: 23,
      csrData: {
        success: true,
        organization: 'rightside.co',
        domainName: 'resellerdocs.com',
        hasBadExtensions: false,
        locality: 'kirkland',
        organizationUnit: 'dev',
        state: 'wa',
        country: 'US'
      },
      approvers: [{ type: 'Domain', email: 'admin@resellerdocs.com' }, { type: 'Generic', email: 'webmaster@resellerdocs.com' }]
    })
  })
})

describe('CertGetApproverEmail', () => {
  it('reads F12 (<CertGetApproverEMail>, capital M)', () => {
    expect(readAnswer(certGetApproverEmail, fixture('certgetapproveremail.success.xml'), { certId: '1', domain: 'example.com' }, opts)).toEqual({
      approvers: [{ type: 'Domain', email: 'admin@example.com' }, { type: 'Generic', email: 'hostmaster@example.com' }]
    })
  })
})

describe('CertPurchaseCert', () => {
  it('reads F13 (no XML declaration)', () => {
    expect(readAnswer(certPurchaseCert, fixture('certpurchasecert.success.xml'), { certId: '48455' }, opts)).toEqual({
      certId: '48455', success: true, geoTrustOrderId: '14228176', approverEmail: 'admin@example.com'
    })
  })

  it('reads the Encryption Everywhere variant with its certificate and serial', () => {
    const body = envelope('<CertPurchaseCert><Success>True</Success><CertID>726342</CertID><GeoTrustOrderID>1003094224</GeoTrustOrderID>' +
      '<ValidityPeriodDays>365</ValidityPeriodDays><SealInfo></SealInfo><CertType>ICA1</CertType><CertSerialNum>0a1b</CertSerialNum>' +
      '<SSLCertificate>-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----</SSLCertificate></CertPurchaseCert>')
    expect(readAnswer(certPurchaseCert, body, { certId: '726342' }, opts)).toEqual({
      certId: '726342',
      success: true,
      geoTrustOrderId: '1003094224',
      serialNumber: '0a1b',
      certificate: '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----'
    })
  })
})

describe('CertParseCSR', () => {
  it('reads F14', () => {
    expect(readAnswer(certParseCsr, fixture('certparsecsr.success.xml'), { csr: CSR }, opts)).toEqual({
      success: true,
      organization: 'rightside.co',
      domainName: 'buditest.com',
      hasBadExtensions: false,
      locality: 'kirkland',
      organizationUnit: 'dev',
      state: 'wa',
      country: 'US'
    })
  })
})

describe('after-sale commands', () => {
  it('F15: CertModifyOrder', () => {
    expect(readAnswer(certModifyOrder, fixture('certmodifyorder.success.xml'), { certId: '48455' }, opts)).toEqual({ certId: '48455' })
  })

  it('F15: CertResendApproverEmail (CDATA address, lower-case true)', () => {
    expect(readAnswer(certResendApproverEmail, fixture('certresendapproveremail.success.xml'), { certId: '1' }, opts))
      .toEqual({ success: true, approverEmail: 'admin@example.com' })
  })

  it('CertChangeApproverEmail has the same shape', () => {
    const body = fixture('certresendapproveremail.success.xml').replaceAll('CertResendApproverEmail', 'CertChangeApproverEmail')
    expect(readAnswer(certChangeApproverEmail, body, { certId: '1', approverEmail: 'a@example.com' }, opts))
      .toEqual({ success: true, approverEmail: 'admin@example.com' })
  })

  it('reissue and resend-fulfillment read Success with or without a wrapper', () => {
    expect(readAnswer(certReissueCert, envelope('<Success>True</Success><Message />'), { certId: '1', csr: CSR }, opts)).toEqual({ success: true })
    expect(readAnswer(certReissueCert, envelope('<CertReissueCert><Success>False</Success><Message>Not allowed</Message></CertReissueCert>'), { certId: '1', csr: CSR }, opts))
      .toEqual({ success: false, message: 'Not allowed' })
    expect(readAnswer(certResendFulfillmentEmail, envelope('<Success>True</Success>'), { certId: '1' }, opts)).toEqual({ success: true })
    expect(caught(() => readAnswer(certResendFulfillmentEmail, envelope(''), { certId: '1' }, opts)).reason).toBe('malformed_response')
  })
})
