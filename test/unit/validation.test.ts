import { describe, expect, it } from 'vitest'
import Type from 'typebox'
import { onlyTextFields, validatorCompiler } from '../../src/validation.js'

const compile = (schema: unknown, httpPart: string) =>
  validatorCompiler({ schema, httpPart, method: 'GET', url: '/x' } as never) as (value: unknown) => { value?: unknown, error?: unknown[] }

describe('request validation', () => {
  it('knows which schemas need no conversion', () => {
    expect(onlyTextFields(Type.Object({ id: Type.String({ format: 'uuid' }) }))).toBe(true)
    expect(onlyTextFields(Type.Object({ id: Type.String(), note: Type.Optional(Type.String()) }))).toBe(true)
    expect(onlyTextFields(Type.Object({ limit: Type.Integer() }))).toBe(false)
    expect(onlyTextFields(Type.Object({ sort: Type.String({ default: 'name' }) }))).toBe(false)
    expect(onlyTextFields(Type.Object({ status: Type.Union([Type.Literal('a'), Type.Literal('b')]) }))).toBe(false)
    expect(onlyTextFields(Type.String())).toBe(false)
  })

  it('checks text-only params as sent and still refuses what does not match', () => {
    const validate = compile(Type.Object({ id: Type.String({ format: 'uuid' }) }), 'params')
    const id = '01900000-0000-7000-8000-000000000001'
    expect(validate({ id })).toEqual({ value: { id } })
    expect(validate({ id: 'nope' }).error).toBeDefined()
    // Unstorable text is refused on the quick path too.
    const named = compile(Type.Object({ name: Type.String() }), 'params')
    expect(named({ name: 'a\u0000b' }).error).toBeDefined()
    expect(named({ name: 'ab' })).toEqual({ value: { name: 'ab' } })
  })

  it('still converts and fills defaults where the schema asks for it', () => {
    const validate = compile(Type.Object({ limit: Type.Integer({ default: 50 }), q: Type.Optional(Type.String()) }), 'querystring')
    expect(validate({ limit: '20' })).toEqual({ value: { limit: 20 } })
    expect(validate({})).toEqual({ value: { limit: 50 } })
    expect(validate({ limit: 'many' }).error).toBeDefined()
  })
})
