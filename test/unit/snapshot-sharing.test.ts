// The newest-CertID reading a purchase is judged by: orders on one account share the reading under
// way, or the one that came back after they arrived; an order that arrived after it came back, or
// a caller without an arrival (a job), reads eNom again; a failed reading is not shared.
import { describe, expect, it } from 'vitest'
import type { ModuleRow } from '../../src/db/module-repository.js'
import type { OrderDeps } from '../../src/domain/orders/context.js'
import { sharedSnapshotOf } from '../../src/domain/orders/snapshots.js'

function setUp () {
  let newest = 100
  let failNext = false
  const calls: string[] = []
  const deps = {
    snapshots: new Map(),
    secrets: { decrypt: () => 'pw' },
    gateway: {
      call: async (_target: unknown, command: string) => {
        calls.push(command)
        await new Promise((resolve) => setTimeout(resolve, 5))
        if (failNext) {
          failNext = false
          throw new Error('eNom unreachable')
        }
        return { certs: [{ certId: String(++newest) }] }
      }
    }
  } as unknown as OrderDeps
  const module = { id: 'm1', apiUrl: 'https://reseller.enom.com/interface.asp', username: 'acct', passwordEnc: 'x' } as unknown as ModuleRow
  return { deps, module, calls, failOnce: () => { failNext = true } }
}

describe('the CertID snapshot orders share', () => {
  it('is the reading under way or the one that came back after the order arrived', async () => {
    const { deps, module, calls } = setUp()
    const arrived = Date.now()
    const [a, b] = await Promise.all([sharedSnapshotOf(deps, module, { receivedAt: arrived }), sharedSnapshotOf(deps, module, { receivedAt: arrived })])
    expect([a, b, calls.length]).toEqual([101, 101, 1])
    // Arrived before that reading came back, here only now: the same reading.
    expect(await sharedSnapshotOf(deps, module, { receivedAt: arrived })).toBe(101)
    expect(calls).toHaveLength(1)
    // Arrived after it came back: a reading of its own. So does a caller that did not arrive (a job).
    await new Promise((resolve) => setTimeout(resolve, 2))
    expect(await sharedSnapshotOf(deps, module, { receivedAt: Date.now() })).toBe(102)
    expect(await sharedSnapshotOf(deps, module, {})).toBe(103)
    expect(calls).toHaveLength(3)
  })

  it('is never a failed reading once it failed', async () => {
    const { deps, module, calls, failOnce } = setUp()
    const arrived = Date.now()
    failOnce()
    await expect(sharedSnapshotOf(deps, module, { receivedAt: arrived })).rejects.toThrow()
    expect(await sharedSnapshotOf(deps, module, { receivedAt: arrived })).toBe(101)
    expect(calls).toHaveLength(2)
  })
})
