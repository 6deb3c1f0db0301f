// `npm run db:migrate`: apply pending migrations to DATABASE_URL without starting the service
// (the service applies them itself at start-up; this is for operators who migrate separately).
import { migrationDatabaseUrl } from '../config.js'
import { migrate } from './migrate.js'

const databaseUrl = migrationDatabaseUrl()
if (!databaseUrl) {
  process.stderr.write('db:migrate needs DATABASE_URL (the embedded database is migrated by npm start)\n')
  process.exit(2)
}
const applied = await migrate(databaseUrl, { log: { info: (o, m) => process.stdout.write(`${m}: ${JSON.stringify(o)}\n`) } })
process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied ${applied.length} migration(s)\n`)
