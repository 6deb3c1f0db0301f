// CSR decoding against damaged input: every single-character corruption of a real CSR is either
// still a valid request or a 400 with a CSR code — the parser never lets a library error through.
import { describe, expect, it } from 'vitest'
import { parseCsr } from '../../src/domain/csr.js'
import { AppError } from '../../src/domain/errors.js'
import { makeCsr } from '../support/enom.js'

describe('parseCsr on damaged CSRs', () => {
  it('answers a CSR code for every corrupted character of the body, never an unexpected error', async () => {
    const { pem } = await makeCsr('www.example.com', { sans: ['www.example.com', 'example.com'] })
    const lines = pem.trim().split('\n')
    const body = lines.slice(1, -1).join('')
    const codes = new Map<string, number>()
    for (let i = 0; i < body.length; i++) {
      const replacement = body[i] === 'A' ? 'g' : 'A'
      const damaged = body.slice(0, i) + replacement + body.slice(i + 1)
      const text = `${lines[0]}\n${damaged.match(/.{1,64}/g)?.join('\n')}\n${lines.at(-1)}`
      try {
        await parseCsr(text)
        codes.set('accepted', (codes.get('accepted') ?? 0) + 1)
      } catch (e) {
        expect(e, `offset ${i}`).toBeInstanceOf(AppError)
        expect((e as AppError).status, `offset ${i}`).toBe(400)
        expect((e as AppError).code).toMatch(/^CSR_/)
        codes.set((e as AppError).code, (codes.get((e as AppError).code) ?? 0) + 1)
      }
    }
    // Damage in the key is caught by decoding or by the signature check, never passed over.
    expect(codes.get('CSR_MALFORMED')).toBeGreaterThan(0)
    expect(codes.get('CSR_SIGNATURE_INVALID')).toBeGreaterThan(0)
  }, 60_000)
})
