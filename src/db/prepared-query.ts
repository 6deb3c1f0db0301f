// Named statements on pg, run without the row description pg asks for on every execution
// (db/sql.ts sends the service's plain SQL through here).
import pg from 'pg'

/** A named statement on pg: prepared once per connection, its row description read once per process. */
export function runPrepared<R> (sql: pg.Pool | pg.PoolClient, name: string, text: string, values: unknown[]): Promise<R[]> {
  const statement = new PreparedQuery({ name, text, values })
  const submittable = statement as unknown as pg.Submittable
  // The pool checks a connection out and back in around it, and answers with a promise; a
  // checked-out client answers through the callback.
  if (!('release' in sql)) return (sql.query(submittable) as unknown as Promise<pg.QueryResult>).then((r) => r.rows as R[])
  return new Promise((resolve, reject) => {
    statement.callback = (err, result) => err ? reject(err) : resolve(result.rows as R[])
    sql.query(submittable)
  })
}

// What pg's Query does with a statement, less one message. pg asks for the row description
// (Describe) on every execution and builds the row parsers from it again: for a statement read
// from a 40-column table that is a good part of the statement's cost to this process. A named
// statement's text fixes its columns and their types, so the description of its first execution
// is kept (by name, for every connection) and later executions go without Describe.
interface Described { fields: unknown[], parsers: unknown[], empty: Record<string, null> }
const described = new Map<string, Described>()

/** The parts of pg's Query (lib/query.js) this subclass works with; pg does not declare them. */
interface QueryInternals {
  name: string
  text: string
  values: unknown[]
  types: unknown
  portal: string
  binary: boolean
  rows: number | undefined
  callback?: (err: Error | undefined, result: pg.QueryResult) => void
  _result: { fields: unknown[], _parsers: unknown[] | undefined, _prebuiltEmptyResultObject: Record<string, null> | null }
  _accumulateRows: boolean
  hasBeenParsed: (connection: unknown) => boolean
  handleError: (err: Error, connection: unknown) => void
  _getRows: (connection: unknown, rows: number | undefined) => void
}

interface Connection {
  parse: (m: { text: string, name: string, types: unknown }) => void
  bind: (m: object) => void
  close: (m: { type: 'S', name: string }) => void
  sync: () => void
  submittedNamedStatements: Record<string, string>
}

const QueryBase = pg.Query as unknown as new (text: string, values: unknown[]) => object

class PreparedQuery extends QueryBase {
  declare callback?: (err: Error | undefined, result: pg.QueryResult) => void

  // Text and values as arguments, the name set after: given a config object, pg copies it
  // property by property (descriptors and all) on every query.
  constructor (config: { name: string, text: string, values: unknown[] }) {
    super(config.text, config.values)
    ;(this as unknown as QueryInternals).name = config.name
  }

  prepare (connection: Connection): void {
    const self = this as unknown as QueryInternals
    const known = described.get(self.name)
    if (known === undefined) {
      (pg.Query.prototype as unknown as { prepare: (c: Connection) => void }).prepare.call(this, connection)
      return
    }
    if (!self.hasBeenParsed(connection)) {
      connection.parse({ text: self.text, name: self.name, types: self.types })
      connection.submittedNamedStatements[self.name] = self.text
    }
    try {
      connection.bind({ portal: self.portal, statement: self.name, values: self.values, binary: self.binary, valueMapper: prepareValue })
    } catch (err) {
      connection.close({ type: 'S', name: self.name })
      connection.sync()
      self.handleError(err as Error, connection)
      return
    }
    // As handleRowDescription would have set them from the server's answer.
    self._result.fields = known.fields
    self._result._parsers = known.parsers
    self._result._prebuiltEmptyResultObject = known.empty
    self._accumulateRows = true
    self._getRows(connection, self.rows)
  }

  handleRowDescription (message: unknown): void {
    (pg.Query.prototype as unknown as { handleRowDescription: (m: unknown) => void }).handleRowDescription.call(this, message)
    const self = this as unknown as QueryInternals
    const result = self._result
    if (!described.has(self.name) && result._parsers !== undefined && result._prebuiltEmptyResultObject !== null) {
      described.set(self.name, { fields: result.fields, parsers: result._parsers, empty: result._prebuiltEmptyResultObject })
    }
  }
}

const { prepareValue } = (pg as unknown as { utils: { prepareValue: (v: unknown) => unknown } }).utils
