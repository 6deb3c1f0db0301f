import { describe, expect, it } from 'vitest'
import { SecretBox, SecretsError } from '../../src/domain/secrets.js'

const keyA = Buffer.alloc(32, 1).toString('base64')
const keyB = Buffer.alloc(32, 2).toString('base64')

describe('SecretBox', () => {
  it('encrypts with the first key, binds the ciphertext to its record, and decrypts with any key of the ring', () => {
    const old = SecretBox.fromKeyring(`old:${keyA}`)
    const envelope = old.encrypt('pa55word', 'processing_module:1:password')
    expect(envelope).toMatch(/^v1:old:[\w-]+:[\w-]+:[\w-]+$/)
    expect(envelope).not.toContain('pa55word')
    expect(old.encrypt('pa55word', 'x')).not.toBe(old.encrypt('pa55word', 'x'))

    const rotated = SecretBox.fromKeyring(`new:${keyB},old:${keyA}`)
    expect(rotated.activeKeyId).toBe('new')
    expect(rotated.decrypt(envelope, 'processing_module:1:password')).toBe('pa55word')
    expect(SecretBox.keyIdOf(rotated.encrypt('x', 'y'))).toBe('new')
  })

  it('fails closed on another record, a tampered envelope or an unknown key', () => {
    const box = SecretBox.fromKeyring(`a:${keyA}`)
    const envelope = box.encrypt('pa55word', 'processing_module:1:password')
    const expectCode = (fn: () => unknown, code: string) => {
      try {
        fn()
        expect.unreachable()
      } catch (err) {
        expect(err).toBeInstanceOf(SecretsError)
        expect((err as SecretsError).code).toBe(code)
        expect((err as Error).message).not.toContain('pa55word')
      }
    }
    expectCode(() => box.decrypt(envelope, 'processing_module:2:password'), 'SECRET_UNREADABLE')
    const parts = envelope.split(':')
    const ct = Buffer.from(parts[3]!, 'base64url')
    ct[0] = ct[0]! ^ 1
    parts[3] = ct.toString('base64url')
    expectCode(() => box.decrypt(parts.join(':'), 'processing_module:1:password'), 'SECRET_UNREADABLE')
    expectCode(() => SecretBox.fromKeyring(`b:${keyB}`).decrypt(envelope, 'processing_module:1:password'), 'SECRET_KEY_UNKNOWN')
    expectCode(() => box.decrypt('plaintext-password', 'processing_module:1:password'), 'SECRET_UNREADABLE')
  })

  it('still fails closed for another record once an envelope was opened (opened envelopes are kept)', () => {
    const box = SecretBox.fromKeyring(`a:${keyA}`)
    const envelope = box.encrypt('pa55word', 'processing_module:1:password')
    expect(box.decrypt(envelope, 'processing_module:1:password')).toBe('pa55word')
    expect(box.decrypt(envelope, 'processing_module:1:password')).toBe('pa55word')
    expect(() => box.decrypt(envelope, 'processing_module:2:password')).toThrow(SecretsError)
    // Another box (another key ring) does not share what this one opened.
    expect(() => SecretBox.fromKeyring(`a:${keyB}`).decrypt(envelope, 'processing_module:1:password')).toThrow(SecretsError)
  })

  it('parses key rings strictly without echoing keys', () => {
    expect(SecretBox.fromKeyring(keyA).activeKeyId).toMatch(/^k[0-9a-f]{10}$/)
    for (const bad of ['', 'short', `a:${keyA},a:${keyB}`, `bad id:${keyA}`, Buffer.alloc(16).toString('base64')]) {
      try {
        SecretBox.fromKeyring(bad)
        expect.unreachable(bad)
      } catch (err) {
        expect((err as SecretsError).code).toBe('SECRETS_KEY_INVALID')
        expect((err as Error).message).not.toContain(keyA)
      }
    }
    expect(SecretBox.generateKeyEntry('k2')).toMatch(/^k2:[A-Za-z0-9+/]{43}=$/)
  })
})
