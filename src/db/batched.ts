// Batches of writes (lib/gather.ts) that PostgreSQL refuses: nothing of such a statement was
// written, so its items are sent again one by one, in the order they came, each to get the answer
// it would have had alone.
import type { Pending } from '../lib/gather.js'
import { refusedByServer } from './errors.js'

/**
 * Sends `batch` with `send`. When PostgreSQL refuses a batch of several, each item is sent alone,
 * one after the other; any other failure (a connection lost on the way: whether the statement
 * committed is not known) is every item's answer, as `failure` makes it of the error and the batch.
 */
export async function aloneIfRefused<T, R> (batch: Array<Pending<T, R>>, send: (batch: Array<Pending<T, R>>) => Promise<void>,
  failure: (err: unknown, batch: Array<Pending<T, R>>) => unknown = (err) => err): Promise<void> {
  try {
    await send(batch)
  } catch (err) {
    if (batch.length > 1 && refusedByServer(err)) {
      for (const p of batch) await aloneIfRefused([p], send, failure)
      return
    }
    const answer = failure(err, batch)
    for (const p of batch) p.reject(answer)
  }
}
