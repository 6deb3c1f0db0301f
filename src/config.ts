// The service's configuration: one TypeBox schema for the environment, read here and nowhere else.
// Values that name a file (`*_FILE`) are read here too, so that the rest of the code only ever
// sees a typed Config. eNom credentials are not configuration: each processing module keeps its
// own, encrypted, in the database.
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { normalizeMoney } from './domain/money.js'

const LogLevel = Type.Union([
  Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
  Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')
], { default: 'info' })

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  LOG_LEVEL: LogLevel,
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  DB_POOL_ACQUIRE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  EMBEDDED_PG_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  SECRETS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  SECRETS_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  API_TOKENS: Type.Optional(Type.String({ minLength: 1 })),
  API_TOKENS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  ENOM_ALLOWED_ORIGINS: Type.String({ default: 'https://reseller.enom.com,https://resellertest.enom.com' }),
  ENOM_SIGNUP_URL: Type.String({ pattern: '^https?://', default: 'https://www.enom.com/resellers/' }),
  ENOM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 15_000 }),
  ENOM_PURCHASE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 100_000 }),
  BALANCE_TTL_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 60 }),
  PRODUCTS_TTL_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 300 }),
  SPEND_LIMIT_DAILY_COUNT: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 500 }),
  SPEND_LIMIT_DAILY_AMOUNT: Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,2})?$', default: '25000.00' }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ minimum: 72, maximum: 24 * 365, default: 72 }),
  JOBS_ENABLED: Type.Boolean({ default: true }),
  JOB_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  JOB_POLL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
  JOB_LEASE_SECONDS: Type.Integer({ minimum: 5, maximum: 3600, default: 300 }),
  SYNC_INTERVAL_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 60 }),
  RECONCILE_DELAY_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 30 }),
  BALANCE_CHECK_TIMES: Type.String({ pattern: '^\\d{2}:\\d{2}(,\\d{2}:\\d{2})*$', default: '06:00,18:00' }),
  CERTS_SWEEP_TIME: Type.String({ pattern: '^\\d{2}:\\d{2}$', default: '03:00' }),
  SCHEDULER_TICK_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 60_000 }),
  WEBHOOK_ALLOWED_ORIGINS: Type.String({ default: '' }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  WEBHOOK_RETRY_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 72 }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({ minimum: 10, maximum: 600_000, default: 10_000 }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1200 }),
  RATE_LIMIT_ANON_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 120 }),
  LOAD_SHED_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  LOAD_SHED_POOL_QUEUE: Type.Integer({ minimum: 0, maximum: 100_000, default: 100 }),
  RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 36_500, default: 400 }),
  HEALTH_DB_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 30_000, default: 1000 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000 }),
  TRUST_PROXY: Type.Boolean({ default: false })
})
export type Env = Static<typeof EnvSchema>

export type LogLevelName = Env['LOG_LEVEL']

export interface Config {
  port: number
  host: string
  logLevel: LogLevelName
  /** Absent: the service runs its own embedded PostgreSQL under dataDir. */
  databaseUrl: string | undefined
  dbPoolMax: number
  dbAcquireTimeoutMs: number
  dataDir: string
  embeddedPgPort: number
  /** The SECRETS_KEY value (or the file's content); parsed by domain/secrets.ts. */
  secretsKey: string | undefined
  /** The API_TOKENS value (or the file's content); parsed by domain/access.ts. */
  apiTokens: string | undefined
  /** Origins the eNom API URL may use, each with the environment it stands for. */
  enomAllowedOrigins: AllowedOrigin[]
  enomSignupUrl: string
  /** Read-only and state-changing eNom commands. */
  enomTimeoutMs: number
  /** Commands that spend money: long, so that a slow eNom does not manufacture unknown purchases. */
  enomPurchaseTimeoutMs: number
  balanceTtlSeconds: number
  productsTtlSeconds: number
  /** Per caller and UTC day; 0 stops purchases for everyone. */
  spendLimitDailyCount: number
  spendLimitDailyAmount: string
  idempotencyTtlHours: number
  jobsEnabled: boolean
  jobConcurrency: number
  jobPollMs: number
  jobLeaseSeconds: number
  syncIntervalSeconds: number
  reconcileDelaySeconds: number
  /** UTC times of day of the scheduled balance checks. */
  balanceCheckTimes: string[]
  certsSweepTime: string
  /** How often recurring work is offered (and how soon a lost instance's calls are recovered). */
  schedulerTickMs: number
  /** Origins webhook URLs may use; private addresses only where allowPrivate. */
  webhookAllowedOrigins: AllowedOrigin[]
  webhookTimeoutMs: number
  webhookRetryHours: number
  /** First retry delay of a failed delivery; later ones grow from it. */
  webhookRetryBaseMs: number
  /** A token that may read /metrics and nothing else (for a scraper). */
  metricsToken: string | undefined
  /** Requests per minute per authenticated caller. */
  rateLimitPerMinute: number
  /** Requests per minute per IP address without a valid token. */
  rateLimitAnonPerMinute: number
  /** Event loop delay beyond which requests are shed with 503 (0: off). */
  loadShedEventLoopDelayMs: number
  /** Queries waiting for a pooled connection beyond which requests are shed with 503 (0: off). */
  loadShedPoolQueue: number
  /** Days CSRs, contacts and the eNom call audit of final orders are kept. */
  retentionDays: number
  healthDbTimeoutMs: number
  shutdownGraceMs: number
  trustProxy: boolean
  version: string
}

export interface AllowedOrigin {
  origin: string
  environment: 'live' | 'test'
  /**
   * Whether the origin may resolve to a private, loopback or link-local address. False for
   * eNom's own public hosts (such an answer means DNS was tampered with); true for an origin the
   * operator listed on purpose (a simulator on 127.0.0.1, a proxy inside the network).
   */
  allowPrivate: boolean
}

/** eNom's own hosts; any other allowed origin (a simulator, a proxy) says its environment itself. */
const ENOM_ENVIRONMENTS: Record<string, 'live' | 'test'> = {
  'https://reseller.enom.com': 'live',
  'https://resellertest.enom.com': 'test'
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** The variables the schema knows, so that a typo in an unknown one is not silently taken. */
const KNOWN = Object.keys(EnvSchema.properties)

function readSecretFile (path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

function packageVersion (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/**
 * Reads and checks the environment. Throws a ConfigError naming every variable in error; never
 * echoes a value, since several of them are secrets.
 */
export function loadConfig (source: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {}
  for (const key of KNOWN) {
    const value = source[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Default(EnvSchema, Value.Convert(EnvSchema, raw))
  const problems = [...Value.Errors(EnvSchema, converted)].map((e) => {
    const name = e.instancePath.replace(/^\//, '') || (e.params as { requiredProperties?: string[] }).requiredProperties?.join(', ') || 'environment'
    return `${name}: ${e.message}`
  })
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  const env = converted as Env

  if (env.SECRETS_KEY && env.SECRETS_KEY_FILE) throw new ConfigError('set SECRETS_KEY or SECRETS_KEY_FILE, not both')
  if (env.API_TOKENS && env.API_TOKENS_FILE) throw new ConfigError('set API_TOKENS or API_TOKENS_FILE, not both')
  const secretsKey = env.SECRETS_KEY_FILE ? readSecretFile(env.SECRETS_KEY_FILE, 'SECRETS_KEY_FILE') : env.SECRETS_KEY
  const apiTokens = env.API_TOKENS_FILE ? readSecretFile(env.API_TOKENS_FILE, 'API_TOKENS_FILE') : env.API_TOKENS

  if (env.DATABASE_URL) {
    // Outside the embedded local mode nothing may be generated on the fly: a key made up at
    // start-up would make every stored password unreadable after the next restart.
    const missing = [
      secretsKey ? undefined : 'SECRETS_KEY (or SECRETS_KEY_FILE)',
      apiTokens ? undefined : 'API_TOKENS (or API_TOKENS_FILE)'
    ].filter(Boolean)
    if (missing.length > 0) throw new ConfigError(`DATABASE_URL is set, so ${missing.join(' and ')} must be set too`)
  }

  const enomAllowedOrigins = parseAllowedOrigins(env.ENOM_ALLOWED_ORIGINS)

  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    dbPoolMax: env.DB_POOL_MAX,
    dbAcquireTimeoutMs: env.DB_POOL_ACQUIRE_TIMEOUT_MS,
    dataDir: resolve(env.DATA_DIR),
    embeddedPgPort: env.EMBEDDED_PG_PORT,
    secretsKey,
    apiTokens,
    enomAllowedOrigins,
    enomSignupUrl: env.ENOM_SIGNUP_URL,
    enomTimeoutMs: env.ENOM_TIMEOUT_MS,
    enomPurchaseTimeoutMs: env.ENOM_PURCHASE_TIMEOUT_MS,
    balanceTtlSeconds: env.BALANCE_TTL_SECONDS,
    productsTtlSeconds: env.PRODUCTS_TTL_SECONDS,
    spendLimitDailyCount: env.SPEND_LIMIT_DAILY_COUNT,
    spendLimitDailyAmount: normalizeMoney(env.SPEND_LIMIT_DAILY_AMOUNT),
    idempotencyTtlHours: env.IDEMPOTENCY_TTL_HOURS,
    jobsEnabled: env.JOBS_ENABLED,
    jobConcurrency: env.JOB_CONCURRENCY,
    jobPollMs: env.JOB_POLL_MS,
    jobLeaseSeconds: env.JOB_LEASE_SECONDS,
    syncIntervalSeconds: env.SYNC_INTERVAL_SECONDS,
    reconcileDelaySeconds: env.RECONCILE_DELAY_SECONDS,
    balanceCheckTimes: env.BALANCE_CHECK_TIMES.split(','),
    certsSweepTime: env.CERTS_SWEEP_TIME,
    schedulerTickMs: env.SCHEDULER_TICK_MS,
    webhookAllowedOrigins: parseWebhookOrigins(env.WEBHOOK_ALLOWED_ORIGINS),
    webhookTimeoutMs: env.WEBHOOK_TIMEOUT_MS,
    webhookRetryHours: env.WEBHOOK_RETRY_HOURS,
    webhookRetryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    metricsToken: env.METRICS_TOKEN,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    rateLimitAnonPerMinute: env.RATE_LIMIT_ANON_PER_MINUTE,
    loadShedEventLoopDelayMs: env.LOAD_SHED_EVENT_LOOP_DELAY_MS,
    loadShedPoolQueue: env.LOAD_SHED_POOL_QUEUE,
    retentionDays: env.RETENTION_DAYS,
    healthDbTimeoutMs: env.HEALTH_DB_TIMEOUT_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    trustProxy: env.TRUST_PROXY,
    version: packageVersion()
  }
}

/**
 * ENOM_ALLOWED_ORIGINS: comma-separated origins. eNom's two hosts carry their environment; any
 * other origin is `live` unless written `origin=test` (e.g. `http://localhost:8081=test` for a
 * simulator that plays the test environment).
 */
export function parseAllowedOrigins (text: string): AllowedOrigin[] {
  const entries = text.split(',').map((o) => o.trim()).filter(Boolean)
  if (entries.length === 0) throw new ConfigError('ENOM_ALLOWED_ORIGINS holds no origin')
  return entries.map((entry) => {
    const eq = entry.lastIndexOf('=')
    const originText = eq > 0 ? entry.slice(0, eq) : entry
    const label = eq > 0 ? entry.slice(eq + 1) : undefined
    const url = bareOrigin(originText, 'ENOM_ALLOWED_ORIGINS', 'https://reseller.enom.com')
    const fixed = ENOM_ENVIRONMENTS[url.origin]
    if (label !== undefined && label !== 'live' && label !== 'test') {
      throw new ConfigError(`ENOM_ALLOWED_ORIGINS: "${entry}": the environment after "=" is live or test`)
    }
    if (fixed && label && label !== fixed) {
      throw new ConfigError(`ENOM_ALLOWED_ORIGINS: ${url.origin} is eNom's ${fixed} environment`)
    }
    return { origin: url.origin, environment: fixed ?? label ?? 'live', allowPrivate: !fixed }
  })
}

/** An http(s) origin written as nothing more than an origin. */
function bareOrigin (text: string, variable: string, example: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new ConfigError(`${variable}: "${text}" is not a URL origin`)
  }
  if (url.origin !== text.replace(/\/$/, '') || !/^https?:$/.test(url.protocol)) {
    throw new ConfigError(`${variable}: "${text}" must be a bare origin such as ${example}`)
  }
  return url
}

/** For `npm run db:migrate`, which needs the database and nothing else. */
export function migrationDatabaseUrl (source: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = source.DATABASE_URL
  if (url && !/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('DATABASE_URL: must be a postgresql:// URL')
  return url || undefined
}

/**
 * WEBHOOK_ALLOWED_ORIGINS: comma-separated origins webhook URLs may use (empty: none). An origin
 * whose host is an IP address or localhost, or that is written `origin=private`, may reach private
 * addresses; any other must resolve to public ones.
 */
export function parseWebhookOrigins (text: string): AllowedOrigin[] {
  return text.split(',').map((o) => o.trim()).filter(Boolean).map((entry) => {
    const marked = entry.endsWith('=private')
    const originText = marked ? entry.slice(0, -'=private'.length) : entry
    const url = bareOrigin(originText, 'WEBHOOK_ALLOWED_ORIGINS', 'https://billing.example.com')
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const literal = isIP(host) !== 0 || host === 'localhost'
    return { origin: url.origin, environment: 'live', allowPrivate: marked || literal }
  })
}
