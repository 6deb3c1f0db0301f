// Building the service for a test: its own database (a copy of the migrated template), the real
// configuration parser, known tokens per role, and the log lines kept in memory for assertions.
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { inject } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { openDatabase, type Database } from '../../src/db/database.js'
import { TokenRegistry, type Role } from '../../src/domain/access.js'
import { SecretBox } from '../../src/domain/secrets.js'
import { createLogger } from '../../src/logger.js'
import type { EnomClient } from '../../src/enom/client.js'
import type { Logger } from 'pino'
import { createDatabaseFromTemplate, dropDatabase } from './pg-admin.js'

let counter = 0

export interface TestDatabase {
  url: string
  name: string
  drop: () => Promise<void>
}

/** A fresh, migrated database for this test file (or test). */
export async function createTestDatabase (): Promise<TestDatabase> {
  const name = `enom_test_${inject('runId')}_${process.pid}_${++counter}_${randomBytes(2).toString('hex')}`
  const url = await createDatabaseFromTemplate(inject('adminUrl'), name, inject('templateDb'))
  return { url, name, drop: () => dropDatabase(inject('adminUrl'), name) }
}

export const TOKENS: Record<Role, string> = {
  admin: 'test-admin-token-0123456789abcdef',
  billing: 'test-billing-token-0123456789abcdef',
  ops: 'test-ops-token-0123456789abcdef'
}
export const API_TOKENS = `root:admin:${TOKENS.admin},shop:billing:${TOKENS.billing},watch:ops:${TOKENS.ops}`
export const SECRETS_KEY = `test1:${randomBytes(32).toString('base64')}`

export const auth = (role: Role) => ({ authorization: `Bearer ${TOKENS[role]}` })

export function testConfig (databaseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    SECRETS_KEY,
    API_TOKENS,
    LOG_LEVEL: 'info',
    // A test process also runs simulators, key generation and other files' work on the same event
    // loop: its lag says nothing about the app. The tests of load shedding turn it on themselves.
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...env
  })
}

export interface TestApp {
  app: FastifyInstance
  db: Database
  config: Config
  secrets: SecretBox
  /** Every log line the app wrote, as JSON text. */
  logs: string[]
  close: () => Promise<void>
}

export type EnomClientFactory = (config: Config, logger: Logger) => EnomClient

export async function startTestApp (database: TestDatabase, env: Record<string, string> = {}, enomClient?: EnomClientFactory): Promise<TestApp> {
  const config = testConfig(database.url, env)
  const logs: string[] = []
  const sink = new Writable({
    write (chunk, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    }
  })
  const logger = createLogger(config.logLevel, sink)
  const db = openDatabase({ url: database.url, max: config.dbPoolMax, acquireTimeoutMs: config.dbAcquireTimeoutMs, log: logger })
  const secrets = SecretBox.fromKeyring(config.secretsKey as string)
  const client = enomClient?.(config, logger)
  const app = await buildApp({ config, db, secrets, tokens: TokenRegistry.parse(config.apiTokens as string), logger, ...(client ? { enomClient: client } : {}) })
  await app.ready()
  return {
    app,
    db,
    config,
    secrets,
    logs,
    async close () {
      await app.close()
      await client?.close()
      await db.close()
    }
  }
}

/**
 * Empties tables between tests. The app's queued eNom call rows are written first; a batch the
 * job runner queues meanwhile can still take its locks in the other order than TRUNCATE ...
 * CASCADE (enom_call, then processing_module), so a deadlock is retried.
 */
export async function truncate (t: TestApp, tables: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await t.app.services.calls.flush()
    try {
      await t.db.pool.query(`TRUNCATE ${tables} CASCADE`)
      return
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err
    }
  }
}
