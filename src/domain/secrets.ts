// Encryption of stored secrets (eNom passwords, later webhook secrets) with AES-256-GCM.
//
// Envelope: `v1:<keyId>:<iv>:<ciphertext>:<tag>` (base64url parts). The key id says which key
// of the ring decrypts it, so keys can be rotated: the first key of SECRETS_KEY encrypts, every
// key decrypts. The caller binds each ciphertext to where it is stored (associated data such as
// `processing_module:<id>:password`), so a ciphertext copied onto another row does not decrypt.
// Failures are closed: an unknown key id or a tampered envelope is an error, never plaintext.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

export class SecretsError extends Error {
  override name = 'SecretsError'
  constructor (readonly code: 'SECRETS_KEY_INVALID' | 'SECRET_KEY_UNKNOWN' | 'SECRET_UNREADABLE', message: string) {
    super(message)
  }
}

interface Key { id: string, bytes: Buffer }

function decodeKey (text: string): Buffer | undefined {
  const normalized = text.replace(/-/g, '+').replace(/_/g, '/')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(normalized)) return undefined
  const bytes = Buffer.from(normalized, 'base64')
  return bytes.length === 32 ? bytes : undefined
}

/** A key id for a key given without one: stable, and reveals nothing usable about the key. */
function derivedKeyId (bytes: Buffer): string {
  return 'k' + createHash('sha256').update('enom-ssl-service key id').update(bytes).digest('hex').slice(0, 10)
}

export class SecretBox {
  private readonly keys: Map<string, Buffer>
  private readonly active: Key

  private constructor (keys: Key[]) {
    this.keys = new Map(keys.map((k) => [k.id, k.bytes]))
    this.active = keys[0] as Key
  }

  /**
   * Parses SECRETS_KEY: comma-separated entries, each `keyId:base64` or a bare base64 key,
   * 32 bytes after decoding. The message names the entry in error, never its value.
   */
  static fromKeyring (text: string): SecretBox {
    const entries = text.split(/[,\n]/).map((e) => e.trim()).filter(Boolean)
    if (entries.length === 0) throw new SecretsError('SECRETS_KEY_INVALID', 'SECRETS_KEY holds no key')
    const keys: Key[] = entries.map((entry, i) => {
      const colon = entry.indexOf(':')
      const id = colon >= 0 ? entry.slice(0, colon) : undefined
      const bytes = decodeKey(colon >= 0 ? entry.slice(colon + 1) : entry)
      if (!bytes) throw new SecretsError('SECRETS_KEY_INVALID', `SECRETS_KEY entry ${i + 1} is not a 32-byte base64 key`)
      if (id !== undefined && !KEY_ID.test(id)) {
        throw new SecretsError('SECRETS_KEY_INVALID', `SECRETS_KEY entry ${i + 1}: a key id is 1-32 characters of A-Z a-z 0-9 _ -`)
      }
      return { id: id ?? derivedKeyId(bytes), bytes }
    })
    const ids = new Set(keys.map((k) => k.id))
    if (ids.size !== keys.length) throw new SecretsError('SECRETS_KEY_INVALID', 'SECRETS_KEY has two keys with the same id')
    return new SecretBox(keys)
  }

  /** A new random key entry for SECRETS_KEY. */
  static generateKeyEntry (id: string): string {
    if (!KEY_ID.test(id)) throw new SecretsError('SECRETS_KEY_INVALID', 'invalid key id')
    return `${id}:${randomBytes(32).toString('base64')}`
  }

  get activeKeyId (): string {
    return this.active.id
  }

  encrypt (plaintext: string, associatedData: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.active.bytes, iv, { authTagLength: 16 })
    cipher.setAAD(Buffer.from(associatedData, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return [VERSION, this.active.id, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join(':')
  }

  decrypt (envelope: string, associatedData: string): string {
    // Each eNom call needs its module's password: an envelope opened once is kept (bounded), as
    // the keys that open every envelope are kept in this process anyway.
    const memo = `${associatedData}\n${envelope}`
    let plain = this.opened.get(memo)
    if (plain === undefined) {
      plain = this.open(envelope, associatedData)
      if (this.opened.size >= 1000) this.opened.clear()
      this.opened.set(memo, plain)
    }
    return plain
  }

  private readonly opened = new Map<string, string>()

  private open (envelope: string, associatedData: string): string {
    const parts = envelope.split(':')
    if (parts.length !== 5 || parts[0] !== VERSION) {
      throw new SecretsError('SECRET_UNREADABLE', 'stored secret is not a v1 envelope')
    }
    const [, keyId, ivText, ctText, tagText] = parts as [string, string, string, string, string]
    const key = this.keys.get(keyId)
    if (!key) throw new SecretsError('SECRET_KEY_UNKNOWN', `stored secret was encrypted with key "${keyId}", which SECRETS_KEY does not hold`)
    const iv = Buffer.from(ivText, 'base64url')
    const tag = Buffer.from(tagText, 'base64url')
    if (iv.length !== 12 || tag.length !== 16) throw new SecretsError('SECRET_UNREADABLE', 'stored secret envelope is damaged')
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
      decipher.setAAD(Buffer.from(associatedData, 'utf8'))
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      throw new SecretsError('SECRET_UNREADABLE', 'stored secret failed authentication (tampered, or bound to another record)')
    }
  }

  /** The key id an envelope was made with, to find what a rotation must re-encrypt. */
  static keyIdOf (envelope: string): string | undefined {
    const parts = envelope.split(':')
    return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined
  }
}
