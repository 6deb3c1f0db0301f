import { describe, expect, it } from 'vitest'
import { WindowCounter } from '../../src/plugins/limits.js'

describe('the rate limiter\'s windows', () => {
  it('count per key in a window that starts at the key\'s first request, and start again after it', () => {
    let now = 1_000
    const windows = new WindowCounter(60_000, 100, () => now)
    expect(windows.hit('a')).toEqual({ count: 1, resetAt: 61_000 })
    now = 30_000
    expect(windows.hit('a')).toEqual({ count: 2, resetAt: 61_000 })
    expect(windows.hit('b')).toEqual({ count: 1, resetAt: 90_000 })
    now = 61_000
    expect(windows.hit('a')).toEqual({ count: 1, resetAt: 121_000 })
    expect(windows.hit('b').count).toBe(2)
  })

  it('keep at most maxKeys windows: expired ones go first, then the oldest', () => {
    let now = 0
    const windows = new WindowCounter(1_000, 10, () => now)
    for (let i = 0; i < 9; i++) windows.hit(`old-${i}`)
    now = 600
    windows.hit('current')
    expect(windows.size).toBe(10)
    // Full: the nine expired windows make room; the current one is kept with its count.
    now = 1_200
    windows.hit('new-0')
    expect(windows.size).toBe(2)
    expect(windows.hit('current')).toEqual({ count: 2, resetAt: 1_600 })
    // Full with current windows only: the oldest tenth (one, 'current') goes.
    for (let i = 1; i < 9; i++) windows.hit(`new-${i}`)
    expect(windows.size).toBe(10)
    windows.hit('newest')
    expect(windows.size).toBe(10)
    expect(windows.hit('current').count).toBe(1)
    expect(windows.hit('new-8').count).toBe(2)
  })
})
