// Named statements on pg (db/sql.ts): after its first execution a statement goes out without
// Describe, its rows parsed with the description kept from that first answer. The rows must be
// what pg's own Query returns, on every connection, and errors must still come back as pg's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { openDatabase, type Database } from '../../src/db/database.js'
import { runPrepared } from '../../src/db/prepared-query.js'
import { query, transaction } from '../../src/db/sql.js'
import { createLogger } from '../../src/logger.js'
import { createTestDatabase, type TestDatabase } from '../support/app.js'

let database: TestDatabase
let db: Database

beforeAll(async () => {
  database = await createTestDatabase()
  db = openDatabase({ url: database.url, max: 2, acquireTimeoutMs: 5000, log: createLogger('silent') })
  await db.pool.query('CREATE TABLE sql_probe (id int PRIMARY KEY, name text, at timestamptz, amount numeric, tags text[], doc jsonb)')
})
afterAll(async () => {
  await db?.close()
  await database?.drop()
})

/** Counts the Describe messages a checked-out client sends while `fn` runs. */
async function describesDuring (client: pg.PoolClient, fn: () => Promise<unknown>): Promise<number> {
  const connection = (client as unknown as { connection: { describe: (m: unknown) => void } }).connection
  const original = connection.describe
  let count = 0
  connection.describe = function (this: unknown, m: unknown) {
    count++
    return original.call(this, m)
  }
  try {
    await fn()
  } finally {
    connection.describe = original
  }
  return count
}

describe('named statements on pg', () => {
  const insert = 'INSERT INTO sql_probe (id, name, at, amount, tags, doc) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, at, amount::text AS amount, tags, doc'
  const select = 'SELECT id, name, at, amount::text AS amount, tags, doc FROM sql_probe WHERE id = $1'

  it('are described once and return the rows pg returns', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z')
    const client = await db.pool.connect()
    try {
      const first = await describesDuring(client, () => query(client, insert, [1, 'one', at, '9.95', ['a', 'b'], JSON.stringify({ k: 1 })]))
      const rows: unknown[] = []
      const later = await describesDuring(client, async () => {
        rows.push(...await query(client, select, [1]))
        rows.push(...await query(client, select, [1]))
        rows.push(...await query(client, select, [404]))
      })
      // The select's first execution is described; its next ones, and the insert's, are not.
      expect(first).toBe(1)
      expect(later).toBe(1)
      const plain = (await client.query(select, [1])).rows[0]
      expect(rows).toEqual([plain, plain])
      expect(plain).toEqual({ id: 1, name: 'one', at, amount: '9.95', tags: ['a', 'b'], doc: { k: 1 } })
      expect(await describesDuring(client, () => query(client, insert, [2, null, null, null, null, null]))).toBe(0)
      expect(await query(client, select, [2])).toEqual([{ id: 2, name: null, at: null, amount: null, tags: null, doc: null }])
    } finally {
      client.release()
    }
  })

  it('run on the pool and on other connections with the kept description', async () => {
    const [a, b] = [await db.pool.connect(), await db.pool.connect()]
    try {
      const onB = await describesDuring(b, () => query(b, select, [1]))
      expect(onB).toBe(0)
      expect((await query<{ name: string }>(a, select, [1]))[0]?.name).toBe('one')
    } finally {
      a.release()
      b.release()
    }
    expect(await runPrepared(db.pool, 'sql_probe_count', 'SELECT count(*)::int AS n FROM sql_probe', [])).toEqual([{ n: 2 }])
    expect(await runPrepared(db.pool, 'sql_probe_count', 'SELECT count(*)::int AS n FROM sql_probe', [])).toEqual([{ n: 2 }])
  })

  it('fail as pg fails, and the connection goes on', async () => {
    const err = await query(db.pool, insert, [1, 'again', null, null, null, null]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(pg.DatabaseError)
    expect((err as pg.DatabaseError).code).toBe('23505')
    // A value pg cannot send is refused before anything goes out.
    const circular: Record<string, unknown> = {}
    circular.self = circular
    await expect(query(db.pool, select, [circular])).rejects.toThrow()
    await expect(transaction(db.pool, async (tx) => {
      await query(tx, insert, [3, 'three', null, null, null, null])
      return query(tx, select, [3])
    })).resolves.toHaveLength(1)
    expect(await query(db.pool, select, [3])).toHaveLength(1)
  })
})
