// SQL on the pg pool, next to Prisma. The order path (claim the key, check, record the purchase
// before and after the eNom call) sends its statements here: each one through Prisma costs about
// ten times what the statement itself costs (query compilation and interpretation, the adapter),
// and an order makes some ten of them. The same writers (events, jobs, attempts) also run
// inside Prisma's transactions, so they take either kind of connection (`Sql`).
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { Prisma } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import { runPrepared } from './prepared-query.js'

/** A connection SQL can run on: Prisma's client or transaction, a pg pool, or a pg client in a transaction. */
export type Sql = PrismaClient | Prisma.TransactionClient | pg.Pool | pg.PoolClient

/** A pg client inside `transaction()`. */
export type SqlTx = pg.PoolClient

function isPg (sql: Sql): sql is pg.Pool | pg.PoolClient {
  return !('$queryRawUnsafe' in sql)
}

/**
 * Runs one statement with positional parameters ($1, $2, ...) and returns its rows. Results differ
 * between the two drivers for int8 and numeric (pg: strings; Prisma: bigint and Decimal): cast
 * such columns to text in the statement and convert them where they are read.
 */
export async function query<R> (sql: Sql, text: string, values: unknown[] = []): Promise<R[]> {
  if (isPg(sql)) return runPrepared<R>(sql, statementName(text), text, values)
  return sql.$queryRawUnsafe<R[]>(text, ...values)
}

// On pg, each distinct statement is prepared once per connection under a name derived from its
// text (PostgreSQL then skips parsing and planning it again). The texts are the service's own,
// a bounded set; values always travel as parameters.
const names = new Map<string, string>()
function statementName (text: string): string {
  let name = names.get(text)
  if (name === undefined) {
    name = `s${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
    names.set(text, name)
  }
  return name
}

/**
 * BEGIN, `fn`, COMMIT on one pooled connection; ROLLBACK when `fn` (or the COMMIT) throws. A
 * connection whose ROLLBACK failed is dropped from the pool rather than reused.
 *
 * The pool's connections are pipelined (database.ts): a statement goes out when it is issued, not
 * when the one before it has been answered. BEGIN travels with the transaction's first
 * statements, and statements `fn` issues together (see `together`) cost one round trip, not one
 * each; PostgreSQL still runs them in the order they were sent.
 */
export async function transaction<T> (pool: pg.Pool, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  // A checked-out client has no error listener of the pool's: a connection lost mid-transaction
  // would otherwise be an unhandled 'error' event. The failing query rejects on its own; the
  // client is dropped on release.
  const lost = (err: Error) => { broken ??= err }
  client.on('error', lost)
  try {
    const begun = client.query('BEGIN').then(() => undefined, (err: Error) => err)
    // Without pipelining, a statement issued before BEGIN was answered would wait in pg's queue.
    const early = client.pipeline ? undefined : await begun
    if (early) throw early
    const work = fn(client)
    const failedBegin = await begun
    if (failedBegin) {
      await work.catch(() => undefined)
      throw failedBegin
    }
    const result = await work
    // On a transaction a failed statement aborted, PostgreSQL answers COMMIT with ROLLBACK and no
    // error: had `fn` swallowed that failure, nothing it wrote would exist.
    const done = await client.query('COMMIT')
    if (done.command !== 'COMMIT') throw new Error(`the transaction was rolled back (${done.command})`)
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
    throw err
  } finally {
    client.off('error', lost)
    client.release(broken)
  }
}

/**
 * The results of statements issued together on one connection (they travel in one round trip on
 * a pipelined connection). After a failure in a transaction, the statements behind it fail too
 * ("current transaction is aborted"); the error thrown is the first one in the order they were
 * issued, whatever order the rejections arrive in.
 */
export async function together<T extends readonly unknown[]> (pending: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(pending)
  for (const r of results) if (r.status === 'rejected') throw r.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/**
 * How a model's fields are read straight from its table, so that a row comes back as Prisma's
 * model type: `field: 'column'` (with a cast where pg and Prisma differ) and the fields Prisma
 * returns as Decimal. Tests hold each such reader equal to Prisma's own, field for field.
 */
export interface RowShape<T> {
  columns: Record<keyof T, string>
  decimals: ReadonlyArray<keyof T>
  /** Scalar lists: Prisma reads a NULL one as []. */
  lists?: ReadonlyArray<keyof T>
}

/**
 * The SELECT (or RETURNING) list of a shape: `column AS "field"`, the columns qualified with
 * `alias` and the names prefixed with `prefix` if given (two shapes in one row).
 */
export function selectList<T> (shape: RowShape<T>, alias?: string, prefix = ''): string {
  // The statements that use a list are built per call; the lists themselves are made once.
  let lists = selectLists.get(shape)
  if (lists === undefined) selectLists.set(shape, lists = new Map())
  const key = `${alias ?? ''}|${prefix}`
  let list = lists.get(key)
  if (list === undefined) {
    list = Object.entries(shape.columns as Record<string, string>)
      .map(([field, column]) => `${alias ? qualify(column, alias) : column} AS "${prefix}${field}"`)
      .join(', ')
    lists.set(key, list)
  }
  return list
}

const selectLists = new WeakMap<object, Map<string, string>>()

function qualify (column: string, alias: string): string {
  const [name, ...cast] = column.split('::')
  return [`${alias}.${name as string}`, ...cast].join('::')
}

/** The fields of one shape in a row that holds several (read with `selectList(shape, alias, prefix)`), unprefixed. */
export function prefixed (row: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  // A statement's column names are the same strings on every row (the kept description): their
  // unprefixed forms are cut once.
  let names = unprefixed.get(prefix)
  if (names === undefined) unprefixed.set(prefix, names = new Map())
  for (const k in row) {
    if (!k.startsWith(prefix)) continue
    let field = names.get(k)
    if (field === undefined) {
      field = k.slice(prefix.length)
      if (names.size < 10_000) names.set(k, field)
    }
    out[field] = row[k]
  }
  return out
}

const unprefixed = new Map<string, Map<string, string>>()

/** A row read with `selectList` as the model's type (decimals as Prisma.Decimal). */
export function toModel<T> (shape: RowShape<T>, row: Record<string, unknown>): T {
  for (const field of shape.decimals as readonly string[]) {
    if (row[field] !== null && row[field] !== undefined) row[field] = new Prisma.Decimal(row[field] as string)
  }
  for (const field of (shape.lists ?? []) as readonly string[]) row[field] ??= []
  return row as T
}

/** Each field's column (cast where pg and Prisma read it differently) and the type a value written to it is cast to. */
export type Columns<T> = Record<keyof T, [column: string, type: string]>

/** The read shape of writable columns. */
export function shapeOf<T> (columns: Columns<T>, decimals: Array<keyof T>, lists: Array<keyof T> = []): RowShape<T> {
  return {
    columns: Object.fromEntries(Object.entries(columns as Record<string, [string, string]>).map(([f, [c]]) => [f, c])) as Record<keyof T, string>,
    decimals,
    lists
  }
}

const columnNames = new Map<string, string>()
/** A column's name without the cast it is read with (`id::text` → `id`). */
function columnName (column: string): string {
  let name = columnNames.get(column)
  if (name === undefined) columnNames.set(column, name = column.split('::')[0] as string)
  return name
}

/** A value as a statement parameter: JSON as text, decimals as text, the rest as pg takes it. */
function param (value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null
  if (type === 'jsonb') return JSON.stringify(value)
  if (value instanceof Prisma.Decimal) return value.toFixed()
  return value
}

/** `column = $n::type, ...` for the given fields (undefined ones left out), their values appended to `values`. */
export function assignments<T> (columns: Columns<T>, changes: Partial<Record<keyof T, unknown>>, values: unknown[]): string[] {
  const sets: string[] = []
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue
    const [column, type] = columns[field as keyof T]
    values.push(param(value, type))
    sets.push(`${columnName(column)} = $${values.length}::${type}`)
  }
  return sets
}

/** `INSERT INTO table (columns) VALUES ($n::type, ...)` of a new row; parameters numbered after `offset`. */
export function insertion<T> (table: string, columns: Columns<T>, row: Partial<Record<keyof T, unknown>>, offset = 0): { text: string, values: unknown[] } {
  const names: string[] = []
  const values: unknown[] = []
  const slots: string[] = []
  for (const [field, value] of Object.entries(row)) {
    if (value === undefined) continue
    const [column, type] = columns[field as keyof T]
    names.push(columnName(column))
    values.push(param(value, type))
    slots.push(`$${offset + values.length}::${type}`)
  }
  return { text: `INSERT INTO ${table} (${names.join(', ')}) VALUES (${slots.join(', ')})`, values }
}

/**
 * Rows of one table as the parameters of one statement whose text does not depend on their
 * number: `from` is `unnest(...) WITH ORDINALITY AS alias (column, ..., n)`, one array per field
 * of `fields` (each row gives the same ones), `names` the columns and `exprs` each one's value as
 * written, read from a WITH item named `alias` that selects `from`. Arrays of arrays do not exist
 * in PostgreSQL: a list column's values travel as JSON and are made lists again.
 */
export function rowsOf<T> (columns: Columns<T>, rows: Array<Partial<Record<keyof T, unknown>>>, fields: Array<keyof T>,
  values: unknown[], alias: string): { from: string, names: string[], exprs: string[] } {
  const arrays: string[] = []
  const names: string[] = []
  const exprs: string[] = []
  for (const field of fields) {
    const [column, type] = columns[field]
    const name = columnName(column)
    names.push(name)
    if (type.endsWith('[]')) {
      values.push(rows.map((row) => row[field] === null || row[field] === undefined ? null : JSON.stringify(row[field])))
      arrays.push(`$${values.length}::text[]`)
      exprs.push(`CASE WHEN ${alias}.${name} IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(${alias}.${name}::jsonb)) END::${type}`)
    } else {
      values.push(rows.map((row) => param(row[field], type)))
      arrays.push(`$${values.length}::${type}[]`)
      exprs.push(`${alias}.${name}`)
    }
  }
  return { from: `unnest(${arrays.join(', ')}) WITH ORDINALITY AS ${alias} (${names.join(', ')}, n)`, names, exprs }
}

/** rowsOf, and the INSERT of those rows in their order from the WITH item `alias`. */
export function rowsInsertion<T> (table: string, columns: Columns<T>, rows: Array<Partial<Record<keyof T, unknown>>>, fields: Array<keyof T>,
  values: unknown[], alias: string): { from: string, insert: string } {
  const { from, names, exprs } = rowsOf(columns, rows, fields, values, alias)
  return { from, insert: `INSERT INTO ${table} (${names.join(', ')}) SELECT ${exprs.join(', ')} FROM ${alias} ORDER BY ${alias}.n` }
}

/** The fields a row gives (its undefined ones left out), in their order. */
export function givenFields<T> (row: Partial<Record<keyof T, unknown>>): Array<keyof T> {
  return (Object.keys(row) as Array<keyof T>).filter((field) => row[field] !== undefined)
}
