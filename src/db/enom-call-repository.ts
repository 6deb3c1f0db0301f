// The eNom call audit rows. They are written in batches, off the request path: a request never
// waits for (or fails because of) its audit row, and a burst of calls costs one INSERT per batch
// instead of one commit each. A batch is written when it holds `maxBatch` rows or `flushMs`
// after its first row; close() writes what is left (the service calls it before the pool closes).
import { query, type Sql } from './sql.js'

export interface EnomCallRow {
  id: string
  moduleId: string | null
  orderId: string | null
  command: string
  startedAt: Date
  durationMs: number
  outcome: string
  responseNumber: string | null
  requestId: string | null
}

export interface EnomCallRepositoryOptions {
  flushMs?: number
  maxBatch?: number
  /** Told of a batch that could not be written (the rows are dropped: audit, not state). */
  onError?: (err: Error, rows: number) => void
}

export function createEnomCallRepository (sql: Sql, options: EnomCallRepositoryOptions = {}) {
  const flushMs = options.flushMs ?? 100
  const maxBatch = options.maxBatch ?? 200
  let buffer: EnomCallRow[] = []
  let timer: NodeJS.Timeout | undefined
  const writing = new Set<Promise<void>>()

  function flush (): Promise<void> {
    clearTimeout(timer)
    timer = undefined
    if (buffer.length === 0) return Promise.all(writing).then(() => undefined)
    const rows = buffer
    buffer = []
    const write = insertRows(sql, rows).then(() => undefined, (err: Error) => options.onError?.(err, rows.length))
    writing.add(write)
    write.finally(() => writing.delete(write)).catch(() => undefined)
    return Promise.all(writing).then(() => undefined)
  }

  return {
    /** Queues the row; it is written within flushMs. */
    insert (row: EnomCallRow): void {
      buffer.push(row)
      if (buffer.length >= maxBatch) flush().catch(() => undefined)
      else timer ??= setTimeout(() => { flush().catch(() => undefined) }, flushMs).unref()
    },

    /** Writes every queued row now; resolves when they (and earlier batches) are written. */
    flush,

    async close (): Promise<void> {
      await flush()
    }
  }
}

/** One INSERT for the whole batch: each column as an array, unnested into rows. */
function insertRows (sql: Sql, rows: EnomCallRow[]): Promise<unknown> {
  const column = <K extends keyof EnomCallRow>(k: K) => rows.map((r) => r[k])
  return query(sql, `
    INSERT INTO enom_call (id, module_id, order_id, command, started_at, duration_ms, outcome, response_number, request_id)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[], $6::int[], $7::text[], $8::text[], $9::text[])`,
  [column('id'), column('moduleId'), column('orderId'), column('command'), column('startedAt'), column('durationMs'), column('outcome'), column('responseNumber'), column('requestId')])
}

export type EnomCallRepository = ReturnType<typeof createEnomCallRepository>
