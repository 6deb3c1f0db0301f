// The envelope check: what counts as a complete eNom answer, and every malformed shape that
// must be refused rather than read as a partial success.
import { describe, expect, it } from 'vitest'
import { readAnswer } from '../../src/enom/answer.js'
import { getBalance } from '../../src/enom/commands/account.js'
import { purchaseServices } from '../../src/enom/commands/catalogue.js'
import { EnomError } from '../../src/enom/errors.js'
import { child, children, EnvelopeError, MAX_REFERENCES, MAX_TAGS, numbered, parseEnvelope, parseXml } from '../../src/enom/xml.js'
import { fixture } from './support.js'

const MAX = 2 * 1024 * 1024
const balance = fixture('getbalance.success-bensie.xml')

function refusal (body: string, max = MAX): string {
  try {
    parseEnvelope(body, max)
  } catch (e) {
    if (e instanceof EnvelopeError) return e.detail
    throw e
  }
  throw new Error('expected the envelope to be refused')
}

describe('parseXml', () => {
  it('lower-cases names, keeps attributes, lists repeated and numbered elements', () => {
    const root = parseXml('<R><Approver Type="Domain"><ApproverEmail>a@x.com</ApproverEmail></Approver><APPROVER type="Generic"/><Err2>b</Err2><Err1>a</Err1><Err10>c</Err10><ErrCount>3</ErrCount></R>', MAX)
    expect(root.name).toBe('r')
    expect(children(root, 'approver').map((a) => a.attributes.type)).toEqual(['Domain', 'Generic'])
    expect(numbered(root, 'Err').map((e) => e.text)).toEqual(['a', 'b', 'c'])
    expect(child(root, 'errcount')?.text).toBe('3')
  })

  it('reads CDATA and decodes the five XML entities and character references in text', () => {
    const root = parseXml('<r><a>x &lt;&gt; &amp; &quot;&apos; &#65;&#x42;</a><b><![CDATA[<raw> &amp;]]></b><c v="1 &amp; 2"/></r>', MAX)
    expect(child(root, 'a')?.text).toBe('x <> & "\' AB')
    expect(child(root, 'b')?.text).toBe('<raw> &amp;')
    expect(child(root, 'c')?.attributes.v).toBe('1 & 2')
  })

  it('accepts a byte-order mark and an XML declaration', () => {
    expect(parseXml('\uFEFF<?xml version="1.0" encoding="utf-8"?>\n<r/>', MAX).name).toBe('r')
  })
})

describe('parseEnvelope: complete answers', () => {
  it('reads ErrCount, Command and an empty error block', () => {
    const env = parseEnvelope(balance, MAX)
    expect(env).toMatchObject({ errCount: 0, errors: [], responses: [], command: 'GETBALANCE' })
  })

  it('reads several Err and response entries in order (F6)', () => {
    const env = parseEnvelope(fixture('certconfigurecert.csr-error.xml'), MAX)
    expect(env.errCount).toBe(2)
    expect(env.errors).toEqual(['500 - Unable to parse CSR.', 'Unable to retrieve CSR information'])
    expect(env.responses).toEqual([
      { number: '620397', text: 'System error; failed to send; SSL Certificate' },
      { number: '620397', text: 'System error; failed to send; SSL Certificate' }
    ])
  })

  it('accepts the docs examples that end without </interface-response> once <Done> was read', () => {
    // F9-F15 are verbatim doc examples lacking the root's closing tag; <Done> is present.
    for (const name of ['certgetcertdetail.success-docs.xml', 'certconfigurecert.success.xml', 'certpurchasecert.success.xml']) {
      expect(parseEnvelope(fixture(name), MAX).errCount).toBe(0)
    }
    const cutAfterDone = balance.slice(0, balance.indexOf('</Done>') + '</Done>'.length)
    expect(parseEnvelope(cutAfterDone, MAX).errCount).toBe(0)
  })
})

describe('parseEnvelope: malformed answers', () => {
  it('refuses a document truncated inside an element', () => {
    expect(refusal(balance.slice(0, balance.indexOf('3,709') + 3))).toMatch(/not well-formed XML/)
  })

  it('refuses a document truncated between elements before <Done>', () => {
    expect(refusal(balance.slice(0, balance.indexOf('<Command>')))).toMatch(/no <Done>/)
  })

  it('refuses a truncated purchase answer even though its ids were already complete', () => {
    const body = fixture('purchaseservices.success-google-apps.xml')
    const cut = body.slice(0, body.indexOf('<Command>'))
    const err = (() => {
      try {
        readAnswer(purchaseServices, cut, { service: 'x', numYears: 1 }, { maxBytes: MAX })
      } catch (e) { return e }
      return undefined
    })()
    expect(err).toBeInstanceOf(EnomError)
    expect(err).toMatchObject({ reason: 'malformed_response', delivery: 'unknown', retryable: false })
  })

  it('refuses a well-formed HTML 502 page by its root', () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>'
    expect(refusal(html)).toBe('response is an HTML page, not <interface-response>')
  })

  it('refuses an HTML page that is not XML at all', () => {
    expect(refusal('<!DOCTYPE html><html><body><hr><p>Bad Gateway</body></html>')).toMatch(/document type declaration/)
    expect(refusal('<html><body><hr><p>Bad Gateway</body></html>')).toMatch(/not well-formed/)
  })

  it('refuses another root, an empty body, two roots and trailing text', () => {
    expect(refusal('<response><Done>true</Done><ErrCount>0</ErrCount></response>')).toBe('response root is not <interface-response>')
    expect(refusal('')).toBe('response body is empty')
    expect(refusal('  \n ')).toBe('response body is empty')
    expect(refusal('<interface-response/><interface-response/>')).toMatch(/no single root/)
    expect(refusal(`${balance}trailing`)).toMatch(/not well-formed/)
  })

  it('refuses an answer without <Done>, with Done false, or without a valid ErrCount', () => {
    expect(refusal(balance.replace('<Done>true</Done>', ''))).toMatch(/no <Done>/)
    expect(refusal(balance.replace('<Done>true</Done>', '<Done>false</Done>'))).toMatch(/<Done> is not true/)
    expect(refusal(balance.replace('<ErrCount>0</ErrCount>', ''))).toMatch(/ErrCount/)
    expect(refusal(balance.replace('<ErrCount>0</ErrCount>', '<ErrCount>none</ErrCount>'))).toMatch(/ErrCount/)
  })

  it('refuses DOCTYPE and entity declarations (billion laughs) without expanding them', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><interface-response><Balance>&lol3;</Balance>' +
      '<ErrCount>0</ErrCount><Done>true</Done></interface-response>'
    expect(refusal(laughs)).toBe('response carries a document type declaration')
    expect(refusal('<interface-response><!ENTITY x "y"><Done>true</Done></interface-response>')).toMatch(/document type/)
    expect(refusal('<!DOCTYPE r SYSTEM "file:///etc/passwd"><interface-response/>')).toMatch(/document type/)
  })

  it('refuses what the validator lets through but the parser does not, as an envelope error read as malformed_response', () => {
    const done = '<ErrCount>0</ErrCount><Done>true</Done>'
    const bodies = [
      `<interface-response>${'<a>'.repeat(101)}${'</a>'.repeat(101)}${done}</interface-response>`,
      `<?xml version=<1.0"?><interface-response>${done}</interface-response>`,
      `<interface-response>${done}<![`,
      '<interface-response>><!D'
    ]
    for (const body of bodies) {
      expect(refusal(body), body).toMatch(/well-formed|no <Done>|root/)
      try {
        readAnswer(getBalance, body, undefined, { maxBytes: MAX })
        expect.unreachable(body)
      } catch (e) {
        expect(e).toBeInstanceOf(EnomError)
        expect((e as EnomError).reason, body).toBe('malformed_response')
        expect((e as EnomError).retryable).toBe(true)
      }
    }
  })

  it('never hands on text PostgreSQL cannot store: a raw NUL is refused, NUL and surrogate references stay as written', () => {
    const done = '<ErrCount>0</ErrCount><Done>true</Done>'
    expect(refusal(`<interface-response><a>x\u0000y</a>${done}</interface-response>`)).toMatch(/NUL/)
    const root = parseXml('<r><a>&#0;&#xD800;&#xdfff;&#x41;</a></r>', MAX)
    expect(child(root, 'a')?.text).toBe('&#0;&#xD800;&#xdfff;A')
  })

  it('refuses a body over the size cap before parsing it', () => {
    const huge = balance.replace('<debug>', `<debug>${'x'.repeat(4096)}`)
    expect(refusal(huge, 4096)).toBe('response is larger than 4096 bytes')
  })

  it('refuses a body with more tags than any real answer before parsing it, and reads a full page of certificates', () => {
    const cert = '<Cert><CertID>1</CertID><DomainName><![CDATA[www.example.com]]></DomainName><CertStatusID>7</CertStatusID><OrderID>9</OrderID></Cert>'
    const page = (n: number) => `<interface-response><CertGetCerts><Certs>${cert.repeat(n)}</Certs></CertGetCerts><ErrCount>0</ErrCount><Done>true</Done></interface-response>`
    // 250 certificates (eNom's largest page) with the usual fields stay well under the cap.
    expect(children(child(child(parseEnvelope(page(250), MAX).root, 'CertGetCerts')!, 'Certs')!, 'Cert')).toHaveLength(250)
    expect(refusal(page(MAX_TAGS / 10))).toBe(`response has more than ${MAX_TAGS} tags`)
    expect(refusal(`<interface-response>${'<a/>'.repeat(MAX_TAGS)}<Done>true</Done></interface-response>`)).toBe(`response has more than ${MAX_TAGS} tags`)
  })

  it('refuses a body with more entity references than any real answer before parsing it, and decodes a normal number of them', () => {
    const text = (refs: number) => `<interface-response><ProdDesc>${'R&amp;D '.repeat(refs)}</ProdDesc><ErrCount>0</ErrCount><Done>true</Done></interface-response>`
    expect(child(parseEnvelope(text(2000), MAX).root, 'ProdDesc')?.text).toBe('R&D '.repeat(2000).trim())
    expect(refusal(text(MAX_REFERENCES + 1))).toBe(`response has more than ${MAX_REFERENCES} entity or character references`)
  })

  it('never puts body content in the refusal', () => {
    const secret = 'Sup3rS3cretPw'
    const page = `<html><body><p>GET /interface.asp?uid=u&amp;pw=${secret}</p></body></html>`
    for (const body of [page, `<p>${secret}<b></p>`, `<pw${secret}/>`, `<${secret}><Done>true</Done></${secret}>`]) {
      expect(refusal(body).toLowerCase()).not.toContain(secret.toLowerCase())
    }
  })
})

describe('error blocks', () => {
  it('turns ErrCount > 0 without texts into an unknown, processed error', () => {
    const body = '<interface-response><ErrCount>1</ErrCount><Done>true</Done></interface-response>'
    try {
      readAnswer(getBalance, body, undefined, { maxBytes: MAX })
      throw new Error('expected a failure')
    } catch (e) {
      expect(e).toMatchObject({ reason: 'unknown', delivery: 'processed', responseNumbers: [], enomMessages: [] })
    }
  })

  it('treats Err texts as an error even when ErrCount says 0', () => {
    const body = '<interface-response><ErrCount>0</ErrCount><errors><Err1>Bad User name or Password</Err1></errors><Done>true</Done></interface-response>'
    expect(() => readAnswer(getBalance, body, undefined, { maxBytes: MAX })).toThrow(expect.objectContaining({ reason: 'auth' }))
  })
})
