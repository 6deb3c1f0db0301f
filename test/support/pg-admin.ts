// Creating and dropping the test run's databases on the server the suite uses.
import pg from 'pg'

export function databaseUrlFor (serverUrl: string, database: string): string {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

async function withAdmin<T> (adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A new database copied from the migrated template: a clean, fully migrated schema in ~50 ms. */
export async function createDatabaseFromTemplate (adminUrl: string, name: string, template: string): Promise<string> {
  await withAdmin(adminUrl, async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`)
        return
      } catch (err) {
        // Two copies of one template at the same moment can collide; the next try succeeds.
        if (attempt < 20 && /being accessed by other users/.test((err as Error).message)) {
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100))
          continue
        }
        throw err
      }
    }
  })
  return databaseUrlFor(adminUrl, name)
}

export async function createEmptyDatabase (adminUrl: string, name: string): Promise<string> {
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`))
  return databaseUrlFor(adminUrl, name)
}

export async function dropDatabase (adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
}

export async function dropDatabasesWithPrefix (adminUrl: string, prefix: string): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])
    // The template goes last: copies cannot be made while it is dropped.
    rows.sort((a, b) => Number(a.datname.endsWith('_template')) - Number(b.datname.endsWith('_template')))
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
  })
}
