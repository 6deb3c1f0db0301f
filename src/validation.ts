// Request validation with TypeBox's compiler. Bodies are taken as sent: no type coercion and no
// removal of unknown fields (an unknown field is a 400, not silently dropped). Query strings,
// params and headers arrive as text, so they are converted to the schema's types and get its
// defaults before the check.
import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  if (httpPart === 'body') {
    // A body with no required field may be left out altogether (a POST action without input).
    const optional = bodyIsOptional(schema)
    return (value) => ((value == null && optional) || check.Check(value) ? { value } : { error: check.Errors(value) as never })
  }
  return (value) => {
    const converted = Value.Default(schema, Value.Convert(schema, value))
    return check.Check(converted) ? { value: converted } : { error: check.Errors(converted) as never }
  }
}

/** An object body none of whose fields is required: sending no body means sending {}. */
export function bodyIsOptional (schema: unknown): boolean {
  const s = schema as { type?: string, required?: string[] }
  return s.type === 'object' && (s.required === undefined || s.required.length === 0)
}
