// eNom's answers are untrusted input: the envelope parser (parseEnvelope) and the reader built on
// it (readAnswer) are fuzzed with the real fixtures of test/fixtures/enom mutated every way an
// answer can arrive broken or hostile: cut at every offset, bytes flipped, tags renamed or re-cased,
// nested 100k deep, DOCTYPE and ENTITY tricks (billion laughs, external entities), megabytes of text,
// tens of thousands of attributes, CDATA in odd places, invalid UTF-8, byte-order marks.
//
// For every input: parseEnvelope returns an envelope or throws EnvelopeError, nothing else;
// readAnswer returns a checked result or throws an EnomError that says what it understood
// (eNom's own error envelope, or malformed_response) — an EnomError of reason `unknown` for an
// unreadable answer means some other exception escaped the reader and was merely wrapped; a body
// cut short succeeds only when the cut is after `<Done>true</Done>`, and then reads exactly as
// the whole answer does; each call stays within a time bound, and the heap does not grow.
//
// The seed is printed at start; replay with FUZZ_SEED=<seed> npx vitest run test/fuzz/xml.property.test.ts.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readAnswer } from '../../src/enom/answer.js'
import { checkLogin, getBalance } from '../../src/enom/commands/account.js'
import { certModifyOrder, certResendApproverEmail } from '../../src/enom/commands/after-sale.js'
import { getCerts, getProductPrice, purchaseServices } from '../../src/enom/commands/catalogue.js'
import { certGetCertDetail, certGetCerts } from '../../src/enom/commands/certs.js'
import { certConfigureCert, certGetApproverEmail, certParseCsr, certPurchaseCert } from '../../src/enom/commands/configure.js'
import type { Command } from '../../src/enom/commands/define.js'
import { EnomError } from '../../src/enom/errors.js'
import { EnvelopeError, parseEnvelope } from '../../src/enom/xml.js'

const RUNS = Math.max(200, Number(process.env.FUZZ_RUNS ?? 300))
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) | 0
fc.configureGlobal({ seed, numRuns: RUNS })
console.log(`xml fuzz: seed ${seed}, ${RUNS} runs per property (replay: FUZZ_SEED=${seed} npx vitest run test/fuzz/xml.property.test.ts)`)

/** The client's response size cap (EnomClient's default). */
const MAX = 2 * 1024 * 1024
/** A parse of one input may take this long, even for megabytes. */
const CALL_BOUND_MS = 5_000
/** The heap may hold this much more after a batch (and a collection) than before it. */
const HEAP_GROWTH_BOUND = 64 * 1024 * 1024
/** No single input may make the heap this much bigger than before the batch (an expansion bomb would). */
const HEAP_PEAK_BOUND = 192 * 1024 * 1024

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const FIXTURES = fileURLToPath(new URL('../fixtures/enom/', import.meta.url))
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBa+b/c=\n-----END CERTIFICATE REQUEST-----'
const contact = { firstName: 'John', lastName: 'Smith', organization: 'Rightside', jobTitle: 'CTO', address1: '1 Main St', city: 'Kirkland', state: 'WA', postalCode: '98033', country: 'US', phone: '+1.4252744500', email: 'admin@example.com' }

interface Reader { command: Command<any, any>, input: unknown }

/** The command each fixture answers (the domain-only ones are read as GetBalance: a valid envelope the command cannot use). */
function readerFor (file: string): Reader {
  const name = file.toLowerCase()
  if (name.startsWith('checklogin')) return { command: checkLogin, input: undefined }
  if (name.startsWith('certgetcerts')) return { command: certGetCerts, input: {} }
  if (name.startsWith('certgetcertdetail')) return { command: certGetCertDetail, input: { certId: '726347' } }
  if (name.startsWith('purchaseservices') || name.startsWith('purchase.')) return { command: purchaseServices, input: { service: 'x', numYears: 1 } }
  if (name.startsWith('certconfigurecert')) return { command: certConfigureCert, input: { certId: '725899', webServerType: 18, csr: CSR, contacts: { admin: contact, tech: contact, billing: contact } } }
  if (name.startsWith('certgetapproveremail')) return { command: certGetApproverEmail, input: { certId: '1', domain: 'example.com' } }
  if (name.startsWith('certpurchasecert')) return { command: certPurchaseCert, input: { certId: '48455' } }
  if (name.startsWith('certparsecsr')) return { command: certParseCsr, input: { csr: CSR } }
  if (name.startsWith('certmodifyorder')) return { command: certModifyOrder, input: { certId: '48455' } }
  if (name.startsWith('certresendapproveremail')) return { command: certResendApproverEmail, input: { certId: '1' } }
  if (name.startsWith('pe_getproductprice')) return { command: getProductPrice, input: { productType: 23, years: 1 } }
  if (name.startsWith('getcerts')) return { command: getCerts, input: undefined }
  return { command: getBalance, input: undefined }
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).sort().map((file) => ({ file, body: readFileSync(`${FIXTURES}${file}`, 'utf8'), ...readerFor(file) }))

type Outcome<T> = { ok: true, value: T } | { ok: false, error: unknown }

function attempt<T> (fn: () => T): Outcome<T> & { ms: number } {
  const started = performance.now()
  try {
    const value = fn()
    return { ok: true, value, ms: performance.now() - started }
  } catch (error) {
    return { ok: false, error, ms: performance.now() - started }
  }
}

const label = (body: string) => `${body.length} chars: ${JSON.stringify(body.length > 300 ? `${body.slice(0, 150)} … ${body.slice(-150)}` : body)}`

/** The properties every input must have; returns the outcomes for further checks. */
function check (fixture: { command: Command<any, any>, input: unknown }, body: string, maxBytes = MAX) {
  const parsed = attempt(() => parseEnvelope(body, maxBytes))
  if (!parsed.ok && !(parsed.error instanceof EnvelopeError)) {
    throw new Error(`parseEnvelope threw ${describeError(parsed.error)} instead of an EnvelopeError\n  input ${label(body)}`)
  }
  if (parsed.ms > CALL_BOUND_MS) throw new Error(`parseEnvelope took ${Math.round(parsed.ms)} ms\n  input ${label(body)}`)

  const read = attempt(() => readAnswer(fixture.command, body, fixture.input, { maxBytes, secrets: ['resellid', 'resellpw'] }))
  if (read.ms > CALL_BOUND_MS) throw new Error(`readAnswer took ${Math.round(read.ms)} ms\n  input ${label(body)}`)
  if (!read.ok) {
    const e = read.error
    if (!(e instanceof EnomError)) throw new Error(`readAnswer threw ${describeError(e)} instead of an EnomError\n  input ${label(body)}`)
    if (e.delivery === 'unknown' && e.reason !== 'malformed_response') {
      throw new Error(`readAnswer wrapped an unexpected exception as ${e.code} (${e.message}): another error than EnvelopeError/ShapeError escaped the reader\n  input ${label(body)}`)
    }
    if (e.delivery !== 'unknown' && e.delivery !== 'processed') throw new Error(`readAnswer failed with delivery ${e.delivery} for an answer that arrived\n  input ${label(body)}`)
  }
  if (!parsed.ok && read.ok) throw new Error(`readAnswer accepted a body parseEnvelope refuses (${(parsed.error as EnvelopeError).detail})\n  input ${label(body)}`)
  return { parsed, read }
}

function describeError (e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message.slice(0, 300)}`
  return `a non-Error ${typeof e}: ${String(e).slice(0, 100)}`
}

const DONE = /<done>\s*true\s*<\/done>/i

/** Where `<Done>true</Done>` ends in a body, or -1. */
function doneEnd (body: string): number {
  const m = DONE.exec(body)
  return m ? m.index + m[0].length : -1
}

// ---- mutations ------------------------------------------------------------------------------------

const TAG = /<(\/?)([A-Za-z][\w.-]*)/g

function tagsOf (body: string): Array<{ at: number, close: boolean, name: string }> {
  return [...body.matchAll(TAG)].map((m) => ({ at: m.index, close: m[1] === '/', name: m[2] as string }))
}

/** Index just after the n-th `>` (an element boundary), or the start. */
function boundary (body: string, n: number): number {
  const ends = [...body.matchAll(/>/g)].map((m) => m.index + 1)
  return ends.length === 0 ? 0 : ends[n % ends.length] as number
}

const BILLION_LAUGHS = '<!DOCTYPE lolz [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 2} "${`&lol${i === 0 ? '' : i + 1};`.repeat(10)}">`).join('') + ']>'

const DECLARATIONS = [
  BILLION_LAUGHS,
  '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]>',
  '<!DOCTYPE interface-response SYSTEM "http://127.0.0.1:1/x.dtd">',
  '<!doctype r>',
  '<!DoCtYpE r [ ]>',
  '<!ENTITY x "y">',
  '<!ELEMENT r ANY>',
  '<!ATTLIST r a CDATA "x">'
]
const ENTITY_REFS = ['&lol9;', '&x;', '&amp;lt;', '&#0;', '&#x0;', '&#xD800;', '&#x110000;', '&#99999999999999999999;', '&#x;', '&#;', '&', '&amp', '&nbsp;', '&AMP;', '&#65;&#x42;', '&#x1F600;', '&lt;Done&gt;true&lt;/Done&gt;']
const ODD_CHARS = ['<', '>', '&', '"', "'", '\u0000', '\u0001', '\ufffe', '\uffff', '\ud800', '\udfff', '\ufeff', '😀', 'é', ']]>', '<!--', '-->', '<![CDATA[', '?>', '\r', '\u2028']

interface Mutation { name: string, apply: (body: string) => string }

/** A mutation that prints as its name in counterexamples. */
function named (name: string, apply: (body: string) => string): Mutation {
  return Object.assign({ name, apply }, { [fc.toStringMethod]: () => name })
}

const at = (b: string, n: number) => n % Math.max(1, b.length)

function retag (b: string, n: number, how: string): string {
  const tags = tagsOf(b)
  const tag = tags[n % Math.max(1, tags.length)]
  if (!tag) return b
  const renamed = how === 'upper' ? tag.name.toUpperCase() : how === 'lower' ? tag.name.toLowerCase() : how === 'prefix' ? `x:${tag.name}` : `${tag.name}X`
  const targets = tags.filter((t) => t.name === tag.name && (how === 'rename-open' ? !t.close : how === 'rename-close' ? t.close : true))
  let out = b
  for (const t of [...targets].sort((x, y) => y.at - x.at)) {
    const start = t.at + (t.close ? 2 : 1)
    out = out.slice(0, start) + renamed + out.slice(start + t.name.length)
  }
  return out
}

function cdata (b: string, n: number, how: string): string {
  if (how === 'fake-done') return b.replace(DONE, '<![CDATA[<Done>true</Done>]]>')
  const texts = [...b.matchAll(/>([^<]+)</g)]
  const m = texts[n % Math.max(1, texts.length)]
  if (!m) return b
  const start = m.index + 1
  const text = m[1] as string
  const replaced = how === 'wrap'
    ? `<![CDATA[${text}]]>`
    : how === 'split'
      ? `<![CDATA[${text.slice(0, 1)}]]]]><![CDATA[>${text.slice(1)}]]>`
      : how === 'nested' ? `<![CDATA[<![CDATA[${text}]]>]]>` : `<![CDATA[${text}`
  return b.slice(0, start) + replaced + b.slice(start + text.length)
}

/** What the transport makes of bytes that are not UTF-8: decoded with replacement characters, or mis-decoded. */
function bytes (b: string, n: number, how: string): string {
  const raw = Buffer.from(b, 'utf8')
  if (how === 'latin1') return raw.toString('latin1')
  if (how === 'utf16') return Buffer.from(b, 'utf16le').toString('utf8')
  const i = n % Math.max(1, raw.length)
  const junk = how === 'overlong' ? Buffer.from([0xc0, 0xbc, 0xe0, 0x80, 0xaf]) : Buffer.from([0xff, 0xfe, 0x80, 0xc3])
  return Buffer.concat([raw.subarray(0, i), junk, raw.subarray(i)]).toString('utf8')
}

function declare (b: string, decl: string, where: string): string {
  if (where === 'start') return decl + b
  if (where === 'after-declaration') return b.replace(/^(\ufeff?<\?xml[^>]*\?>)?/, (m) => m + decl)
  const root = b.search(/<interface-response[^>]*>/i)
  const end = root < 0 ? 0 : b.indexOf('>', root) + 1
  return b.slice(0, end) + decl + b.slice(end)
}

function entityIn (b: string, n: number, ref: string): string {
  const texts = [...b.matchAll(/>([^<]*)</g)].map((m) => m.index + 1)
  const i = texts[n % Math.max(1, texts.length)] ?? 0
  return b.slice(0, i) + ref + b.slice(i)
}

function attributes (b: string, n: number, count: number, duplicate: boolean): string {
  const opens = tagsOf(b).filter((t) => !t.close)
  const tag = opens[n % Math.max(1, opens.length)]
  if (!tag) return b
  const i = tag.at + 1 + tag.name.length
  return b.slice(0, i) + Array.from({ length: count }, (_, k) => ` ${duplicate ? 'a' : `a${k}`}="${k}"`).join('') + b.slice(i)
}

const HEADS = ['<?xml version="1.0" encoding="utf-16"?>', '<?xml version="1.1"?>', '<?xml version="1.0" standalone="no"?>', '<?xml-stylesheet href="x"?>',
  '<!-- unterminated', '<!-- </interface-response> -->', '<!-- a -- b -->', '<?pi <Done>true</Done>?>', '<?xml version=<1.0"?>', '<?xml ?>', '<?xml']

const REPLACEMENTS: Array<[string, string]> = [
  ['<ErrCount>0</ErrCount>', '<ErrCount>-1</ErrCount>'], ['<ErrCount>0</ErrCount>', '<ErrCount>99999999999999999999</ErrCount>'],
  ['<ErrCount>0</ErrCount>', '<ErrCount>0</ErrCount><ErrCount>1</ErrCount>'], ['<Done>true</Done>', '<Done>false</Done><Done>true</Done>'],
  ['<Done>true</Done>', '<Done>TRUE</Done>'], ['<Done>true</Done>', '<Done>1</Done>'], ['<Done>true</Done>', '<Done> true </Done>'], ['<Done>true</Done>', '<Done/>'],
  ['<interface-response>', '<interface-response xmlns="urn:x" a="&lt;">'], ['</interface-response>', '</interface-response><interface-response/>'],
  ['</interface-response>', '</interface-response>trailing'], ['</interface-response>', '</INTERFACE-RESPONSE>']
]

/** Markup and byte mutations of ordinary size. */
const lightMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...ODD_CHARS)).map(([n, ch]) => named(`char ${JSON.stringify(ch)} at ${n}`, (b) => b.slice(0, at(b, n)) + ch + b.slice(at(b, n) + 1))),
  fc.tuple(fc.nat(), fc.nat({ max: 64 })).map(([n, len]) => named(`delete ${len} at ${n}`, (b) => b.slice(0, at(b, n)) + b.slice(at(b, n) + len))),
  fc.tuple(fc.nat(), fc.nat({ max: 200 })).map(([n, len]) => named(`duplicate ${len} at ${n}`, (b) => b.slice(0, at(b, n) + len) + b.slice(at(b, n)))),
  fc.tuple(fc.nat(), fc.constantFrom('upper', 'lower', 'rename', 'rename-open', 'rename-close', 'prefix')).map(([n, how]) => named(`tag ${how} #${n}`, (b) => retag(b, n, how))),
  fc.tuple(fc.nat(), fc.constantFrom(...ENTITY_REFS)).map(([n, ref]) => named(`entity ${ref} in text #${n}`, (b) => entityIn(b, n, ref))),
  fc.tuple(fc.nat(), fc.constantFrom('wrap', 'split', 'unterminated', 'fake-done', 'nested')).map(([n, how]) => named(`CDATA ${how} #${n}`, (b) => cdata(b, n, how))),
  fc.tuple(fc.nat(), fc.constantFrom('latin1', 'bad-bytes', 'utf16', 'overlong')).map(([n, how]) => named(`bytes ${how} #${n}`, (b) => bytes(b, n, how))),
  fc.constantFrom('\ufeff', '\ufeff\ufeff', '\u00ef\u00bb\u00bf', '\u00ff\u00fe', ' \ufeff', '\n\n').map((bom) => named(`prefix ${JSON.stringify(bom)}`, (b) => bom + b)),
  fc.constantFrom(...HEADS).map((head) => named(`head ${head}`, (b) => head + b.replace(/^\ufeff?<\?xml[^>]*\?>/, ''))),
  fc.constantFrom(...REPLACEMENTS).map(([from, to]) => named(`replace ${from} → ${to}`, (b) => b.replace(from, to))),
  fc.tuple(fc.constantFrom(...DECLARATIONS), fc.constantFrom('start', 'after-declaration', 'inside-root')).map(([decl, where]) => named(`declaration ${where}: ${decl.slice(0, 40)}`, (b) => declare(b, decl, where)))
)

/** Nesting from a few levels to 100k, closed, unclosed or around CDATA, at an element boundary. */
const nesting: fc.Arbitrary<Mutation> = fc.tuple(fc.nat(), fc.oneof({ withCrossShrink: true }, fc.integer({ min: 1, max: 200 }), fc.constantFrom(1_000, 10_000, 100_000)), fc.constantFrom('element', 'cdata-element', 'unclosed'))
  .map(([n, depth, shape]) => named(`nest ${depth} deep (${shape}) at boundary ${n}`, (b) => {
    const i = boundary(b, n)
    const inner = shape === 'cdata-element' ? '<![CDATA[x]]>' : 'x'
    return b.slice(0, i) + (shape === 'unclosed' ? '<a>'.repeat(depth) : '<a>'.repeat(depth) + inner + '</a>'.repeat(depth)) + b.slice(i)
  }))

/** Megabytes of text (under and over the 2 MB cap) and tens of thousands of attributes. */
const huge: fc.Arbitrary<Mutation> = fc.oneof(
  // 1.9 MB fits under the client's 2 MB cap (the parser must cope with it); 3 MB must be refused before parsing.
  fc.tuple(fc.nat(), fc.oneof({ weight: 8, arbitrary: fc.constant(64 * 1024) }, { weight: 1, arbitrary: fc.constantFrom(1024 * 1024, 1900 * 1024) }, { weight: 2, arbitrary: fc.constant(3 * 1024 * 1024) }),
    fc.constantFrom('x', 'é', '&amp;', ' ', '😀', '<a/>', '<![CDATA[x]]>')).map(([n, size, unit]) =>
    named(`text of ${size} × ${JSON.stringify(unit)} at boundary ${n}`, (b) => { const i = boundary(b, n); return b.slice(0, i) + unit.repeat(Math.ceil(size / unit.length)) + b.slice(i) })),
  fc.tuple(fc.nat(), fc.constantFrom(1_000, 20_000), fc.boolean()).map(([n, count, duplicate]) =>
    named(`${count} attributes${duplicate ? ' (all named a)' : ''} on tag #${n}`, (b) => attributes(b, n, count, duplicate)))
)

const fileArb = fc.constantFrom(...fixtures.map((f) => f.file))
const byFile = new Map(fixtures.map((f) => [f.file, f]))
const fixtureOf = (file: string) => byFile.get(file) as typeof fixtures[number]
const names = (ms: Mutation[]) => ms.map((m) => m.name).join(', ') || 'none'

/** Runs a batch of inputs between two collections; fails when the heap keeps what the parser made, or one input blows it up. */
function withinMemory (what: string, batch: (sample: () => void) => void): void {
  gc()
  const baseline = process.memoryUsage().heapUsed
  let before = baseline
  let peak = 0
  batch(() => {
    // What one input made (garbage included), measured from a collected heap: without the
    // collection in between, the garbage of earlier inputs would count against this one.
    const grown = process.memoryUsage().heapUsed - before
    peak = Math.max(peak, grown)
    if (grown > HEAP_PEAK_BOUND) throw new Error(`the heap grew by ${Math.round(grown / 1e6)} MB on one input`)
    gc()
    before = process.memoryUsage().heapUsed
  })
  gc()
  const growth = process.memoryUsage().heapUsed - baseline
  console.log(`${what}: heap +${Math.round(growth / 1e6)} MB after the batch and a collection (largest for one input +${Math.round(peak / 1e6)} MB)`)
  expect(growth, `${what}: the heap keeps what the parser made`).toBeLessThan(HEAP_GROWTH_BOUND)
}

// ---- the properties -------------------------------------------------------------------------------

describe('eNom envelope parser under hostile input', () => {
  it('reads every fixture (the base of the mutations)', () => {
    for (const f of fixtures) expect(check(f, f.body).parsed.ok, f.file).toBe(true)
  })

  it('refuses a body cut anywhere before <Done>true</Done>; a cut after it reads as the whole answer (every offset of every fixture)', () => {
    let cuts = 0
    for (const f of fixtures) {
      const whole = check(f, f.body)
      const end = doneEnd(f.body)
      expect(end, `${f.file} has <Done>true</Done>`).toBeGreaterThan(0)
      for (let k = 0; k < f.body.length; k++) {
        const cut = f.body.slice(0, k)
        const { parsed, read } = check(f, cut)
        cuts++
        if (k < end) {
          expect(parsed.ok, `${f.file} cut at ${k} of ${f.body.length} (before the end of <Done> at ${end}) was accepted:\n${JSON.stringify(cut.slice(-120))}`).toBe(false)
        } else if (read.ok) {
          // Nothing the command reads may be lost by a cut after <Done>: the whole answer reads the same.
          expect(whole.read.ok, `${f.file} cut at ${k} reads although the whole answer does not`).toBe(true)
          if (whole.read.ok) expect(read.value, `${f.file} cut at ${k} reads differently from the whole answer`).toEqual(whole.read.value)
        }
      }
    }
    expect(cuts).toBeGreaterThan(10_000)
  }, 120_000)

  it('cut at random offsets after markup mutations: typed errors only, never a success without a complete <Done>', () => {
    fc.assert(fc.property(fileArb, fc.array(lightMutation, { maxLength: 3 }), fc.nat(), (file, ms, n) => {
      const f = fixtureOf(file)
      const body = ms.reduce((b, m) => m.apply(b), f.body)
      const k = n % Math.max(1, body.length)
      const cut = body.slice(0, k)
      const end = doneEnd(cut)
      const { parsed } = check(f, cut)
      // Without a complete <Done>true</Done> in what arrived, nothing may be believed.
      if (end < 0) expect(parsed.ok, `accepted a body without a complete <Done>true</Done> (cut at ${k}; mutations: ${names(ms)})`).toBe(false)
    }))
  }, 120_000)

  it('markup and byte mutations: an envelope or an EnvelopeError, a result or a typed EnomError, in bounded time and memory', () => {
    const seen = new Map<string, number>()
    withinMemory('markup and byte mutations', (sample) => {
      fc.assert(fc.property(fileArb, fc.array(lightMutation, { minLength: 1, maxLength: 4 }), (file, ms) => {
        const f = fixtureOf(file)
        const { parsed, read } = check(f, ms.reduce((b, m) => m.apply(b), f.body))
        sample()
        const outcome = parsed.ok ? (read.ok ? 'read' : `envelope, then ${(read.error as EnomError).reason}`) : `refused: ${(parsed.error as EnvelopeError).detail.replace(/\d+/g, 'N')}`
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1)
      }))
    })
    console.log(`markup and byte mutations, outcomes: ${[...seen.entries()].sort((a, b) => b[1] - a[1]).map(([o, c]) => `${o} ×${c}`).join('; ')}`)
    // The mutations must not all be refused at the door: some must reach the reader.
    expect([...seen.keys()].some((o) => !o.startsWith('refused'))).toBe(true)
  }, 120_000)

  it('deep nesting (up to 100k levels): typed errors only, in bounded time and memory', () => {
    withinMemory('deep nesting', (sample) => {
      fc.assert(fc.property(fileArb, nesting, (file, m) => {
        const f = fixtureOf(file)
        check(f, m.apply(f.body))
        sample()
      }))
    })
  }, 120_000)

  it('megabytes of text, elements and attributes: typed errors only, in bounded time and memory', () => {
    withinMemory('huge text and attribute lists', (sample) => {
      fc.assert(fc.property(fileArb, huge, (file, m) => {
        const f = fixtureOf(file)
        check(f, m.apply(f.body))
        sample()
      }), { numRuns: 200 })
    })
  }, 300_000)

  it('entity and declaration tricks (billion laughs, external entities) are refused, and undefined entities never expand', () => {
    fc.assert(fc.property(fileArb, fc.constantFrom(...DECLARATIONS), fc.constantFrom(...ENTITY_REFS, '&lol9;&lol9;&lol9;'), fc.constantFrom('start', 'after-declaration', 'inside-root'), (file, decl, ref, where) => {
      const f = fixtureOf(file)
      const body = declare(f.body.replace(/(<Balance>|<ErrCount>|<Command>)/i, `$1${ref}`), decl, where)
      expect(check(f, body).parsed.ok, 'a body with a DTD or ENTITY declaration was accepted').toBe(false)
      // Without the declaration, an entity reference is refused or read as (at most) a character or its own text: never expanded.
      const alone = check(f, f.body.replace(/<Command>/i, `<Command>${ref}`))
      if (alone.parsed.ok) expect((alone.parsed.value.command ?? '').length, 'an entity reference grew on reading').toBeLessThan(ref.length + 40)
    }))
  }, 120_000)
})
