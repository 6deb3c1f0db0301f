import { describe, expect, it } from 'vitest'
import { createGatherer, type Pending } from '../../src/lib/gather.js'

/** A sender whose batches stay under way until released, so that a test decides when they come back. */
function heldSender () {
  const batches: number[][] = []
  const release: Array<() => void> = []
  const send = (batch: Array<Pending<number, string>>) => {
    batches.push(batch.map((p) => p.item))
    return new Promise<void>((resolve) => {
      release.push(() => {
        for (const p of batch) p.resolve(`done ${p.item}`)
        resolve()
      })
    })
  }
  const releaseAll = async () => {
    while (release.length > 0) release.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { batches, send, releaseAll }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('gathering writes into batches', () => {
  it('sends a lone item at once, and what comes while it is under way together after it', async () => {
    const sender = heldSender()
    const g = createGatherer<number, string>({ send: sender.send, max: 10, sending: 1 })
    const first = g.add(1)
    expect(sender.batches).toEqual([[1]])
    const rest = [2, 3, 4].map((n) => g.add(n))
    await turn()
    expect(sender.batches).toEqual([[1]])
    await sender.releaseAll()
    expect(await first).toBe('done 1')
    expect(sender.batches).toEqual([[1], [2, 3, 4]])
    await sender.releaseAll()
    expect(await Promise.all(rest)).toEqual(['done 2', 'done 3', 'done 4'])
  })

  it('keeps lanes apart, fills batches up to the most allowed and keeps to the batches allowed under way', async () => {
    const sender = heldSender()
    const g = createGatherer<number, string>({ send: sender.send, max: 4, sending: 3, laneOf: (n) => (n % 2 === 0 ? 'even' : 'odd') })
    const all = [1, 2].map((n) => g.add(n))
    expect(sender.batches).toEqual([[1], [2]])
    // While 1 is under way, eleven more odd ones: two batches may go this turn (three at most
    // under way), each as full as allowed; the rest waits for one to come back.
    all.push(...[3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23].map((n) => g.add(n)))
    await turn()
    expect(sender.batches).toEqual([[1], [2], [3, 5, 7, 9], [11, 13, 15, 17]])
    await sender.releaseAll()
    expect(sender.batches.slice(4)).toEqual([[19, 21, 23]])
    await sender.releaseAll()
    expect(await Promise.all(all)).toEqual([1, 2, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23].map((n) => `done ${n}`))
  })

  it('rejects the items a batch left unanswered, with the error the batch failed with', async () => {
    let calls = 0
    const g = createGatherer<number, string>({
      max: 10,
      sending: 1,
      send: async (batch) => {
        calls++
        if (calls === 1) return
        for (const p of batch) if (p.item % 2 === 0) p.resolve('answered')
        throw new Error('statement failed')
      }
    })
    await expect(g.add(1)).rejects.toThrow('the batch did not answer this item')
    const [a, b] = [g.add(2), g.add(3)]
    await expect(a).resolves.toBe('answered')
    await expect(b).rejects.toThrow('statement failed')
  })
})
