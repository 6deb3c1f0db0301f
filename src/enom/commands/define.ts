// What one eNom command is to the client: its name, whether it is read-only, state-changing or
// money-spending (which decides retries and timeouts), how typed input becomes eNom parameters,
// and how the answer's XML becomes a typed result checked against a TypeBox schema.
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { normalisePem, parseBoolean, parseInteger, parseMoney } from '../values.js'
import { child, type XmlElement } from '../xml.js'

/** read: safe to repeat; write: changes state, sent once; money: spends money, sent once. */
export type CommandKind = 'read' | 'write' | 'money'

export type Params = Array<[string, string]>

export interface Command<I, S extends TSchema> {
  /** eNom's command name, as sent. */
  name: string
  kind: CommandKind
  /** POST form-encoded instead of GET (commands carrying a CSR or CSR fields). */
  post: (input: I) => boolean
  /** eNom parameters in send order; throws InputError for input the client refuses to send. */
  params: (input: I) => Params
  output: S
  /** Builds the result from the answer's root; throws ShapeError when a value cannot be read. */
  map: (root: XmlElement, input: I) => unknown
  /** The compiled output check, with a readable first error. */
  check: (value: unknown) => value is Static<S>
  firstError: (value: unknown) => string
}

export function defineCommand<I, S extends TSchema> (spec: {
  name: string
  kind: CommandKind
  post?: boolean | ((input: I) => boolean)
  params: (input: I) => Params
  output: S
  map: (root: XmlElement, input: I) => unknown
}): Command<I, S> {
  const compiled = Compile(spec.output)
  const post = spec.post
  return {
    name: spec.name,
    kind: spec.kind,
    post: typeof post === 'function' ? post : () => post === true,
    params: spec.params,
    output: spec.output,
    map: spec.map,
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    firstError: (value: unknown) => {
      const [first] = compiled.Errors(value)
      return first === undefined ? 'unknown mismatch' : `${first.instancePath === '' ? '/' : first.instancePath} ${first.message}`
    }
  }
}

/** Input the client will not send (it never reaches eNom). The message names the field only. */
export class InputError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InputError'
  }
}

/** A value in eNom's answer that cannot be read as its type. The message names the element only. */
export class ShapeError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ShapeError'
  }
}

/**
 * Typed reads of an element's children. Absent and empty elements are both `undefined` (eNom
 * writes `<ConfigDate></ConfigDate>` and `<MinPeriod/>` for "no value"); a present value that
 * does not parse is a ShapeError, never silently dropped.
 */
export class Fields {
  constructor (readonly el: XmlElement | undefined) {}

  str (name: string): string | undefined {
    const t = child(this.el, name)?.text
    return t === undefined || t === '' ? undefined : t
  }

  int (name: string): number | undefined {
    return this.parsed(name, parseInteger, 'an integer')
  }

  bool (name: string): boolean | undefined {
    return this.parsed(name, parseBoolean, 'a boolean')
  }

  money (name: string): string | undefined {
    return this.parsed(name, parseMoney, 'an amount of money')
  }

  pem (name: string): string | undefined {
    const t = this.str(name)
    return t === undefined ? undefined : normalisePem(t)
  }

  private parsed<T> (name: string, parse: (t: string) => T | undefined, what: string): T | undefined {
    const t = this.str(name)
    if (t === undefined) return undefined
    const v = parse(t)
    if (v === undefined) throw new ShapeError(`<${name}> is not ${what}`)
    return v
  }
}

/** Drops undefined properties, so results carry only what eNom said. */
export function compact (obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v
  return out
}

/** The command's block (`<CertGetCerts>` ...) or, for flat answers, the root itself. */
export function blockOf (root: XmlElement, name: string): XmlElement {
  return child(root, name) ?? root
}

/** Appends [name, value] when value is defined. */
export function push (params: Params, name: string, value: string | number | undefined): void {
  if (value !== undefined) params.push([name, String(value)])
}

export function requireText (value: string, field: string, pattern?: RegExp, max = 256): string {
  const t = value.trim()
  if (t === '' || t.length > max || (pattern !== undefined && !pattern.test(t))) throw new InputError(`${field} is missing or not valid`)
  return t
}

export function requireInt (value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new InputError(`${field} must be an integer from ${min} to ${max}`)
  return value
}

/** eNom CertIDs are decimal numbers. */
export const CERT_ID = /^\d{1,20}$/
