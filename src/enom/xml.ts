// The one place eNom's XML is parsed. eNom's answers are untrusted input (OWASP API10), and
// fast-xml-parser's parse() happily returns partial objects for truncated or mismatched
// documents, so a body must pass the validator, carry no DTD, have the root
// `interface-response` and carry `<Done>` before any of it is believed (enom-api.md §1, §2;
// notes/reliability-performance.md §A4).
//
// The parsed document becomes a small tree of XmlElement with lower-cased names, because eNom's
// casing drifts (`CertStatusid`, `CertGetApproverEMail`, `<certid>`): every lookup here is
// case-insensitive and every repeated element is a list.
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { parseBoolean, parseInteger } from './values.js'

export interface XmlElement {
  /** Lower-cased element name. */
  name: string
  /** Attributes by lower-cased name, entities decoded. */
  attributes: Record<string, string>
  children: XmlElement[]
  /** The element's own text and CDATA, concatenated and trimmed (child elements excluded). */
  text: string
}

/** The body is not a complete eNom answer. `detail` names the defect, never the body's content. */
export class EnvelopeError extends Error {
  constructor (readonly detail: string) {
    super(detail)
    this.name = 'EnvelopeError'
  }
}

export interface EnvelopeResponse { number?: string, text?: string }

export interface Envelope {
  root: XmlElement
  /** `<Command>` as eNom echoed it (upper-case), if present. */
  command?: string
  errCount: number
  /** `errors/Err1..ErrN`, in number order, empty texts dropped. */
  errors: string[]
  /** `responses/response`, in document order. */
  responses: EnvelopeResponse[]
}

const ROOT = 'interface-response'

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Entities are decoded below, in text only and never inside CDATA; the parser's own entity
  // handling would also expand DOCTYPE-declared entities, which are refused outright anyway.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  // No callback reads the path: without this, the parser renders it as a string at every tag.
  jPath: false
})

const ENTITY = /&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities (text: string): string {
  return text.replace(ENTITY, (whole, ref: string) => {
    const lower = ref.toLowerCase()
    const named = NAMED[lower]
    if (named !== undefined) return named
    const code = lower.startsWith('#x') ? Number.parseInt(lower.slice(2), 16) : Number.parseInt(lower.slice(1), 10)
    // XML has no NUL and no surrogate code points; such a reference stays as written.
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole
  })
}

type RawNode = Record<string, unknown>

function toElement (name: string, node: RawNode): XmlElement {
  const attrs = (node[':@'] ?? {}) as Record<string, unknown>
  const attributes: Record<string, string> = {}
  for (const [k, v] of Object.entries(attrs)) attributes[k.toLowerCase()] = decodeEntities(String(v))
  const el: XmlElement = { name: name.toLowerCase(), attributes, children: [], text: '' }
  const parts: string[] = []
  const content = node[name]
  for (const item of Array.isArray(content) ? content as RawNode[] : []) {
    const key = Object.keys(item).find((k) => k !== ':@')
    if (key === undefined) continue
    if (key === '#text') {
      parts.push(decodeEntities(String(item[key])))
    } else if (key === '#cdata') {
      const inner = item[key]
      for (const c of Array.isArray(inner) ? inner as RawNode[] : []) parts.push(String(c['#text'] ?? ''))
    } else {
      el.children.push(toElement(key, item))
    }
  }
  el.text = parts.join('').trim()
  return el
}

/**
 * The most tags ('<' characters, CDATA included) a response may carry. The largest real answer,
 * a CertGetCerts page of 250 certificates, has about 10,000; the parser spends some 500 bytes
 * of heap per element, so two megabytes of empty elements would cost over 250 MB without it.
 */
export const MAX_TAGS = 50_000

/**
 * The most entity and character references ('&' characters) a response may carry. Real answers
 * have a handful (an `&amp;` in a product name); decoding them costs the parser over a hundred
 * times their size in heap (1.9 MB of `&amp;` took it past 230 MB).
 */
export const MAX_REFERENCES = 50_000

function occursOver (text: string, char: string, limit: number): boolean {
  let count = 0
  for (let i = text.indexOf(char); i !== -1; i = text.indexOf(char, i + 1)) {
    if (++count > limit) return true
  }
  return false
}

/**
 * Validates and parses a whole XML document; returns its single root element. Refuses DTDs
 * (entity expansion, external entities) and anything over maxBytes.
 */
export function parseXml (body: string, maxBytes: number): XmlElement {
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new EnvelopeError(`response is larger than ${maxBytes} bytes`)
  const text = body.replace(/^\uFEFF/, '').trim()
  if (text === '') throw new EnvelopeError('response body is empty')
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new EnvelopeError('response carries a document type declaration')
  if (text.includes('\u0000')) throw new EnvelopeError('response contains a NUL character, which XML does not allow')
  if (occursOver(text, '<', MAX_TAGS)) throw new EnvelopeError(`response has more than ${MAX_TAGS} tags`)
  if (occursOver(text, '&', MAX_REFERENCES)) throw new EnvelopeError(`response has more than ${MAX_REFERENCES} entity or character references`)
  let source = text
  const verdict = XMLValidator.validate(text)
  if (verdict !== true) {
    // eNom's documented examples end without `</interface-response>` while every element before
    // it is complete. That one defect is repaired; the envelope check still requires `<Done>`,
    // which eNom writes after the command's data, so a body cut anywhere before it still fails.
    const repaired = `${text}\n</${ROOT}>`
    if (/^(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<interface-response\b/i.test(text) &&
      !/<\/interface-response\s*>/i.test(text) && XMLValidator.validate(repaired) === true) {
      source = repaired
    } else {
      throw new EnvelopeError(`response is not well-formed XML (${verdict.err.code} at line ${verdict.err.line})`)
    }
  }
  let nodes: RawNode[]
  try {
    nodes = parser.parse(source) as RawNode[]
  } catch {
    // The validator and the parser do not refuse exactly the same documents (nesting depth,
    // processing instructions, a CDATA cut by the repair above): the parser's verdict wins. Its
    // message may quote the body, so it is not repeated.
    throw new EnvelopeError('response is not well-formed XML (refused by the parser)')
  }
  const roots: XmlElement[] = []
  for (const node of nodes) {
    const key = Object.keys(node).find((k) => k !== ':@')
    if (key === undefined || key.startsWith('#') || key.startsWith('?')) continue
    roots.push(toElement(key, node))
  }
  const [root] = roots
  if (root === undefined || roots.length !== 1) throw new EnvelopeError('response has no single root element')
  return root
}

/** The first child element named `name` (case-insensitive). */
export function child (el: XmlElement | undefined, name: string): XmlElement | undefined {
  const n = name.toLowerCase()
  return el?.children.find((c) => c.name === n)
}

/** Every child element named `name` (case-insensitive), in document order. */
export function children (el: XmlElement | undefined, name: string): XmlElement[] {
  const n = name.toLowerCase()
  return el === undefined ? [] : el.children.filter((c) => c.name === n)
}

/**
 * Children named prefix + number (`Err1..ErrN`, `Cert1..CertN`, `ICA1..`), ordered by the
 * number, not by document position.
 */
export function numbered (el: XmlElement | undefined, prefix: string): XmlElement[] {
  const p = prefix.toLowerCase()
  const found: Array<{ n: number, el: XmlElement }> = []
  for (const c of el?.children ?? []) {
    if (c.name.startsWith(p) && /^\d+$/.test(c.name.slice(p.length))) found.push({ n: Number(c.name.slice(p.length)), el: c })
  }
  return found.sort((a, b) => a.n - b.n).map((f) => f.el)
}

/** The text of the first child named `name`; undefined when there is no such child. */
export function textOf (el: XmlElement | undefined, name: string): string | undefined {
  return child(el, name)?.text
}

/** Checks the envelope of an eNom answer (enom-api.md §2) and pulls out its error block. */
export function parseEnvelope (body: string, maxBytes: number): Envelope {
  const root = parseXml(body, maxBytes)
  if (root.name !== ROOT) {
    // The root's name is not repeated: it is body content, and bodies may echo the request.
    throw new EnvelopeError(root.name === 'html' ? `response is an HTML page, not <${ROOT}>` : `response root is not <${ROOT}>`)
  }
  const done = textOf(root, 'Done')
  if (done === undefined) throw new EnvelopeError('response has no <Done> element (incomplete answer)')
  if (parseBoolean(done) !== true) throw new EnvelopeError('response <Done> is not true')
  const errCountText = textOf(root, 'ErrCount')
  const errCount = errCountText === undefined ? undefined : parseInteger(errCountText)
  if (errCount === undefined || errCount < 0) throw new EnvelopeError('response has no valid <ErrCount>')
  const errorsBlock = child(root, 'errors')
  const errors = numbered(errorsBlock, 'Err').map((e) => e.text).filter((t) => t !== '')
  const responses = children(child(root, 'responses'), 'response').map((r) => {
    const number = textOf(r, 'ResponseNumber')
    const text = textOf(r, 'ResponseString')
    return {
      ...(number !== undefined && number !== '' ? { number } : {}),
      ...(text !== undefined && text !== '' ? { text } : {})
    }
  })
  const command = textOf(root, 'Command')
  return { root, errCount, errors, responses, ...(command !== undefined && command !== '' ? { command } : {}) }
}
