// Ids are UUIDv7: time first, then random bits; ids of one process increase even within one
// millisecond, and their random parts are drawn from a pooled buffer without ever repeating.
import { describe, expect, it } from 'vitest'
import { isUuid, newId } from '../../src/domain/ids.js'

describe('newId', () => {
  it('makes distinct, increasing version-7 UUIDs across many refills of its random pool', () => {
    const ids = Array.from({ length: 5000 }, () => newId())
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) {
      expect(isUuid(id)).toBe(true)
      expect(id[14]).toBe('7')
      expect('89ab').toContain(id[19])
    }
    expect([...ids].sort()).toEqual(ids)
    // The random tail (the last 62 bits) is never shared, not even between ids of one millisecond.
    const tails = new Set(ids.map((id) => id.slice(19)))
    expect(tails.size).toBe(ids.length)
  })

  it('puts the given time first (a time after every id made so far)', () => {
    const at = Date.now() + 60_000
    const id = newId(at)
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at)
  })
})
