// Request validation with TypeBox's compiler. Bodies are taken as sent: no type coercion and no
// removal of unknown fields (an unknown field is a 400, not silently dropped). Query strings,
// params and headers arrive as text, so they are converted to the schema's types and get its
// defaults before the check.
//
// Two rules hold for every request part, whatever its schema says: text must be storable (no NUL,
// no unpaired UTF-16 surrogate: PostgreSQL refuses the first and JSON columns the second, which
// would otherwise surface half-way through a request as a 500), and a date-time must be a moment
// JavaScript can represent (RFC 3339 allows a leap second; Date does not) in a year PostgreSQL
// knows (there is no year 0: 0000-12-31, or 0001-01-01T00:00+01:00, is refused by the database).
import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Format } from 'typebox/format'
import { Value } from 'typebox/value'

const rfc3339 = Format.Get('date-time')
const YEAR_ONE = Date.parse('0001-01-01T00:00:00Z')
if (rfc3339 !== undefined) Format.Set('date-time', (value) => rfc3339(value) && Date.parse(value) >= YEAR_ONE)

interface Issue { instancePath: string, keyword: string, message: string }

// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const pointer = (path: string[]) => path.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('')

/** The first string (value or key) that PostgreSQL could not store, as a validation issue. */
export function unstorableText (value: unknown, path: string[] = [], depth = 0): Issue | undefined {
  if (typeof value === 'string') {
    return UNSTORABLE.test(value) ? { instancePath: pointer(path), keyword: 'text', message: 'must not contain NUL or unpaired surrogate characters' } : undefined
  }
  if (value === null || typeof value !== 'object' || depth > 64) return undefined
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return { instancePath: pointer(path), keyword: 'text', message: 'has a field name with NUL or unpaired surrogate characters' }
    const found = unstorableText(item, [...path, key], depth + 1)
    if (found) return found
  }
  return undefined
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  const accept = (value: unknown) => {
    const bad = unstorableText(value)
    return bad ? { error: [bad] as never } : { value }
  }
  if (httpPart === 'body') {
    // A body with no required field may be left out altogether (a POST action without input).
    const optional = bodyIsOptional(schema)
    return (value) => (value == null && optional) ? { value } : check.Check(value) ? accept(value) : { error: check.Errors(value) as never }
  }
  // Params (and querystrings) of text fields only, none with a default, need no conversion when
  // they already pass: the common case (an id in the path) skips TypeBox's converting walk.
  const textOnly = onlyTextFields(schema)
  return (value) => {
    if (textOnly && check.Check(value)) return accept(value)
    const converted = Value.Default(schema, Value.Convert(schema, value))
    return check.Check(converted) ? accept(converted) : { error: check.Errors(converted) as never }
  }
}

/** An object body that may be empty (no required field, no minimum): sending no body means sending {}. */
export function bodyIsOptional (schema: unknown): boolean {
  const s = schema as { type?: string, required?: string[], minProperties?: number }
  return s.type === 'object' && (s.required === undefined || s.required.length === 0) && !(s.minProperties !== undefined && s.minProperties > 0)
}

/** An object schema whose fields are all plain strings without a default (conversion is the identity). */
export function onlyTextFields (schema: unknown): boolean {
  const s = schema as { type?: string, default?: unknown, properties?: Record<string, { type?: unknown, default?: unknown, [k: string]: unknown }> }
  if (s.type !== 'object' || s.default !== undefined || s.properties === undefined) return false
  return Object.values(s.properties).every((p) => p.type === 'string' && p.default === undefined)
}
