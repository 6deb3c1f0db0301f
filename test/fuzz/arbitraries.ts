// Building blocks of the route fuzzer: hostile values (unicode, control characters, huge and
// fractional numbers, badly written money, prototype keys), and the ways a request can carry them
// (JSON, raw bodies with duplicated keys or bad literals, wrong content types, query strings with
// unknown or repeated parameters, path segments that are not UUIDs, Idempotency-Keys).
import fc from 'fast-check'

/** A request body as sent: nothing, a JSON value (serialised here), or raw text with a content type (null: no header). */
export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json', value: unknown, /** Why a strict schema must refuse it (an unknown field, a number sent as text): never a 2xx. */ mustReject?: string }
  | { kind: 'raw', text: string, contentType: string | null, why: string }

export type QueryPairs = Array<[string, string]>

/** A path parameter other than the record the run aims at: a UUID nothing has, or a hostile path segment (already encoded). */
export type IdSpec =
  | { kind: 'uuid', value: string }
  | { kind: 'raw', segment: string }

export const NONE: BodySpec = { kind: 'none' }
export const json = (value: unknown): BodySpec => ({ kind: 'json', value })

/** Strings that broke services before: control characters, bidi overrides, lone surrogates, injection and traversal text. */
export const NASTY_STRINGS: readonly string[] = [
  '', ' ', '\u0000', 'a\u0000b', '\t', '\r\n', 'line\nbreak', '\u0007\u001b[31mred', '\u007f', '\u0085', '\u00a0',
  '\u200b', '\u200d', '\ufeff', '\u2028\u2029', '\u202eevil\u202c', 'שלום עולם', 'مرحبا بالعالم', '日本語テキスト',
  'Zoë Ünïcødé', 'e\u0301\u0301\u0301\u0301', '😀👩‍👩‍👧‍👦', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\ud800', '\udfff', 'a\ud83dz', '\uffff', '\ufffd',
  "' OR '1'='1", "'; DROP TABLE processing_module; --", '" OR ""="', '\\', '\\u0000', '%00', '%', '%2F', '../../../../etc/passwd',
  '..\\..\\windows\\win.ini', '<script>alert(1)</script>', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  '$' + '{jndi:ldap://example.invalid/a}', '{{7*7}}', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  'null', 'undefined', 'true', 'NaN', 'Infinity', '-Infinity', '-1', '0', '-0', '1.5', '1e309', '9007199254740993', '0x10', '1_000', '١٢٣',
  ' 1', '1 ', '2024-12-31T23:59:60Z', '2024-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z',
  '2024-01-01T00:00:00+25:00', '2024-01-01', 'x'.repeat(256), 'é'.repeat(300)
]

const LONG_LENGTHS = [101, 129, 256, 501, 1025, 2001, 2049, 4501, 9000]

const asciiWord = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,12}$/)

/** Text a schema asking only for a non-space character accepts, with a control character inside (NUL included). */
export const controlText: fc.Arbitrary<string> = fc.tuple(asciiWord, fc.oneof(fc.constant('\u0000'), fc.constantFrom('\u0001', '\u0008', '\u000b', '\u001b', '\u001f', '\u007f', '\u0000\u0000', '\u0085')), fc.oneof(fc.constant(''), asciiWord))
  .map(([a, c, b]) => a + c + b)

/** Text valid for such schemas that still trips renderers and comparisons: bidi overrides, zero-width, combining runs, lone surrogates. */
export const oddText: fc.Arbitrary<string> = fc.tuple(asciiWord, fc.constantFrom('\u202e', '\u200b', '\ufeff', '\u0301\u0301\u0301', '\ud800', '\udfff', '\u2028', '\uffff', '😀', '𝔘'))
  .map(([a, c]) => a + c)

/** Any text: the list above, random code points (non-BMP included), graphemes, long runs, and mixtures. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { withCrossShrink: true },
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: controlText },
  { weight: 1, arbitrary: oddText },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...LONG_LENGTHS), fc.constantFrom('x', 'é', '😀', ' ', '\u0000')).map(([n, c]) => c.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.constantFrom(...NASTY_STRINGS)).map(([a, b]) => a + b) }
)

/** Numbers JSON can carry that no field wants: huge, negative, fractional, beyond 2^53, subnormal. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, -1, -0, 0.5, 1.5, -0.01, 0.1 + 0.2, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 63, 1e21, 5e-324, 11, 0),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer()
)

/** Money written every wrong way (and a few right ones), as strings and as JSON numbers. */
export const nastyMoney: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('100.00', '0.00', '999999999999.99', '1000000000000.00', '-100.00', '-0.00', '-0.01', '100', '100.0', '100.000', '1e2',
    '1,000.00', ' 100.00', '100.00 ', '+100.00', '١٠٠.٠٠', '0x64', 'NaN', 'Infinity', '.50', '100.', '', '100.00\u0000', '１００.００', '100,00', '$100.00'),
  fc.constantFrom(100, 100.5, -1, -0.01, 0.1 + 0.2, 1e21, 1e308, 0),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)

/** Property names a schema does not know, including the prototype's. */
export const nastyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'id', 'status', 'caller', 'passwordEnc', '', ' ', 'x'.repeat(300), 'é', '\u0000'),
  fc.string({ unit: 'grapheme', maxLength: 12 })
)

/** Any JSON value at all: scalars of every type above, arrays, objects, some nesting. */
export const nastyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: nastyString },
    { weight: 2, arbitrary: nastyNumber },
    { weight: 2, arbitrary: nastyMoney },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(nastyKey, tie('value'), { maxKeys: 4 }) }
  )
})).value

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD, as any client would send them). */
export function pct (text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

export function queryString (pairs: QueryPairs): string {
  return pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')
}

/**
 * A valid object changed in one place: a field set to a hostile value, an unknown field added, a
 * number or boolean sent as text, a field removed, or the object wrapped. The changes a strict
 * schema must refuse are marked (`mustReject`).
 */
export function mutated (valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<BodySpec> {
  return fc.tuple(valid, fc.nat(), fc.constantFrom('set', 'set', 'set', 'add', 'unknown', 'unknown', 'stringly', 'stringly', 'remove', 'wrap-array', 'wrap-object', 'null-field'), nastyValue, nastyKey)
    .map(([obj, n, op, value, key]): BodySpec => {
      const keys = Object.keys(obj)
      const pick = keys.length > 0 ? keys[n % keys.length] as string : 'x'
      const copy: Record<string, unknown> = { ...obj }
      switch (op) {
        case 'set': copy[pick] = value; return json(copy)
        case 'add': Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true }); return json(copy)
        case 'unknown': copy[`fzUnknown${n % 100}`] = value; return { kind: 'json', value: copy, mustReject: 'an unknown field' }
        case 'stringly': {
          const typed = keys.filter((k) => typeof obj[k] === 'number' || typeof obj[k] === 'boolean')
          const k = typed[n % Math.max(1, typed.length)]
          if (k === undefined) return json(copy)
          copy[k] = String(obj[k])
          return { kind: 'json', value: copy, mustReject: `${k} sent as text` }
        }
        case 'remove': delete copy[pick]; return json(copy)
        case 'wrap-array': return json([obj])
        case 'wrap-object': return json({ [pick]: obj })
        default: copy[pick] = null; return json(copy)
      }
    })
}

/** JSON text of `obj` with one key written twice: the hostile value first or last. */
function withDuplicateKey (obj: Record<string, unknown>, n: number, value: unknown, last: boolean): string {
  const keys = Object.keys(obj)
  const key = keys.length > 0 ? keys[n % keys.length] as string : 'reason'
  const body = JSON.stringify(obj).slice(1, -1)
  const dup = `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`
  const inner = body === '' ? dup : last ? `${body},${dup}` : `${dup},${body}`
  return `{${inner}}`
}

/** JSON text of `obj` with a raw literal JSON.stringify cannot write (1e400, -0, 2^64...) in one field. */
function withRawLiteral (obj: Record<string, unknown>, n: number, literal: string): string {
  const keys = Object.keys(obj)
  const key = keys.length > 0 ? keys[n % keys.length] as string : 'years'
  const marker = '\u0001RAW\u0001'
  return JSON.stringify({ ...obj, [key]: marker }).replace(JSON.stringify(marker), literal)
}

const RAW_LITERALS = ['1e400', '-1e400', '123456789012345678901234567890', '-0', '1.0', '1E0', '0.1e1', '1.00000000000000000001', '00', '01', '.5', '+1',
  'NaN', 'Infinity', '0x1F', 'undefined', "'single'", '"\\ud800"', '"\\u0000"', '"\\x41"', '"\\uZZZZ"', 'tru', 'nul']

const MALFORMED_JSON = ['', ' ', '{', '}', '[', '{"a":}', '{"a":1,}', '{,}', "{'a':1}", '{a:1}', '{"a":1}{"b":2}', '{"a":1} x', 'null', '[]', '""',
  '"text"', '0', 'true', '\ufeff{}', '{"a":"\u0000"}', '{"a":"\\u0000"}', '{"a" "b"}', '{"a":1 /* c */}', '\u0000', '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}', '{"a":[1,2,3]', '{"a":"unterminated']

const WRONG_TYPES = ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/xml', 'text/xml', 'multipart/form-data; boundary=x',
  'application/octet-stream', 'application/json-patch+json', 'application/vnd.api+json', 'APPLICATION/JSON', 'application/json; charset=latin1',
  'application/json; charset=utf-16', 'application/json;;', 'application/jsonx', 'json', '*/*', '', 'application/json, text/plain']

export function formEncoded (value: unknown): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return pct(String(value))
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pct(k)}=${pct(typeof v === 'string' ? v : JSON.stringify(v) ?? '')}`).join('&')
}

/** Deep nesting within the body limit: arrays, objects, or both. */
const deepJson = fc.tuple(fc.constantFrom(100, 1000, 10_000, 20_000), fc.constantFrom('array', 'object', 'field'))
  .map(([depth, shape]): BodySpec => {
    const text = shape === 'array'
      ? '['.repeat(depth) + ']'.repeat(depth)
      : shape === 'object'
        ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
        : `{"reason":${'['.repeat(depth)}${']'.repeat(depth)}}`
    return { kind: 'raw', text, contentType: 'application/json', why: `${shape} nested ${depth} deep` }
  })

/**
 * Bodies for a route: mostly its valid objects (so that runs reach the handler and succeed), then
 * those objects mutated, then every hostile shape. `validWeight` tunes the share of valid ones.
 */
export function bodyOf (valid: fc.Arbitrary<Record<string, unknown>>, options: { validWeight?: number, noneWeight?: number } = {}): fc.Arbitrary<BodySpec> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: options.validWeight ?? 12, arbitrary: valid.map(json) },
    { weight: 5, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: nastyValue.map(json) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat(), nastyValue, fc.boolean()).map(([o, n, v, last]): BodySpec => ({ kind: 'raw', text: withDuplicateKey(o, n, v, last), contentType: 'application/json', why: 'duplicated key' })) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom('__proto__', 'constructor'), nastyValue).map(([o, k, v]): BodySpec => ({ kind: 'raw', text: JSON.stringify(o).replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(k === 'constructor' ? { prototype: { polluted: v ?? true } } : { polluted: v ?? true })}${Object.keys(o).length > 0 ? ',' : ''}`), contentType: 'application/json', why: `prototype key ${k}` })) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat(), fc.constantFrom(...RAW_LITERALS)).map(([o, n, lit]): BodySpec => ({ kind: 'raw', text: withRawLiteral(o, n, lit), contentType: 'application/json', why: `raw literal ${lit}` })) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...MALFORMED_JSON), fc.tuple(valid, fc.nat()).map(([o, n]) => { const s = JSON.stringify(o); return s.slice(0, n % Math.max(1, s.length)) })).map((text): BodySpec => ({ kind: 'raw', text, contentType: 'application/json', why: 'malformed JSON' })) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom(...WRONG_TYPES)).map(([o, type]): BodySpec => ({ kind: 'raw', text: type.includes('x-www-form') ? formEncoded(o) : type.includes('xml') ? `<body>${formEncoded(o)}</body>` : JSON.stringify(o), contentType: type, why: 'wrong content type' })) },
    { weight: 1, arbitrary: valid.map((o): BodySpec => ({ kind: 'raw', text: JSON.stringify(o), contentType: null, why: 'no content type' })) },
    { weight: 1, arbitrary: deepJson },
    { weight: 1, arbitrary: fc.constantFrom(70_000, 200_000).map((n): BodySpec => ({ kind: 'raw', text: JSON.stringify({ reason: 'x'.repeat(n) }), contentType: 'application/json', why: 'over the body limit' })) },
    { weight: options.noneWeight ?? 1, arbitrary: fc.constant(NONE) }
  )
}

/** Bodies for routes that take none (GET, and POSTs without input): mostly nothing, sometimes anything. */
export function noBody (emptyObjectWeight = 0): fc.Arbitrary<BodySpec> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 14, arbitrary: fc.constant(NONE) },
    { weight: emptyObjectWeight, arbitrary: fc.constant(json({})) },
    { weight: 2, arbitrary: bodyOf(fc.constant({}), { validWeight: 1 }) }
  )
}

/** Query strings: the route's valid parameters, then unknown, repeated, hostile and prototype-named ones. */
export function queryOf (valid: fc.Arbitrary<QueryPairs>): fc.Arbitrary<QueryPairs> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 6, arbitrary: valid },
    { weight: 3, arbitrary: fc.tuple(valid, fc.nat(), nastyString).map(([pairs, n, v]): QueryPairs => pairs.length === 0 ? [['limit', v]] : pairs.map(([k, old], i) => [k, i === n % pairs.length ? v : old])) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.nat(), nastyString).map(([pairs, n, v]): QueryPairs => { const p = pairs[n % Math.max(1, pairs.length)]; return p ? [...pairs, [p[0], v]] : [['offset', '0'], ['offset', v]] }) },
    { weight: 1, arbitrary: fc.tuple(valid, nastyKey, nastyString).map(([pairs, k, v]): QueryPairs => [...pairs, [k, v]]) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom('limit', 'offset'), fc.constantFrom('-1', '0', '201', '1.5', '1e3', '9999999999999999999999', '0x10', '', ' 5', 'NaN', '١')).map(([pairs, k, v]): QueryPairs => [...pairs, [k, v]]) }
  )
}

/**
 * Path segments where a UUID belongs: SQL, traversal, encoded slashes, near-UUIDs, unicode text. All
 * already encoded, and at most 100 characters: Fastify's maxParamLength, beyond which the router
 * answers before any route (the URL property of routes.property.test.ts covers that).
 */
export const nastySegment: fc.Arbitrary<string> = fc.oneof(
  { withCrossShrink: true },
  {
    weight: 2,
    arbitrary: fc.constantFrom("1'%20OR%20'1'%3D'1", '1%3B%20DROP%20TABLE%20task', '..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e', 'a%2Fb', '%2F', '%5C', '%00', '%20',
      'NULL', 'null', 'undefined', '-1', '0', '9999999999999999999999', '%F0%9F%98%80', 'x'.repeat(100), '%25', '%252e%252e')
  },
  {
    // Near-UUIDs: what a lenient UUID check lets through to the database.
    weight: 2,
    arbitrary: fc.tuple(fc.uuid(), fc.constantFrom('urn', 'braces', 'upper', 'bare', 'long', 'bad-hex', 'spaced', 'nil', 'max')).map(([u, how]) => {
      switch (how) {
        case 'urn': return `urn:uuid:${u}`
        case 'braces': return `%7B${u}%7D`
        case 'upper': return u.toUpperCase()
        case 'bare': return u.replace(/-/g, '')
        case 'long': return `${u}0`
        case 'bad-hex': return `${u.slice(0, -1)}G`
        case 'spaced': return `%20${u}`
        case 'nil': return '00000000-0000-0000-0000-000000000000'
        default: return 'ffffffff-ffff-ffff-ffff-ffffffffffff'
      }
    })
  },
  { weight: 1, arbitrary: nastyString.map(pct).filter((segment) => segment.length <= 100) }
)

/** A path parameter that is not the aimed-at record's (null: it is). */
export function paramOverride (keepWeight = 10): fc.Arbitrary<IdSpec | null> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: keepWeight, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.uuid().map((value): IdSpec => ({ kind: 'uuid', value })) },
    { weight: 2, arbitrary: nastySegment.map((segment): IdSpec => ({ kind: 'raw', segment })) }
  )
}

/** Idempotency-Key values: mostly fresh quoted strings, then tokens, shared keys (replays and reuse), missing and invalid ones. */
export const idempotencyKey: fc.Arbitrary<string | undefined> = fc.oneof(
  { withCrossShrink: true },
  { weight: 14, arbitrary: fc.uuid().map((u) => `"fz-${u}"`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9._-]{0,30}$/) },
  { weight: 1, arbitrary: fc.constantFrom('"fz-shared-1"', '"fz-shared-2"') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('', '""', '"a', 'a b', '"\u00e9"', `"${'k'.repeat(256)}"`, '"a\\q"', ':Zm9v:', '1abc', '"\t"', '"a";v=1', '*', '"\\"\\\\"') }
)

/** Extra headers now and then: hostile request ids, odd Accept values. Header values stay latin1 without CR/LF, as HTTP carries them. */
export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { withCrossShrink: true },
  { weight: 10, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>({ 'x-request-id': 'x'.repeat(200) }, { 'x-request-id': '../../etc' }, { 'x-request-id': '\u00ff\u00fe' },
      { accept: 'application/xml' }, { accept: 'text/html;q=0.1, */*;q=0' }, { 'accept-encoding': 'gzip;q=2, identity;q=0' }, { 'x-forwarded-for': '1.2.3.4, ::1, garbage' })
  }
)

/** Valid money strings: non-negative, two places, up to twelve integer digits. */
export const validMoney: fc.Arbitrary<string> = fc.tuple(fc.bigInt({ min: 0n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 99 }))
  .map(([units, cents]) => `${units}.${String(cents).padStart(2, '0')}`)

/** Text a person could type in a non-Latin or accented script (valid for fields that only need a non-space character). */
export const humanUnicode: fc.Arbitrary<string> = fc.constantFrom('Zoë', 'Jürgen', 'Søren', 'Renée', 'Łukasz', 'Dvořák', 'Ægir', '渡辺', 'Иван Петров', 'محمد', 'יוסי',
  '𝒜𝒹𝒶', 'Nguyễn', 'Ñandú', 'İstanbul', 'München', 'São Paulo', 'Zürich Straße 5', '😀 Corp', 'Ολυμπία', 'ทดสอบ', 'Ỹ̷', 'Ａｄａ')
