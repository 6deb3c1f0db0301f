// The module read that skips Prisma must return exactly what Prisma's findUnique returns, field
// for field, for rows with every column set and with every nullable column null.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../src/db/database.js'
import { createModuleRepository } from '../../src/db/module-repository.js'
import { createLogger } from '../../src/logger.js'
import { createTestDatabase, type TestDatabase } from '../support/app.js'

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

describe('module repository findById', () => {
  it('returns the row Prisma returns, for full and sparse rows, and null for an unknown id', async () => {
    const repo = createModuleRepository(db.prisma, db.pool)
    const full = await repo.insert({
      id: '01900000-0000-7000-8000-0000000000a1',
      name: 'full',
      dataCenter: 'dc',
      department: 'ssl',
      sort: -3,
      minimalBalance: '1234.50',
      minimalBalancePolicy: 'block',
      environment: 'test',
      apiUrl: 'https://resellertest.enom.com/interface.asp',
      username: 'user',
      passwordEnc: 'v1:k:iv:ct:tag',
      addNewClient: true,
      enabled: false
    }, {
      enomAccount: '123-ab-4567',
      enomPartyId: 'party',
      lastCheckAt: new Date('2026-11-26T10:11:12.345Z'),
      lastCheckOk: false,
      lastCheckCause: 'auth',
      lastCheckDetail: 'bad password',
      balance: '-12.30',
      availableBalance: '99999999.99',
      balanceFetchedAt: new Date('2026-11-26T10:11:13.001Z')
    })
    await db.pool.query("UPDATE processing_module SET deleted_at = now(), low_balance_since = now() - interval '1 day' WHERE id = $1", [full.id])
    const sparse = await repo.insert({
      id: '01900000-0000-7000-8000-0000000000a2',
      name: 'sparse',
      dataCenter: 'dc',
      department: 'ssl',
      sort: 0,
      minimalBalance: null,
      minimalBalancePolicy: 'notify',
      environment: 'live',
      apiUrl: 'https://reseller.enom.com/interface.asp',
      username: 'u',
      passwordEnc: 'v1:k:iv:ct:tag',
      addNewClient: false,
      enabled: true
    })
    for (const id of [full.id, sparse.id]) {
      const fromPrisma = await db.prisma.processingModule.findUnique({ where: { id } })
      const fromPool = await repo.findById(id)
      expect(fromPool).toEqual(fromPrisma)
      expect(Object.keys(fromPool ?? {}).sort()).toEqual(Object.keys(fromPrisma ?? {}).sort())
    }
    const fetched = await repo.findById(full.id)
    expect(fetched?.balance?.toFixed(2)).toBe('-12.30')
    expect(fetched?.minimalBalance?.toFixed(2)).toBe('1234.50')
    expect(await repo.findById('01900000-0000-7000-8000-0000000000ff')).toBeNull()
  })
})
