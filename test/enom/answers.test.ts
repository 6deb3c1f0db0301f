// Fixtures of test/fixtures/enom read verbatim through the command they answer: account,
// catalogue and purchase commands, and the error fixtures.
import { describe, expect, it } from 'vitest'
import { readAnswer } from '../../src/enom/answer.js'
import { checkLogin, getBalance } from '../../src/enom/commands/account.js'
import { getCerts, getProductPrice, purchaseServices } from '../../src/enom/commands/catalogue.js'
import { certConfigureCert, type ConfigureInput } from '../../src/enom/commands/configure.js'
import { parseMoney } from '../../src/enom/values.js'
import { parseEnvelope } from '../../src/enom/xml.js'
import { caught, contact, CSR, envelope } from './harness.js'
import { fixture } from './support.js'

const opts = { maxBytes: 2 * 1024 * 1024 }
const configureInput: ConfigureInput = { certId: '725899', webServerType: 18, csr: CSR, contacts: { admin: contact, tech: contact, billing: contact } }

describe('GetBalance', () => {
  it('reads F1 (BENSIE) with thousands separators as exact decimals', () => {
    expect(readAnswer(getBalance, fixture('getbalance.success-bensie.xml'), undefined, opts))
      .toEqual({ balance: '3709.20', availableBalance: '3669.40', reseller: true, domainCount: 74 })
  })

  it('reads F2 (docs, full envelope)', () => {
    expect(readAnswer(getBalance, fixture('getbalance.success-docs.xml'), undefined, opts))
      .toEqual({ balance: '2261.65', availableBalance: '1939.50', reseller: true, domainCount: 2943 })
  })

  it('keeps a negative balance next to a positive available balance', () => {
    const body = fixture('getbalance.success-docs.xml')
      .replace('<Balance>2,261.65</Balance>', '<Balance>-1,832.23</Balance>')
      .replace('<AvailableBalance>1,939.50</AvailableBalance>', '<AvailableBalance>6,193.37</AvailableBalance>')
    const b = readAnswer(getBalance, body, undefined, opts)
    expect(b.balance).toBe('-1832.23')
    expect(b.availableBalance).toBe('6193.37')
  })

  it('is malformed when the balance is not money', () => {
    const body = fixture('getbalance.success-bensie.xml').replace('3,709.20', 'lots')
    const err = caught(() => readAnswer(getBalance, body, undefined, opts))
    expect(err.reason).toBe('malformed_response')
    expect(err.delivery).toBe('unknown')
    expect(err.message).toContain('<Balance> is not an amount of money')
  })

  it('is malformed, not a partial success, when Balance is missing', () => {
    const body = fixture('getbalance.success-bensie.xml').replace('<Balance>3,709.20</Balance>', '')
    const err = caught(() => readAnswer(getBalance, body, undefined, opts))
    expect(err.code).toBe('ENOM_ERR_MALFORMED_RESPONSE')
    expect(err.message).toContain('required properties balance')
  })
})

describe('error fixtures', () => {
  it('F3: auth failure', () => {
    const err = caught(() => readAnswer(getBalance, fixture('getbalance.auth-failure.xml'), undefined, opts))
    expect(err).toMatchObject({
      code: 'ENOM_ERR_AUTH',
      reason: 'auth',
      command: 'GetBalance',
      delivery: 'processed',
      retryable: false,
      responseNumbers: ['304155'],
      enomMessages: ['Bad User name or Password']
    })
  })

  it('F4: IP not allowed, with the IP eNom saw', () => {
    const err = caught(() => readAnswer(getBalance, fixture('getbalance.ip-not-allowed.xml'), undefined, opts))
    expect(err).toMatchObject({ code: 'ENOM_ERR_IP_NOT_ALLOWED', ip: '203.0.113.7', responseNumbers: ['713254'], delivery: 'processed' })
    expect(err.message).toContain('203.0.113.7')
  })

  it('F5: validation error from the eNom-family interface', () => {
    const err = caught(() => readAnswer(getBalance, fixture('setdnshost.error-domain-not-active.xml'), undefined, opts))
    expect(err).toMatchObject({ reason: 'validation', responseNumbers: ['316154'], enomMessages: ['Domain name not active'] })
  })

  it('F6: CSR error with ErrCount 2 keeps both texts and numbers', () => {
    const err = caught(() => readAnswer(certConfigureCert, fixture('certconfigurecert.csr-error.xml'), configureInput, opts))
    expect(err).toMatchObject({
      code: 'ENOM_ERR_CSR',
      delivery: 'processed',
      retryable: false,
      enomMessages: ['500 - Unable to parse CSR.', 'Unable to retrieve CSR information'],
      responseNumbers: ['620397', '620397']
    })
  })
})

describe('CheckLogin', () => {
  it('reads F7', () => {
    expect(readAnswer(checkLogin, fixture('checklogin.success.xml'), undefined, opts)).toEqual({
      partyId: '{BB4A2DE1-6485-45CB-A4FC-EE39BA0C1629}', account: '217-no-0647', reseller: true, parentAccount: '000-00-0000'
    })
  })
})

describe('PurchaseServices', () => {
  it('reads F10 (<OrderID> mixed case, OrderAmount)', () => {
    expect(readAnswer(purchaseServices, fixture('purchaseservices.success-google-apps.xml'), { service: 'x', numYears: 1 }, opts))
      .toEqual({ orderId: '162046629', orderAmount: '4.50' })
  })

  it('reads the lower-case <certid>/<orderid> that SSL purchases are expected to carry', () => {
    const body = fixture('purchaseservices.success-google-apps.xml').replace('<OrderID>162046629</OrderID>', '<certid>48455</certid><orderid>162046629</orderid>')
    expect(readAnswer(purchaseServices, body, { service: 'x', numYears: 1 }, opts))
      .toEqual({ certId: '48455', orderId: '162046629', orderAmount: '4.50' })
  })

  it('is malformed when a success names neither id', () => {
    const body = fixture('purchaseservices.success-google-apps.xml').replace('<OrderID>162046629</OrderID>', '')
    const err = caught(() => readAnswer(purchaseServices, body, { service: 'x', numYears: 1 }, opts))
    expect(err).toMatchObject({ reason: 'malformed_response', delivery: 'unknown', retryable: false })
  })
})

describe('PE_GetProductPrice', () => {
  it('reads F16 (lower-case elements)', () => {
    expect(readAnswer(getProductPrice, fixture('pe_getproductprice.success.xml'), { productType: 23, years: 1 }, opts))
      .toEqual({ price: '8.95', enabled: true })
  })
})

describe('GetCerts', () => {
  it('reads F17: $ prices, repeated Years, numbered Cert1/Cert2 with Cert2 elided', () => {
    expect(readAnswer(getCerts, fixture('getcerts.success.xml'), undefined, opts)).toEqual({
      reseller: true,
      products: [{
        prodCode: 'certificate-rapidssl-rapidssl',
        prodType: 23,
        prodDesc: 'SSL Certificate - RapidSSL',
        qtyDesc: 'Year(s)',
        retailPrice: '19.95',
        resellerPrice: '9.95',
        enabled: true,
        years: [1, 2, 3]
      }],
      skipped: 1
    })
  })

  it('orders numbered products by number', () => {
    const product = (n: number, code: string) => `<Cert${n}><ProdCode>${code}</ProdCode><ProdType>${n}</ProdType><ProdDesc>d</ProdDesc>` +
      `<RetailPrice>$1,019.95</RetailPrice><ResellerPrice>$9.95</ResellerPrice><Enabled>False</Enabled><Years>1</Years></Cert${n}>`
    const body = envelope(`<GetCerts><Reseller>True</Reseller><Certs>${product(2, 'b')}${product(10, 'c')}${product(1, 'a')}</Certs></GetCerts>`)
    const c = readAnswer(getCerts, body, undefined, opts)
    expect(c.products.map((p) => p.prodCode)).toEqual(['a', 'b', 'c'])
    expect(c.products[0]).toMatchObject({ retailPrice: '1019.95', enabled: false, years: [1] })
  })
})

describe('F18: generic real success envelope', () => {
  it('passes the envelope check and its TotalCharged reads as exact money', () => {
    const env = parseEnvelope(fixture('purchase.success-domain.xml'), opts.maxBytes)
    expect(env.errCount).toBe(0)
    expect(env.command).toBe('PURCHASE')
    const charged = env.root.children.find((c) => c.name === 'totalcharged')?.text ?? ''
    expect(parseMoney(charged)).toBe('15.60')
  })
})
