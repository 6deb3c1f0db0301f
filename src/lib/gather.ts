// Gathers writes into batches, so that a burst of them costs a few statements instead of one (and
// one commit) each. An item that finds nothing of its lane being sent goes at once, alone: a lone
// write waits for nothing. Items that come while some of their lane are being sent wait: for the
// end of the event loop's turn when fewer than `sending` batches are under way (the turn's other
// items join them), else for a batch to come back.

/** One gathered item and how to answer it. */
export interface Pending<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (err: unknown) => void
}

export interface GatherOptions<T, R> {
  /** Sends one batch; must answer each of its items (an item left unanswered is rejected). */
  send: (batch: Array<Pending<T, R>>) => Promise<void>
  /** The most items in one batch. */
  max: number
  /** The most batches of one lane being sent at a time. */
  sending: number
  /** Items of different lanes never share a batch (default: one lane). */
  laneOf?: (item: T) => string
}

interface Lane<T, R> { waiting: Array<Pending<T, R>>, sending: number, scheduled: boolean }

export interface Gatherer<T, R> {
  /** Queues the item; resolves with its answer once its batch is sent. */
  add: (item: T) => Promise<R>
}

export function createGatherer<T, R> (options: GatherOptions<T, R>): Gatherer<T, R> {
  const lanes = new Map<string, Lane<T, R>>()

  function pump (key: string, lane: Lane<T, R>) {
    lane.scheduled = false
    while (lane.sending < options.sending && lane.waiting.length > 0) {
      // As full a batch as allowed first: each batch is a statement and a commit.
      const batch = lane.waiting.splice(0, options.max)
      lane.sending++
      run(batch).finally(() => {
        lane.sending--
        if (lane.waiting.length > 0) {
          pump(key, lane)
        } else if (lane.sending === 0 && !lane.scheduled) {
          lanes.delete(key)
        }
      }).catch(() => undefined)
    }
  }

  async function run (batch: Array<Pending<T, R>>) {
    const open = new Set(batch)
    const answered = batch.map((p) => ({
      item: p.item,
      resolve: (result: R) => { open.delete(p); p.resolve(result) },
      reject: (err: unknown) => { open.delete(p); p.reject(err) }
    }))
    let failure: unknown = new Error('the batch did not answer this item')
    try {
      await options.send(answered)
    } catch (err) {
      failure = err
    }
    for (const p of open) p.reject(failure)
  }

  return {
    add (item: T): Promise<R> {
      const key = options.laneOf?.(item) ?? ''
      let lane = lanes.get(key)
      if (!lane) {
        lane = { waiting: [], sending: 0, scheduled: false }
        lanes.set(key, lane)
      }
      const line = lane
      return new Promise<R>((resolve, reject) => {
        line.waiting.push({ item, resolve, reject })
        if (line.sending === 0 && line.waiting.length === 1) {
          // Nothing of the lane under way: the item goes at once, alone; what comes while it is
          // being sent waits for it and goes together.
          pump(key, line)
        } else if (!line.scheduled && line.sending < options.sending) {
          // The turn's other items join this one. The batch runs in the context of the request
          // whose item came first: an item that needs its own request's context carries it.
          line.scheduled = true
          setImmediate(() => pump(key, line))
        }
      })
    }
  }
}
