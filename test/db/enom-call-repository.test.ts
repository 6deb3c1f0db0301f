// The eNom call audit rows are written in batches off the request path: within the flush delay,
// in one INSERT per batch, everything on close, and a failed batch never throws at the caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../src/db/database.js'
import { createEnomCallRepository, type EnomCallRow } from '../../src/db/enom-call-repository.js'
import { newId } from '../../src/domain/ids.js'
import { createLogger } from '../../src/logger.js'
import { createTestDatabase, type TestDatabase } from '../support/app.js'
import { waitFor } from '../support/wait.js'

let database: TestDatabase
let db: Database

beforeAll(async () => {
  database = await createTestDatabase()
  db = openDatabase({ url: database.url, max: 2, acquireTimeoutMs: 5000, log: createLogger('silent') })
})
afterAll(async () => {
  await db?.close()
  await database?.drop()
})

const row = (command: string): EnomCallRow => ({ id: newId(), moduleId: null, orderId: null, command, startedAt: new Date(), durationMs: 3, outcome: 'ok', responseNumber: null, requestId: 'req-1' })
const count = async (command: string) => (await db.pool.query('SELECT count(*)::int AS n FROM enom_call WHERE command = $1', [command])).rows[0].n as number

describe('eNom call repository', () => {
  it('writes queued rows within the flush delay, a full batch at once, and the rest on close', async () => {
    const calls = createEnomCallRepository(db.pool, { flushMs: 50, maxBatch: 10 })
    calls.insert(row('Delayed'))
    expect(await count('Delayed')).toBe(0)
    await waitFor(async () => await count('Delayed') === 1 ? true : undefined, { timeoutMs: 5000, intervalMs: 20 })

    const slow = createEnomCallRepository(db.pool, { flushMs: 60_000, maxBatch: 10 })
    for (let i = 0; i < 25; i++) slow.insert(row('Burst'))
    await waitFor(async () => await count('Burst') === 20 ? true : undefined, { timeoutMs: 5000, intervalMs: 20 })
    await slow.close()
    expect(await count('Burst')).toBe(25)
  })

  it('drops a batch it cannot write, reports it, and never throws at the caller', async () => {
    const errors: number[] = []
    const calls = createEnomCallRepository(db.pool, { flushMs: 10, onError: (_err, rows) => errors.push(rows) })
    const bad = { ...row('Bad'), id: 'not-a-uuid' }
    expect(() => calls.insert(bad)).not.toThrow()
    await calls.close()
    expect(errors).toEqual([1])
    calls.insert(row('After'))
    await calls.close()
    expect(await count('After')).toBe(1)
  })
})
