// Writes deploy/app.env and deploy/db.env for `docker compose up` with freshly generated
// secrets (database password, SECRETS_KEY, one token per role). Existing files are kept.
import { randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('../deploy/', import.meta.url))
const app = `${dir}app.env`
const db = `${dir}db.env`
if (existsSync(app) || existsSync(db)) {
  console.log('deploy/app.env or deploy/db.env exists already; nothing written')
  process.exit(0)
}
const secret = (n) => randomBytes(n).toString('base64url')
const password = secret(24)
const tokens = { admin: secret(32), billing: secret(32), ops: secret(32) }
writeFileSync(db, `POSTGRES_PASSWORD=${password}\n`, { mode: 0o600 })
writeFileSync(app, [
  `DATABASE_URL=postgresql://enom_ssl:${password}@db:5432/enom_ssl`,
  `SECRETS_KEY=k1:${randomBytes(32).toString('base64')}`,
  `API_TOKENS=admin:admin:${tokens.admin},billing:billing:${tokens.billing},ops:ops:${tokens.ops}`,
  'ENOM_ALLOWED_ORIGINS=https://reseller.enom.com,https://resellertest.enom.com',
  'LOG_LEVEL=info',
  ''
].join('\n'), { mode: 0o600 })
console.log('wrote deploy/app.env and deploy/db.env (mode 0600); the API tokens are in deploy/app.env')
