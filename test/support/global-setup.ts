// Once per `npm test`: find a PostgreSQL server (DATABASE_URL, an admin URL that may create
// databases, or an embedded one of our own), build a migrated template database, and hand both
// to the test files. Everything this run creates carries the run's id and is dropped at the end.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { migrate } from '../../src/db/migrate.js'
import { databaseUrlFor, dropDatabasesWithPrefix } from './pg-admin.js'

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string
    templateDb: string
    runId: string
  }
}

const quiet = { info: () => {}, warn: (o: object, m: string) => console.warn(m, o), debug: () => {} }

export default async function setup (project: TestProject) {
  const runId = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  let embedded: EmbeddedPostgres | undefined
  let dataDir: string | undefined
  let adminUrl = process.env.DATABASE_URL
  if (!adminUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'enom-ssl-test-pg-'))
    embedded = await startEmbeddedPostgres({ dataDir, log: quiet })
    adminUrl = embedded.adminUrl
  }
  const templateDb = `enom_test_${runId}_template`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${templateDb}`)
  } finally {
    await admin.end()
  }
  await migrate(databaseUrlFor(adminUrl, templateDb))

  project.provide('adminUrl', adminUrl)
  project.provide('templateDb', templateDb)
  project.provide('runId', runId)

  return async () => {
    await dropDatabasesWithPrefix(adminUrl, `enom_test_${runId}_`)
    await embedded?.stop({ remove: true })
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  }
}
