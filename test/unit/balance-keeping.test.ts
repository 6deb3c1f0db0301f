// Balance readings kept on the module: an order's reading (nobody waits for its write) is written
// at most once per KEEP_EVERY_MS per module, the newest one when the interval ends; a reading
// somebody waits for is written at once; closing writes what is still waiting.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBalanceService, KEEP_EVERY_MS, type BalanceReading } from '../../src/domain/balance.js'
import type { EnomGateway } from '../../src/domain/enom-gateway.js'
import type { ModuleRow } from '../../src/db/module-repository.js'

afterEach(() => { vi.useRealTimers() })

function setUp () {
  let balance = 100
  const written: Array<{ id: string, available: string }> = []
  const gateway = { call: async () => { balance -= 1; return { balance: `${balance}.00`, availableBalance: `${balance}.00` } } } as unknown as EnomGateway
  const balances = createBalanceService({
    gateway,
    ttlSeconds: 60,
    target: async (row) => ({ moduleId: row.id, apiUrl: 'https://reseller.enom.com/interface.asp', uid: 'u', pw: 'p' }),
    persist: async (row: ModuleRow, reading: BalanceReading) => { written.push({ id: row.id, available: reading.availableBalance }) }
  })
  const row = (id: string) => ({ id, name: id, environment: 'live', minimalBalance: null, balance: null, availableBalance: null, balanceFetchedAt: null }) as unknown as ModuleRow
  // Each order after the one before has settled (orders arriving together share one eNom read).
  const order = async (id: string) => {
    const view = await balances.get(row(id), {}, { refresh: true, keepInBackground: true })
    await vi.advanceTimersByTimeAsync(0)
    return view
  }
  return { balances, written, row, order }
}

describe('keeping balance readings', () => {
  it('writes an order\'s reading at most once per interval per module, the newest when it ends', async () => {
    vi.useFakeTimers()
    const { written, order } = setUp()
    expect((await order('m1')).availableBalance).toBe('99.00')
    await vi.advanceTimersByTimeAsync(0)
    expect(written).toEqual([{ id: 'm1', available: '99.00' }])
    // Within the interval: each order still reads eNom, but the readings wait; the newest is written.
    expect((await order('m1')).availableBalance).toBe('98.00')
    expect((await order('m1')).availableBalance).toBe('97.00')
    // Another module has an interval of its own.
    await order('m2')
    await vi.advanceTimersByTimeAsync(0)
    expect(written).toEqual([{ id: 'm1', available: '99.00' }, { id: 'm2', available: '96.00' }])
    await vi.advanceTimersByTimeAsync(KEEP_EVERY_MS)
    expect(written).toEqual([{ id: 'm1', available: '99.00' }, { id: 'm2', available: '96.00' }, { id: 'm1', available: '97.00' }])
    // The interval starts again from that write.
    await order('m1')
    await vi.advanceTimersByTimeAsync(0)
    expect(written).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(KEEP_EVERY_MS)
    expect(written.at(-1)).toEqual({ id: 'm1', available: '95.00' })
  })

  it('writes a reading somebody waits for at once, and what waits when closing', async () => {
    vi.useFakeTimers()
    const { balances, written, row, order } = setUp()
    await order('m1')
    await order('m1')
    await vi.advanceTimersByTimeAsync(0)
    expect(written).toEqual([{ id: 'm1', available: '99.00' }])
    // A balance read (refresh) waits for its write: written now, and the waiting one is dropped as older.
    expect((await balances.get(row('m1'), {}, { refresh: true })).availableBalance).toBe('97.00')
    expect(written).toEqual([{ id: 'm1', available: '99.00' }, { id: 'm1', available: '97.00' }])
    await vi.advanceTimersByTimeAsync(KEEP_EVERY_MS * 2)
    expect(written).toHaveLength(2)
    await order('m1')
    await balances.settle()
    expect(written.at(-1)).toEqual({ id: 'm1', available: '96.00' })
  })
})

describe('the reading an order\'s balance check takes', () => {
  it('is one that came back after the order arrived, else a new one; a balance read always reads anew', async () => {
    vi.useFakeTimers()
    const { balances, row } = setUp()
    const arrived = Date.now()
    await vi.advanceTimersByTimeAsync(5)
    const check = async (receivedAt: number) => {
      const view = await balances.get(row('m1'), {}, { refresh: true, keepInBackground: true, liveSince: receivedAt })
      await vi.advanceTimersByTimeAsync(0)
      return view
    }
    // The first order reads eNom; an order that arrived before that reading came back takes it.
    expect((await check(arrived)).availableBalance).toBe('99.00')
    expect((await check(arrived)).availableBalance).toBe('99.00')
    // An order that arrived after it came back reads eNom again, as does a balance read.
    await vi.advanceTimersByTimeAsync(5)
    expect((await check(Date.now())).availableBalance).toBe('98.00')
    expect((await balances.get(row('m1'), {}, { refresh: true })).availableBalance).toBe('97.00')
    // Without the order's arrival, each check reads eNom.
    expect((await balances.get(row('m1'), {}, { refresh: true, keepInBackground: true })).availableBalance).toBe('96.00')
  })
})
