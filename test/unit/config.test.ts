import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, parseAllowedOrigins } from '../../src/config.js'

const KEY = 'k1:' + Buffer.alloc(32, 7).toString('base64')
const TOKENS = 'a:admin:aaaaaaaaaaaaaaaaaaaa'

describe('loadConfig', () => {
  it('has working defaults for the embedded local mode', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', logLevel: 'info', databaseUrl: undefined, dbPoolMax: 10, shutdownGraceMs: 10_000 })
    expect(config.dataDir).toMatch(/\.data$/)
    expect(config.enomAllowedOrigins).toEqual([
      { origin: 'https://reseller.enom.com', environment: 'live', allowPrivate: false },
      { origin: 'https://resellertest.enom.com', environment: 'test', allowPrivate: false }
    ])
  })

  it('requires SECRETS_KEY and API_TOKENS with DATABASE_URL, naming what is missing', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://x@h/db' })).toThrow(/SECRETS_KEY \(or SECRETS_KEY_FILE\) and API_TOKENS \(or API_TOKENS_FILE\) must be set/)
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://x@h/db', SECRETS_KEY: KEY })).toThrow(/API_TOKENS/)
    expect(loadConfig({ DATABASE_URL: 'postgresql://x@h/db', SECRETS_KEY: KEY, API_TOKENS: TOKENS }).databaseUrl).toBe('postgresql://x@h/db')
  })

  it('reads secrets from *_FILE variables and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'))
    writeFileSync(join(dir, 'key'), KEY + '\n')
    writeFileSync(join(dir, 'tokens'), TOKENS + '\n')
    const config = loadConfig({ DATABASE_URL: 'postgresql://x@h/db', SECRETS_KEY_FILE: join(dir, 'key'), API_TOKENS_FILE: join(dir, 'tokens') })
    expect(config.secretsKey).toBe(KEY)
    expect(config.apiTokens).toBe(TOKENS)
    expect(() => loadConfig({ SECRETS_KEY: KEY, SECRETS_KEY_FILE: join(dir, 'key') })).toThrow(/not both/)
    expect(() => loadConfig({ API_TOKENS_FILE: join(dir, 'missing') })).toThrow(/cannot read/)
  })

  it('converts and checks types, naming the variable but never echoing its value', () => {
    expect(loadConfig({ PORT: '8080', TRUST_PROXY: 'true' })).toMatchObject({ port: 8080, trustProxy: true })
    for (const env of [{ PORT: 'eighty' }, { PORT: '70000' }, { LOG_LEVEL: 'loud' }, { DATABASE_URL: 'mysql://secret-value@h/db' }]) {
      let message = ''
      try {
        loadConfig(env)
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError)
        message = (err as Error).message
      }
      expect(message).toMatch(new RegExp(Object.keys(env)[0]!))
      expect(message).not.toContain('secret-value')
    }
  })
})

describe('ENOM_ALLOWED_ORIGINS', () => {
  it('keeps eNom hosts public-only and lets extra origins say their environment', () => {
    expect(parseAllowedOrigins('https://reseller.enom.com,http://127.0.0.1:8081,http://localhost:8081=test')).toEqual([
      { origin: 'https://reseller.enom.com', environment: 'live', allowPrivate: false },
      { origin: 'http://127.0.0.1:8081', environment: 'live', allowPrivate: true },
      { origin: 'http://localhost:8081', environment: 'test', allowPrivate: true }
    ])
  })

  it.each([
    ['a path', 'https://reseller.enom.com/interface.asp'],
    ['not a URL', 'reseller.enom.com'],
    ['a wrong environment for an eNom host', 'https://reseller.enom.com=test'],
    ['an unknown environment', 'http://127.0.0.1:1=staging'],
    ['another scheme', 'ftp://reseller.enom.com'],
    ['nothing', ' , ']
  ])('refuses %s', (_label, value) => {
    expect(() => parseAllowedOrigins(value)).toThrow(ConfigError)
  })
})
