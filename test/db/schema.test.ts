// The SQL migrations must build exactly the schema that prisma/schema.prisma describes: the
// migrated database is compared with one built from the DDL Prisma itself derives from the
// schema (Prisma 6's wasm engine, offline). A schema change without its migration fails here.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, inject, it } from 'vitest'
// @ts-expect-error -- a plain .mjs script without type declarations
import { diffSql } from '../../scripts/prisma-diff.mjs'
import { createDatabaseFromTemplate, createEmptyDatabase, dropDatabase } from '../support/pg-admin.js'

const SCHEMA = new URL('../../prisma/schema.prisma', import.meta.url).pathname

interface Snapshot { enums: string[], columns: string[], indexes: string[], constraints: string[] }

async function snapshot (url: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const q = async (sql: string) => (await client.query(sql)).rows.map((r) => Object.values(r).map((v) => v === null ? '∅' : String(v)).join(' | '))
    return {
      enums: await q(`SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY 1`),
      columns: await q(`SELECT table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision, numeric_scale,
        datetime_precision, is_nullable, column_default FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`),
      indexes: await q('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = \'public\' AND tablename <> \'_prisma_migrations\' ORDER BY 1'),
      constraints: await q(`SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c
        JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '_prisma_migrations'
        AND c.contype <> 'n' ORDER BY 1, 2`)
    }
  } finally {
    await client.end()
  }
}

async function databaseFromSchema (schemaFile: string, label: string): Promise<{ url: string, drop: () => Promise<void> }> {
  const adminUrl = inject('adminUrl')
  const name = `enom_test_${inject('runId')}_schema_${label}_${process.pid}`
  const url = await createEmptyDatabase(adminUrl, name)
  const sql = await diffSql({ toFile: schemaFile, databaseUrl: url })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
  return { url, drop: () => dropDatabase(adminUrl, name) }
}

async function migratedDatabase (): Promise<{ url: string, drop: () => Promise<void> }> {
  const adminUrl = inject('adminUrl')
  const name = `enom_test_${inject('runId')}_schema_migrated_${process.pid}`
  const url = await createDatabaseFromTemplate(adminUrl, name, inject('templateDb'))
  return { url, drop: () => dropDatabase(adminUrl, name) }
}

describe('migrations and schema.prisma', () => {
  it('produce the same tables, columns, enums, indexes and constraints', async () => {
    const migrated = await migratedDatabase()
    const fromSchema = await databaseFromSchema(SCHEMA, 'prisma')
    try {
      const a = await snapshot(migrated.url)
      expect(a.columns.length).toBeGreaterThan(10)
      expect(await snapshot(fromSchema.url)).toEqual(a)
    } finally {
      await migrated.drop()
      await fromSchema.drop()
    }
  }, 60_000)

  it('differ as soon as the schema gains a column its migrations do not have', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enom-ssl-schema-'))
    const copy = join(dir, 'schema.prisma')
    copyFileSync(SCHEMA, copy)
    const source = readFileSync(copy, 'utf8')
    const changed = source.replace('  enabled              Boolean              @default(true)\n', '  enabled              Boolean              @default(true)\n  driftProbe           String?              @map("drift_probe")\n')
    expect(changed).not.toBe(source)
    writeFileSync(copy, changed)
    const migrated = await migratedDatabase()
    const fromSchema = await databaseFromSchema(copy, 'drift')
    try {
      const a = await snapshot(migrated.url)
      const b = await snapshot(fromSchema.url)
      expect(b).not.toEqual(a)
      expect(b.columns.filter((c) => !a.columns.includes(c)).join('\n')).toMatch(/drift_probe/)
    } finally {
      await migrated.drop()
      await fromSchema.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
