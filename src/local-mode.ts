// The embedded local mode (no DATABASE_URL): what a newcomer needs to run the service with no
// set-up is made once and kept in DATA_DIR — a secrets key and an admin token, each in a file
// readable by its owner only. Start-up says where they are, never what they are.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { SecretBox } from './domain/secrets.js'

export interface LocalSecrets {
  secretsKey: string
  apiTokens: string
}

function readOrCreate (path: string, make: () => string): { value: string, created: boolean } {
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false }
  const value = make()
  // 'wx': never overwrite a file another process created a moment ago.
  try {
    writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' })
    return { value, created: true }
  } catch {
    return { value: readFileSync(path, 'utf8').trim(), created: false }
  }
}

export function prepareLocalSecrets (dataDir: string, given: { secretsKey?: string, apiTokens?: string }, log: Logger): LocalSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  let secretsKey = given.secretsKey
  if (!secretsKey) {
    const path = join(dataDir, 'secrets.key')
    const key = readOrCreate(path, () => SecretBox.generateKeyEntry('local1'))
    secretsKey = key.value
    if (key.created) {
      log.warn({ path }, 'no SECRETS_KEY: generated one for this local data folder; back it up with the data, stored eNom passwords cannot be read without it')
    }
  }
  let apiTokens = given.apiTokens
  if (!apiTokens) {
    const path = join(dataDir, 'admin-token')
    const token = readOrCreate(path, () => randomBytes(32).toString('base64url'))
    apiTokens = `local-admin:admin:${token.value}`
    log.info({ path }, `no API_TOKENS: the admin bearer token for this local instance is in ${path}`)
  }
  return { secretsKey, apiTokens }
}
