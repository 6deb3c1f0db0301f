// Baseline of scenario 2: GET /modules/:id on the service's stack (bench/baselines/stack.ts)
// whose handler runs the SELECT Prisma sends for the service's findUnique — the same text, the
// same parameters — with raw `pg` on a pool configured as the service's (src/db/database.ts),
// and maps the row to the same view. The difference to the service is its data layer.
// Env: DATABASE_URL, API_TOKENS, DB_POOL_MAX (default 10, the service's), PORT, HOST, LOG_LEVEL.
import pg from 'pg'
import { Type } from 'typebox'
import { notFound } from '../../src/domain/errors.js'
import { IdParamsSchema } from '../../src/schemas/common.js'
import type { ModuleView } from '../../src/schemas/modules.js'
import { listen, required } from './common.js'
import { buildStack } from './stack.js'

// Captured from Prisma 7's query log for prisma.processingModule.findUnique({ where: { id } }).
const COLUMNS = ['id', 'product_type', 'handler', 'name', 'data_center', 'department', 'sort', 'minimal_balance',
  'minimal_balance_policy"::text', 'environment"::text', 'api_url', 'username', 'password_enc', 'add_new_client', 'enabled',
  'deleted_at', 'enom_account', 'enom_party_id', 'last_check_at', 'last_check_ok', 'last_check_cause', 'last_check_detail',
  'balance', 'available_balance', 'balance_fetched_at', 'low_balance_since', 'version', 'created_at', 'updated_at']
const T = '"public"."processing_module"'
export const FIND_MODULE_SQL = `SELECT ${COLUMNS.map((c) => c.endsWith('::text') ? `${T}."${c}` : `${T}."${c}"`).join(', ')} FROM ${T} WHERE (${T}."id" = $1 AND 1=1) LIMIT $2 OFFSET $3`

interface Row {
  id: string
  name: string
  data_center: string
  department: string
  sort: number
  minimal_balance: string | null
  minimal_balance_policy: 'notify' | 'block'
  environment: 'live' | 'test'
  api_url: string
  username: string
  password_enc: string
  add_new_client: boolean
  enabled: boolean
  deleted_at: Date | null
  enom_account: string | null
  last_check_at: Date | null
  last_check_ok: boolean | null
  last_check_cause: string | null
  last_check_detail: string | null
  balance: string | null
  available_balance: string | null
  balance_fetched_at: Date | null
  version: number
  created_at: Date
  updated_at: Date
}

const SIGNUP_URL = 'https://www.enom.com/resellers/'

/** The service's ModuleService.toView, for a raw row (numeric columns arrive as text). */
function toView (row: Row): ModuleView {
  return {
    id: row.id,
    name: row.name,
    productType: 'ssl_certificate',
    handler: 'enom',
    dataCenter: row.data_center,
    department: row.department,
    sort: row.sort,
    minimalBalance: row.minimal_balance,
    minimalBalancePolicy: row.minimal_balance_policy,
    environment: row.environment,
    apiUrl: row.api_url,
    username: row.username,
    passwordSet: row.password_enc.length > 0,
    addNewClient: row.add_new_client,
    registrationUrl: row.add_new_client ? SIGNUP_URL : null,
    enabled: row.enabled,
    enomAccount: row.enom_account,
    lastCheck: row.last_check_at
      ? { at: row.last_check_at.toISOString(), ok: row.last_check_ok ?? false, cause: row.last_check_cause, detail: row.last_check_detail }
      : null,
    lastBalance: row.balance !== null && row.available_balance !== null && row.balance_fetched_at
      ? { balance: row.balance, availableBalance: row.available_balance, fetchedAt: row.balance_fetched_at.toISOString() }
      : null,
    deletedAt: row.deleted_at ? row.deleted_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version
  }
}

const pool = new pg.Pool({
  connectionString: required('DATABASE_URL'),
  max: Number(process.env.DB_POOL_MAX ?? 10),
  connectionTimeoutMillis: 5000,
  idleTimeoutMillis: 10_000,
  application_name: 'bench-baseline',
  statement_timeout: 30_000,
  idle_in_transaction_session_timeout: 60_000
})

const { app, logger } = await buildStack()
app.get('/modules/:id', {
  config: { permission: 'modules.read' },
  schema: { params: IdParamsSchema, response: { 200: Type.Ref('Module') } }
}, async (request, reply) => {
  const { rows } = await pool.query<Row>(FIND_MODULE_SQL, [request.params.id, 1, 0])
  const row = rows[0]
  if (!row) throw notFound('module', request.params.id)
  reply.header('etag', `"v${row.version}"`)
  return toView(row)
})

await listen(app, logger, () => pool.end())
