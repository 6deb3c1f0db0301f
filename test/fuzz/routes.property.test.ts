// Bad input, property-based: every route the app lists (app.routePermissions) gets FUZZ_RUNS
// (at least 200) generated requests with a token of a role that holds its permission, so that the
// input reaches validation and the handler. Inputs mix values valid for the route's schema (a good
// share of runs succeed, and each route must have succeeded at least once) with hostile ones
// (unicode, control characters, huge and fractional numbers, badly written money, duplicated JSON
// keys, prototype keys, wrong content types, malformed JSON, path segments that are not UUIDs,
// unknown and repeated query parameters, Idempotency-Keys of every shape).
//
// For every request: the status is 2xx or 4xx (never 5xx: eNom is the healthy simulator and
// nothing here causes its documented 502/503/504 states); every error is application/problem+json
// with a stable `code` and `status` equal to the HTTP status; the answer comes within 5 s; after a
// 4xx nothing was written (row counts unchanged, except the documented records named in
// allowedGrowth); and after every request nothing is left half-written (no Idempotency-Key still
// held, no attempt still `sending`, no order still `purchasing`, service locks exactly on the
// open orders).
//
// The seed is printed at start; replay a run with FUZZ_SEED=<seed> npx vitest run test/fuzz.
// (The service makes its own ids, so a replay regenerates the same inputs against fresh rows.)
import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PERMISSIONS, type Permission, type Role } from '../../src/domain/access.js'
import { EVENT_TYPES } from '../../src/domain/events.js'
import { ORDER_STATUSES } from '../../src/domain/orders/status.js'
import { auth, createTestDatabase, startTestApp, type TestApp, type TestDatabase } from '../support/app.js'
import { makeCsr, startSimulatorForTest, type SimulatorForTest, type TestCsr } from '../support/enom.js'
import {
  bodyOf, controlText, extraHeaders, humanUnicode, oddText, idempotencyKey, nastyString, paramOverride, noBody, queryOf, queryString, validMoney,
  type BodySpec, type IdSpec, type QueryPairs
} from './arbitraries.js'

const RUNS = Math.max(200, Number(process.env.FUZZ_RUNS ?? 200))
// fast-check seeds are 32-bit integers.
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) | 0
fc.configureGlobal({ seed, numRuns: RUNS })
console.log(`routes fuzz: seed ${seed}, ${RUNS} runs per route (replay: FUZZ_SEED=${seed} npx vitest run test/fuzz/routes.property.test.ts)`)

/** Each route's own seed, derived from the run's: routes do not all walk the same sequence of choices. */
function seedOf (route: string): number {
  let h = seed
  for (const ch of route) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193)
  return h | 0
}

/** Longest a single request may take before it counts as a hang. */
const REQUEST_BOUND_MS = 5_000
const ROUTE_TIMEOUT_MS = 300_000

const RAPID = 'certificate-rapidssl-rapidssl'
const COMODO = 'certificate-comodo-essential'
const DOMAIN = 'www.example.com'
const APPROVERS = ['admin@example.com', 'administrator@example.com', 'hostmaster@example.com', 'postmaster@example.com', 'webmaster@example.com']
const FINAL = ['issued', 'refunded', 'closed', 'failed']
const WEBHOOK_ORIGIN = 'http://127.0.0.1:9'

let database: TestDatabase
let s: SimulatorForTest
let t: TestApp

/** Records made before the properties run, which they aim at. */
const fx = {
  /** Live module on the simulator that every order is placed with. */
  ordersModule: '',
  /** Test-environment module for balance, products and connection checks. */
  readsModule: '',
  csrs: [] as TestCsr[],
  /** CSRs for www.example.com only (configure, reissue). */
  orderCsrs: [] as TestCsr[]
}

beforeAll(async () => {
  s = await startSimulatorForTest([{ uid: 'resellid', pw: 'resellpw', balance: '90000000.00' }], 600_000)
  database = await createTestDatabase()
  const live = new URL(s.liveUrl).origin
  const test = new URL(s.testUrl).origin
  t = await startTestApp(database, {
    // Only the simulator: no fuzzed URL can make the service reach the network.
    ENOM_ALLOWED_ORIGINS: `${live},${test}=test`,
    ENOM_TIMEOUT_MS: '4000',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_ANON_PER_MINUTE: '1000000',
    SPEND_LIMIT_DAILY_COUNT: '10000000',
    SPEND_LIMIT_DAILY_AMOUNT: '999999999.00',
    // Nothing moves behind the properties' backs: row counts change only through the request.
    JOBS_ENABLED: 'false',
    // Load shedding is a 503 by design; a busy test machine must not trigger it.
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    LOAD_SHED_POOL_QUEUE: '0',
    // A port nothing listens on; deliveries never run anyway (jobs are off).
    WEBHOOK_ALLOWED_ORIGINS: WEBHOOK_ORIGIN,
    LOG_LEVEL: 'warn'
  })
  fx.ordersModule = await createModule({ name: 'fz-orders', dataCenter: 'fz-orders-dc', sort: 0, apiUrl: s.liveUrl })
  fx.readsModule = await createModule({ name: 'fz-reads', dataCenter: 'fz-reads-dc', sort: 0, apiUrl: s.testUrl })
  const [rsa, ec, weak, other] = await Promise.all([
    makeCsr(DOMAIN), makeCsr(DOMAIN, { ec: true }), makeCsr(DOMAIN, { bits: 1024 }), makeCsr('shop.example.org', { sans: ['shop.example.org', 'www.shop.example.org'] })
  ])
  fx.orderCsrs = [rsa, ec]
  fx.csrs = [rsa, ec, weak, other]
}, 120_000)

afterAll(async () => {
  await t?.close()
  await database?.drop()
  await s?.sim.close()
})

// ---- fixtures made through the API (not fuzzed: each must succeed) --------------------------------

async function createModule (over: Record<string, unknown> = {}): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/modules',
    headers: auth('admin'),
    payload: { name: `fz-${randomUUID()}`, dataCenter: 'fz-dc', department: 'fz', sort: 100, apiUrl: s.liveUrl, username: 'resellid', password: 'resellpw', ...over }
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

const post = (url: string, payload: unknown) =>
  t.app.inject({ method: 'POST', url, headers: { ...auth('admin'), 'idempotency-key': `"fx-${randomUUID()}"` }, payload: payload as Record<string, unknown> })

async function placed (product = RAPID): Promise<string> {
  const res = await post('/orders', { serviceId: `fx-${randomUUID()}`, productCode: product, years: 1, domain: DOMAIN, moduleId: fx.ordersModule })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

const asciiContact = { firstName: 'Ada', lastName: 'Lovelace', organization: 'Example Inc', jobTitle: 'Engineer', address1: '1 Main Street', city: 'Kirkland', state: 'WA', postalCode: '98033', country: 'US', phone: '+1.4252744500', email: 'ada@example.com' }

async function configured (product = RAPID): Promise<string> {
  const id = await placed(product)
  const res = await post(`/orders/${id}/configure`, { csr: fx.orderCsrs[0]?.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: { admin: asciiContact, tech: asciiContact, billing: asciiContact } })
  expect(res.statusCode, res.body).toBe(200)
  return id
}

async function issued (product = RAPID): Promise<string> {
  const id = await configured(product)
  const order = (await t.app.inject({ url: `/orders/${id}`, headers: auth('admin') })).json() as { enom: { certId: string } }
  await s.sim.state.setCertStatus(Number(order.enom.certId), 4)
  const res = await post(`/orders/${id}/sync`, {})
  expect(res.statusCode, res.body).toBe(200)
  expect(res.json().status).toBe('issued')
  return id
}

async function many (n: number, make: () => Promise<string>): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push(await make())
  return ids
}

async function openTasks (n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const task = await t.app.services.tasks.open({ department: 'fz', moduleId: fx.ordersModule, kind: 'fuzz', title: `fuzz task ${i}`, message: 'made by the fuzzer', action: 'resolve it' })
    ids.push(task.id)
  }
  return ids
}

async function createWebhook (over: Record<string, unknown> = {}): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/webhooks', headers: auth('admin'), payload: { url: `${WEBHOOK_ORIGIN}/hooks/${randomUUID()}`, ...over } })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

/** Deliveries that ended (failed), so that they may be retried: events of new tasks, marked failed as a spent delivery would be. */
async function endedDeliveries (n: number): Promise<Array<Record<string, string>>> {
  const id = await createWebhook({ eventTypes: ['task.created'] })
  await openTasks(n)
  const { rows } = await t.db.pool.query("UPDATE webhook_delivery SET status = 'failed', last_error = 'fuzz' WHERE subscription_id = $1 RETURNING id", [id])
  expect(rows.length).toBe(n)
  return rows.map((r: { id: string }) => ({ id, deliveryId: r.id }))
}

/** Subscriptions the fuzzer made get no more deliveries: every later event would write one row per subscription. */
async function disableWebhooks (): Promise<void> {
  await t.db.pool.query('UPDATE webhook_subscription SET enabled = false')
}

/** Modules the fuzzer created or changed stay out of the way of later routes (module selection, the balance dashboard). */
async function disableAllButFixtures (): Promise<void> {
  await t.db.pool.query('UPDATE processing_module SET enabled = false WHERE id <> ALL($1::uuid[])', [[fx.ordersModule, fx.readsModule]])
}

// ---- the database: what a request wrote, and what must never be left half-written ----------------

const COUNTED = ['processing_module', 'certificate_order', 'order_attempt', 'service_lock', 'task', 'idempotency_key'] as const
type Counted = typeof COUNTED[number]
type Snapshot = Record<Counted, number>

const FINAL_SQL = FINAL.map((f) => `'${f}'`).join(',')
const SNAPSHOT_SQL = `SELECT ${COUNTED.map((c) => `(SELECT count(*) FROM ${c})::int AS ${c}`).join(', ')}`
const HALF_WRITTEN: Record<string, string> = {
  'Idempotency-Keys still held after their request ended': 'SELECT count(*)::int AS n FROM idempotency_key WHERE completed_at IS NULL',
  'attempts still sending': "SELECT count(*)::int AS n FROM order_attempt WHERE state = 'sending'",
  'orders still purchasing': "SELECT count(*)::int AS n FROM certificate_order WHERE status = 'purchasing'",
  'service locks on missing or final orders': `SELECT count(*)::int AS n FROM service_lock l LEFT JOIN certificate_order o ON o.id = l.order_id WHERE o.id IS NULL OR o.status::text IN (${FINAL_SQL})`,
  'open orders without their service lock': `SELECT count(*)::int AS n FROM certificate_order o WHERE o.status::text NOT IN (${FINAL_SQL}) AND NOT EXISTS (SELECT 1 FROM service_lock l WHERE l.order_id = o.id)`
}

async function snapshot (): Promise<Snapshot> {
  const { rows } = await t.db.pool.query(SNAPSHOT_SQL)
  return rows[0] as Snapshot
}

async function halfWritten (): Promise<string[]> {
  const found: string[] = []
  for (const [what, sql] of Object.entries(HALF_WRITTEN)) {
    const { rows } = await t.db.pool.query(sql)
    const n = (rows[0] as { n: number }).n
    if (n > 0) found.push(`${n} ${what}`)
  }
  return found
}

/** Statuses after which the Idempotency-Key is released (plugins/idempotency.ts); the others are stored. */
const RELEASED = [400, 401, 403, 413, 415, 429]

/**
 * What a 4xx may leave behind, by design: the stored outcome of an Idempotency-Key; the attempt
 * row of a call eNom refused after it was sent (and, for a refused purchase, its failed order and
 * task); the task that says an order could not be paid or placed.
 */
function allowedGrowth (code: string, status: number, idempotent: boolean): Set<Counted> {
  const allowed = new Set<Counted>()
  if (idempotent && !RELEASED.includes(status)) allowed.add('idempotency_key')
  if (['ENOM_REJECTED', 'ENOM_CSR_REJECTED', 'INSUFFICIENT_FUNDS'].includes(code)) {
    allowed.add('order_attempt').add('task').add('certificate_order')
  }
  if (code === 'APPROVER_NOT_LISTED') allowed.add('order_attempt')
  if (code === 'NO_MODULE_AVAILABLE') allowed.add('task')
  return allowed
}

// ---- one generated request -------------------------------------------------------------------------

type IfMatch = { kind: 'current' } | { kind: 'stale' } | { kind: 'missing' } | { kind: 'raw', value: string }

interface Case {
  role: Role | null
  /** Which record of the route's pool the path names. */
  target: number
  /** Per path parameter: null keeps the record's value, else a UUID nothing has or a hostile segment. */
  params: Array<IdSpec | null>
  query: QueryPairs
  body: BodySpec
  /** The Idempotency-Key header (undefined: not sent); null for routes that take none. */
  key: string | undefined | null
  ifMatch: IfMatch | null
  headers: Record<string, string>
}

/** A record a route is aimed at: its id, or the values of several path parameters. */
type Target = string | Record<string, string>

interface Plan {
  pool?: Target[]
  query?: fc.Arbitrary<QueryPairs>
  body?: fc.Arbitrary<BodySpec>
  ifMatch?: boolean
  cleanup?: () => Promise<void>
}

interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  url: string
  /** Makes the records the route is aimed at, then the route's arbitraries. */
  plan: () => Promise<Plan>
}

const ifMatchArb: fc.Arbitrary<IfMatch> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<IfMatch>({ kind: 'current' }) },
  { weight: 1, arbitrary: fc.constant<IfMatch>({ kind: 'stale' }) },
  { weight: 1, arbitrary: fc.constant<IfMatch>({ kind: 'missing' }) },
  { weight: 1, arbitrary: fc.constantFrom('*', 'W/"v1"', '"v1", "v2"', 'v1', '""', '"v-1"', '"v99999999999999999999"', '"v1.5"', '"\u00e9"').map((value): IfMatch => ({ kind: 'raw', value })) }
)

function caseArb (spec: RouteSpec, permission: Permission, plan: Plan): fc.Arbitrary<Case> {
  const holders = PERMISSIONS[permission] as readonly Role[]
  const idempotent = spec.method === 'POST' && spec.url.startsWith('/orders')
  return fc.record({
    role: holders.length === 0 ? fc.constant(null) : fc.constantFrom(...holders),
    target: fc.nat({ max: 1_000_000 }),
    params: fc.tuple(...paramsOf(spec.url).map(() => paramOverride())),
    query: plan.query ?? queryOf(fc.constant([])),
    body: plan.body ?? noBody(),
    key: idempotent ? idempotencyKey : fc.constant(null),
    ifMatch: plan.ifMatch ? ifMatchArb : fc.constant(null),
    headers: extraHeaders
  })
}

const keyOf = (r: { method: string, url: string }) => `${r.method} ${r.url}`
const paramsOf = (url: string) => [...url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string)

async function currentEtag (moduleId: string | undefined): Promise<string> {
  if (moduleId === undefined) return '"v1"'
  const res = await t.app.inject({ url: `/modules/${moduleId}`, headers: auth('admin') })
  return String(res.headers.etag ?? '"v1"')
}

async function requestOf (spec: RouteSpec, c: Case, pool: readonly Target[]): Promise<InjectOptions & { url: string, headers: Record<string, string> }> {
  let url = spec.url
  const picked = pool.length === 0 ? undefined : pool[c.target % pool.length]
  const record: Record<string, string> = typeof picked === 'string' ? { id: picked } : picked ?? {}
  // The module whose ETag an If-Match of kind `current` carries: the aimed-at record, when the path names it.
  let real: string | undefined
  paramsOf(spec.url).forEach((name, i) => {
    const override = c.params[i] ?? null
    const value = override === null ? record[name] ?? randomUUID() : override.kind === 'uuid' ? override.value : override.segment
    if (name === 'id' && override === null) real = record[name]
    url = url.replace(`:${name}`, value)
  })
  url += queryString(c.query)
  const headers: Record<string, string> = { ...c.headers, ...(c.role ? auth(c.role) : {}) }
  if (c.key !== null && c.key !== undefined) headers['idempotency-key'] = c.key
  if (c.ifMatch !== null) {
    if (c.ifMatch.kind === 'current') headers['if-match'] = await currentEtag(real)
    else if (c.ifMatch.kind === 'stale') headers['if-match'] = '"v0"'
    else if (c.ifMatch.kind === 'raw') headers['if-match'] = c.ifMatch.value
  }
  let payload: string | undefined
  if (c.body.kind === 'json') {
    payload = JSON.stringify(c.body.value)
    headers['content-type'] = 'application/json'
  } else if (c.body.kind === 'raw') {
    payload = c.body.text
    if (c.body.contentType !== null) headers['content-type'] = c.body.contentType
  }
  return { method: spec.method, url, headers, ...(payload !== undefined ? { payload } : {}) }
}

async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (a hang): ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function describeRequest (req: { method?: string, url: string, headers: Record<string, string>, payload?: unknown }): string {
  const { authorization: _token, ...headers } = req.headers
  const payload = typeof req.payload === 'string' ? req.payload : ''
  return `${req.method ?? 'GET'} ${req.url.length > 300 ? req.url.slice(0, 300) + '…' : req.url}\n  headers: ${JSON.stringify(headers)}\n  body (${payload.length} chars): ${JSON.stringify(payload.slice(0, 400))}`
}

const CODE = /^[A-Z][A-Z0-9_]+$/

/** Routes that take input without a body schema (it is ignored); every other POST and PATCH validates its body strictly. */
const NO_BODY_SCHEMA = ['POST /modules/:id/check-connection', 'POST /purchases/resume', 'POST /webhooks/:id/deliveries/:deliveryId/retry']
const strictBody = (spec: { method: string, url: string }) => ['POST', 'PATCH'].includes(spec.method) && !NO_BODY_SCHEMA.includes(keyOf(spec))

/**
 * Checks one answer: its status, its problem document, and what it left in the database. Returns
 * the status. `mustReject` names why a strict body schema has to refuse the body (README: unknown
 * fields are rejected, types are not coerced).
 */
async function verify (res: LightMyRequestResponse, before: Snapshot, what: string, idempotent: boolean, mustReject?: string): Promise<{ status: number, code: string }> {
  const status = res.statusCode
  const answer = `→ ${status} ${String(res.headers['content-type'] ?? '(no content-type)')} ${res.body.slice(0, 500)}`
  const fail = (why: string): never => { throw new Error(`${why}\n${what}\n${answer}`) }
  if (!((status >= 200 && status < 300) || (status >= 400 && status < 500))) fail(`status ${status} is neither 2xx nor 4xx`)
  if (mustReject !== undefined && status < 300) fail(`a body with ${mustReject} was accepted: the body schema is not applied strictly`)
  let code = ''
  if (status >= 400) {
    if (!/^application\/problem\+json\b/.test(String(res.headers['content-type'] ?? ''))) fail('an error that is not application/problem+json')
    let problem: { code?: unknown, status?: unknown }
    try {
      problem = JSON.parse(res.body)
    } catch {
      return fail('an error body that is not JSON')
    }
    if (typeof problem.code !== 'string' || !CODE.test(problem.code)) fail(`problem code ${JSON.stringify(problem.code)} is not a stable code`)
    if (problem.status !== status) fail(`problem status ${JSON.stringify(problem.status)} differs from the HTTP status`)
    code = problem.code as string
  }
  // The key's outcome is stored while the answer goes out: the request has ended once it is.
  if (idempotent) await t.app.idempotencyStored()
  const after = await snapshot()
  if (status >= 400) {
    const allowed = allowedGrowth(code, status, idempotent)
    for (const table of COUNTED) {
      const delta = after[table] - before[table]
      if (delta === 0) continue
      if (!allowed.has(table) || delta < 0) fail(`a rejected request (${code}) changed ${table}: ${before[table]} → ${after[table]} rows`)
      if (table === 'idempotency_key' && delta > 1) fail(`one request stored ${delta} Idempotency-Keys`)
    }
  }
  const broken = await halfWritten()
  if (broken.length > 0) fail(`half-written state after the request: ${broken.join('; ')}`)
  return { status, code }
}

/** Outcomes of a route's runs, by status and problem code. */
class Tally {
  private readonly counts = new Map<string, number>()
  add ({ status, code }: { status: number, code: string }): void {
    const key = code ? `${status} ${code}` : String(status)
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
  }

  get succeeded (): boolean {
    return [...this.counts.keys()].some((k) => k.startsWith('2'))
  }

  toString (): string {
    return [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}×${n}`).join(', ')
  }
}

// ---- valid inputs, per route family ---------------------------------------------------------------

/** Drops undefined fields (what fc.option leaves for "not sent"). */
function compact<T extends Record<string, unknown>> (o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}
const maybe = <T>(arb: fc.Arbitrary<T>, freq = 2) => fc.option(arb, { nil: undefined, freq })
const pairsOf = (o: Record<string, string | undefined>): QueryPairs => Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined)

const ascii = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 .,'-]{0,30}$/)
/** Free text as schemas that ask only for a non-space character take it: mostly plain, then other scripts, control characters (NUL too), bidi and surrogates. */
const text = fc.oneof({ weight: 6, arbitrary: ascii }, { weight: 2, arbitrary: humanUnicode }, { weight: 2, arbitrary: controlText }, { weight: 1, arbitrary: oddText })
const limitOffset = { limit: maybe(fc.integer({ min: 1, max: 200 }).map(String)), offset: maybe(fc.integer({ min: 0, max: 1_000_000 }).map(String)) }
const uniqueName = fc.tuple(fc.uuid(), fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 1, arbitrary: text.map((h) => ` ${h}`) })).map(([u, h]) => `fz-${u}${h}`)
/** Filter values for string query parameters: ones that match, other scripts, control characters. */
const filterText = (...matching: string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...matching) }, { weight: 1, arbitrary: humanUnicode }, { weight: 1, arbitrary: controlText })

function contactArb (unicode: boolean) {
  const field = unicode ? text : ascii
  return fc.record({
    firstName: field,
    lastName: field,
    organization: field,
    jobTitle: field,
    address1: field,
    address2: maybe(fc.oneof(field, fc.constant(''))),
    city: field,
    state: field,
    postalCode: fc.stringMatching(/^[0-9][0-9A-Z-]{2,9}$/),
    country: fc.constantFrom('US', 'DE', 'JP', 'BR', 'GB', 'IL'),
    phone: fc.stringMatching(/^\+\d{1,3}\.\d{4,14}$/),
    email: fc.constantFrom('ada@example.com', 'ops+ssl@example.org', 'first.last@sub.example.co.uk')
  }).map(compact)
}

const contactsArb = fc.oneof(
  { weight: 3, arbitrary: contactArb(false).map((c) => ({ admin: c, tech: c, billing: c })) },
  { weight: 2, arbitrary: contactArb(true).map((c) => ({ admin: c, tech: c, billing: c })) },
  { weight: 1, arbitrary: fc.record({ admin: contactArb(true), tech: contactArb(false), billing: contactArb(true) }) }
)

const webServerType = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('apache', 'nginx', 'iis', 'tomcat', 'cpanel', 'plesk', 'other', 'NGINX') }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9999 }) })

function configurationArb () {
  return fc.record({
    csr: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fx.orderCsrs.map((c) => c.pem)) }, { weight: 1, arbitrary: fc.constantFrom(...fx.orderCsrs.map((c) => c.pem.replace(/\n/g, '\r\n'))) }),
    webServerType,
    approverEmail: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...APPROVERS) }, { weight: 1, arbitrary: fc.constantFrom('ADMIN@EXAMPLE.COM', 'nobody@example.com', 'admin@example.org') }),
    dcvMethod: maybe(fc.constantFrom('email', 'file', 'dns'), 4),
    contacts: contactsArb
  }).map(compact)
}

/** A CSR whose DER is intact but for one byte near its public key (the SubjectPublicKeyInfo): still PEM, still base64. */
function damagedKey (pem: string, n: number, byte: number): string {
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
  const der = Buffer.from(body, 'base64')
  const oid = Math.max(der.indexOf(Buffer.from('06092a864886f70d010101', 'hex')), der.indexOf(Buffer.from('06072a8648ce3d0201', 'hex')))
  const at = Math.max(0, oid - 4) + (n % 48)
  if (at < der.length) der[at] = byte
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----`
}

/** CSRs as sent: exact, with CRLF, padded, NEW-style armour, one character changed, a damaged key, or cut short. */
function csrText () {
  const pems = fx.csrs.map((c) => c.pem)
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pems) },
    { weight: 1, arbitrary: fc.constantFrom(...pems).map((p) => p.replace(/\n/g, '\r\n')) },
    { weight: 1, arbitrary: fc.constantFrom(...pems).map((p) => `\n  ${p}  \n`) },
    { weight: 1, arbitrary: fc.constantFrom(...pems).map((p) => p.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST')) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...pems), fc.nat(), fc.constantFrom('A', 'z', '/', '+', '=', '-', '\n', ' ', 'é', '\u0000', '*')).map(([p, n, ch]) => {
        const start = p.indexOf('\n') + 1
        const end = p.lastIndexOf('-----END')
        const at = start + (n % Math.max(1, end - start))
        return p.slice(0, at) + ch + p.slice(at + 1)
      })
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...pems), fc.nat()).map(([p, n]) => `${p.slice(0, 40 + (n % (p.length - 80)))}\n-----END CERTIFICATE REQUEST-----`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...pems), fc.nat(), fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x30, 0x02, 0x03, 0x05)).map(([p, n, byte]) => damagedKey(p, n, byte)) },
    { weight: 1, arbitrary: fc.constantFrom(...pems).map((p) => p + p) }
  )
}

const refreshQuery = fc.record({ refresh: maybe(fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'yes')) }).map(pairsOf)

// ---- the routes -------------------------------------------------------------------------------------

const plainGet = async (): Promise<Plan> => ({ query: queryOf(fc.constant([])) })

const SPECS: RouteSpec[] = [
  { method: 'GET', url: '/health', plan: plainGet },
  { method: 'GET', url: '/health/ready', plan: plainGet },
  { method: 'GET', url: '/health/live', plan: plainGet },
  { method: 'GET', url: '/openapi.json', plan: plainGet },
  { method: 'GET', url: '/metrics', plan: plainGet },
  {
    method: 'POST',
    url: '/modules',
    plan: async () => ({
      body: bodyOf(fc.record({
        name: uniqueName,
        dataCenter: fc.oneof(fc.constantFrom('fz-dc', 'eu-west', 'центр', '数据中心', 'dc 1'), text),
        department: fc.oneof(fc.constantFrom('fz', 'Ops Team', 'отдел', 'قسم'), text),
        sort: fc.oneof(fc.integer({ min: 100, max: 2_147_483_647 }), fc.constant(2_147_483_647)),
        minimalBalance: maybe(fc.oneof(validMoney, fc.constant(null))),
        minimalBalancePolicy: maybe(fc.constantFrom('notify', 'block')),
        apiUrl: fc.constantFrom(s.liveUrl, s.testUrl),
        username: fc.constant('resellid'),
        password: fc.constant('resellpw'),
        addNewClient: maybe(fc.boolean()),
        enabled: maybe(fc.boolean()),
        checkConnection: maybe(fc.boolean())
      }).map(compact)),
      cleanup: disableAllButFixtures
    })
  },
  {
    method: 'GET',
    url: '/modules',
    plan: async () => ({
      query: queryOf(fc.record({
        dataCenter: maybe(filterText('fz-dc', 'fz-orders-dc', 'центр', 'dc 1')),
        enabled: maybe(fc.constantFrom('true', 'false')),
        environment: maybe(fc.constantFrom('live', 'test')),
        includeDeleted: maybe(fc.constantFrom('true', 'false')),
        ...limitOffset
      }).map(pairsOf))
    })
  },
  { method: 'GET', url: '/modules/:id', plan: async () => ({ pool: [fx.ordersModule, fx.readsModule], query: queryOf(fc.constant([])) }) },
  {
    method: 'PATCH',
    url: '/modules/:id',
    plan: async () => {
      const pool = await many(6, () => createModule({ checkConnection: false }))
      return {
        pool,
        ifMatch: true,
        body: bodyOf(fc.record({
          name: maybe(uniqueName),
          dataCenter: maybe(fc.oneof(fc.constantFrom('fz-dc', 'центр', 'dc 1'), text)),
          department: maybe(fc.oneof(fc.constantFrom('fz', 'Ops Team', 'قسم'), text)),
          sort: maybe(fc.integer({ min: 100, max: 2_147_483_647 })),
          minimalBalance: maybe(fc.oneof(validMoney, fc.constant(null))),
          minimalBalancePolicy: maybe(fc.constantFrom('notify', 'block')),
          addNewClient: maybe(fc.boolean()),
          enabled: maybe(fc.boolean()),
          apiUrl: maybe(fc.constantFrom(s.liveUrl, s.testUrl), 4),
          credentials: maybe(fc.constantFrom('right', 'wrong'), 4),
          checkConnection: maybe(fc.boolean(), 4)
        }).map(({ credentials, ...rest }) => {
          // Wrong credentials only with the connection check, which refuses them: no enabled module may keep them.
          const creds = credentials === 'right' ? { username: 'resellid', password: 'resellpw' } : credentials === 'wrong' ? { password: 'not-the-password', checkConnection: true } : {}
          return compact({ ...rest, ...creds })
        })),
        cleanup: disableAllButFixtures
      }
    }
  },
  { method: 'DELETE', url: '/modules/:id', plan: async () => ({ pool: await many(8, () => createModule({ checkConnection: false, enabled: false })) }) },
  {
    method: 'POST',
    url: '/modules/check-connection',
    plan: async () => ({
      body: bodyOf(fc.record({
        apiUrl: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(s.liveUrl, s.testUrl) }, {
          weight: 1,
          arbitrary: fc.constantFrom('https://reseller.enom.com/interface.asp', 'http://127.0.0.1:1/interface.asp', `${s.liveUrl}?uid=x`, s.liveUrl.replace('interface.asp', 'other.asp'),
            s.liveUrl.replace('127.0.0.1', '2130706433'), 'http://[::1]/interface.asp', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url')
        }),
        username: fc.oneof({ weight: 6, arbitrary: fc.constant('resellid') }, { weight: 1, arbitrary: nastyString.filter((x) => x.length > 0 && x.length <= 255) }),
        password: fc.oneof({ weight: 6, arbitrary: fc.constant('resellpw') }, { weight: 1, arbitrary: nastyString.filter((x) => x.length > 0 && x.length <= 1024) })
      }))
    })
  },
  { method: 'POST', url: '/modules/:id/check-connection', plan: async () => ({ pool: [fx.ordersModule, fx.readsModule], body: noBody(2) }) },
  { method: 'GET', url: '/modules/:id/balance', plan: async () => ({ pool: [fx.ordersModule, fx.readsModule], query: queryOf(refreshQuery) }) },
  { method: 'GET', url: '/balance', plan: async () => ({ query: queryOf(refreshQuery) }) },
  { method: 'GET', url: '/modules/:id/products', plan: async () => ({ pool: [fx.ordersModule, fx.readsModule], query: queryOf(refreshQuery) }) },
  {
    method: 'POST',
    url: '/orders',
    plan: async () => ({
      body: bodyOf(fc.tuple(fc.record({
        serviceId: fc.oneof(
          { weight: 5, arbitrary: fc.uuid().map((u) => `svc-${u}`) },
          { weight: 3, arbitrary: fc.tuple(text, fc.uuid()).map(([h, u]) => `${h}-${u}`) },
          { weight: 1, arbitrary: fc.constantFrom('svc-shared-a', 'svc-shared-b') }
        ),
        productCode: fc.oneof(
          { weight: 6, arbitrary: fc.constant(RAPID) },
          { weight: 2, arbitrary: fc.constant(COMODO) },
          { weight: 1, arbitrary: fc.constantFrom('CERTIFICATE-RAPIDSSL-RAPIDSSL', 'certificate-comodo-ev-sgc', 'certificate-rapidssl-rapidssl-wildcard', 'certificate-comodo-ucc-dv', 'no-such-product') }
        ),
        years: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) }),
        domain: fc.oneof({ weight: 6, arbitrary: fc.constant(DOMAIN) }, { weight: 1, arbitrary: fc.constantFrom('example.com', 'WWW.Example.COM', 'www.example.com.', '*.example.com', 'xn--bcher-kva.example', 'a.b.c.example.org') }),
        sans: maybe(fc.uniqueArray(fc.constantFrom('a.example.com', 'b.example.com', 'www.example.com'), { maxLength: 3 }), 8),
        moduleId: fc.oneof({ weight: 8, arbitrary: fc.constant(fx.ordersModule) }, { weight: 1, arbitrary: fc.constant(undefined) }),
        environment: maybe(fc.constantFrom('live', 'test'), 6),
        dataCenter: maybe(fc.constantFrom('fz-orders-dc', 'nowhere'), 6)
      }), fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: configurationArb() })).map(([order, configuration]) => compact({ ...order, ...configuration })))
    })
  },
  {
    method: 'GET',
    url: '/orders',
    plan: async () => ({
      query: queryOf(fc.record({
        serviceId: maybe(filterText('svc-shared-a', 'svc-x', 'Zoë')),
        status: maybe(fc.constantFrom(...ORDER_STATUSES)),
        moduleId: maybe(fc.constantFrom(fx.ordersModule, fx.readsModule)),
        expiringBefore: maybe(fc.oneof(
          { weight: 4, arbitrary: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()) },
          // RFC 3339 date-times at the edges: a leap second, offsets, lower case, nanoseconds.
          { weight: 1, arbitrary: fc.constantFrom('2016-12-31T23:59:60Z', '2024-02-29T00:00:00Z', '2024-01-01T00:00:00+14:00', '2024-01-01T00:00:00-12:00', '2024-01-01t00:00:00z', '1970-01-01T00:00:00.000000001Z', '9999-12-31T23:59:59.999Z', '0001-01-01T00:00:00Z') }
        )),
        ...limitOffset
      }).map(pairsOf))
    })
  },
  { method: 'GET', url: '/orders/:id', plan: async () => ({ pool: await many(2, () => placed()), query: queryOf(fc.constant([])) }) },
  {
    method: 'POST',
    url: '/orders/:id/configure',
    plan: async () => ({ pool: [...await many(25, () => placed()), ...await many(10, () => placed(COMODO))], body: bodyOf(configurationArb()) })
  },
  { method: 'GET', url: '/orders/:id/approver-emails', plan: async () => ({ pool: [...await many(2, () => placed()), ...await many(2, () => configured())] }) },
  {
    method: 'POST',
    url: '/orders/:id/approver-email',
    plan: async () => ({
      pool: [...await many(3, () => configured()), ...await many(3, () => configured(COMODO))],
      body: bodyOf(fc.record({ approverEmail: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...APPROVERS) }, { weight: 1, arbitrary: fc.constantFrom('nobody@example.com', 'Admin@Example.com') }) }))
    })
  },
  { method: 'POST', url: '/orders/:id/resend-approver-email', plan: async () => ({ pool: await many(3, () => configured()), body: noBody(4) }) },
  { method: 'POST', url: '/orders/:id/resend-fulfillment-email', plan: async () => ({ pool: await many(3, () => issued()), body: noBody(4) }) },
  { method: 'POST', url: '/orders/:id/sync', plan: async () => ({ pool: [await placed(), await configured(), await issued()], body: noBody(4) }) },
  { method: 'POST', url: '/orders/:id/reissue', plan: async () => ({ pool: await many(3, () => issued()), body: bodyOf(fc.record({ csr: csrText() })) }) },
  { method: 'POST', url: '/orders/:id/cancel-configuration', plan: async () => ({ pool: await many(15, () => configured()), body: noBody(4) }) },
  { method: 'POST', url: '/orders/:id/renew', plan: async () => ({ pool: await many(12, () => issued()), body: noBody(4) }) },
  {
    method: 'POST',
    url: '/orders/:id/close',
    plan: async () => ({
      pool: [...await many(6, () => placed()), ...await many(6, () => configured()), ...await many(4, () => issued())],
      body: bodyOf(fc.record({ reason: maybe(fc.oneof(text, fc.constant('r'.repeat(500)))) }).map(compact), { noneWeight: 4 })
    })
  },
  { method: 'GET', url: '/orders/:id/certificate', plan: async () => ({ pool: [...await many(3, () => issued()), await placed()] }) },
  {
    method: 'POST',
    url: '/csr/parse',
    plan: async () => ({ body: bodyOf(fc.record({ csr: csrText(), domain: maybe(fc.constantFrom(DOMAIN, 'WWW.EXAMPLE.COM.', 'other.example.com', 'shop.example.org', '*.example.com')) }).map(compact)) })
  },
  {
    method: 'GET',
    url: '/tasks',
    plan: async () => ({
      query: queryOf(fc.record({
        department: maybe(filterText('fz', 'ssl', 'Ops Team', 'отдел')),
        status: maybe(fc.constantFrom('open', 'resolved')),
        moduleId: maybe(fc.constantFrom(fx.ordersModule, fx.readsModule)),
        orderId: maybe(fc.uuid()),
        ...limitOffset
      }).map(pairsOf))
    })
  },
  {
    method: 'POST',
    url: '/tasks/:id/resolve',
    plan: async () => ({ pool: await openTasks(40), body: bodyOf(fc.record({ resolution: maybe(fc.oneof(text, fc.constant('r'.repeat(2000)))) }).map(compact), { noneWeight: 4 }) })
  },
  { method: 'GET', url: '/purchases/status', plan: plainGet },
  {
    method: 'POST',
    url: '/webhooks',
    plan: async () => ({
      body: bodyOf(fc.record({
        url: fc.oneof(
          { weight: 8, arbitrary: fc.uuid().map((u) => `${WEBHOOK_ORIGIN}/hooks/${u}`) },
          { weight: 1, arbitrary: fc.constantFrom(`${WEBHOOK_ORIGIN}/`, `${WEBHOOK_ORIGIN}/h?x=1&y=%00`, `${WEBHOOK_ORIGIN}/ö/😀`, `${WEBHOOK_ORIGIN}/${'a'.repeat(2000)}`) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(`${WEBHOOK_ORIGIN}/#frag`, 'http://user:pw@127.0.0.1:9/', 'https://example.com/hook', 'http://127.0.0.1:10/', 'http://2130706433:9/', 'ftp://127.0.0.1:9/',
              'file:///etc/passwd', 'javascript:alert(1)', 'http://[::1]:9/', 'http://127.0.0.1:9@evil.example/', '//127.0.0.1:9/', 'not a url', 'http://127.0.0.1:9\\@evil.example/')
          }
        ),
        eventTypes: maybe(fc.oneof(
          { weight: 6, arbitrary: fc.uniqueArray(fc.constantFrom(...EVENT_TYPES), { maxLength: 5 }) },
          { weight: 1, arbitrary: fc.array(fc.constantFrom(...EVENT_TYPES, 'order.*', 'ORDER.CREATED', ''), { maxLength: 25 }) }
        )),
        description: maybe(fc.oneof(text, fc.constant('d'.repeat(200))))
      }).map(compact)),
      cleanup: disableWebhooks
    })
  },
  { method: 'GET', url: '/webhooks', plan: plainGet },
  { method: 'GET', url: '/webhooks/:id', plan: async () => ({ pool: [await createWebhook(), await createWebhook({ eventTypes: ['task.created'], description: 'Zoë' })], query: queryOf(fc.constant([])) }) },
  { method: 'DELETE', url: '/webhooks/:id', plan: async () => ({ pool: await many(6, () => createWebhook()) }) },
  {
    method: 'GET',
    url: '/webhooks/:id/deliveries',
    plan: async () => ({ pool: [...new Set((await endedDeliveries(3)).map((d) => d.id as string))], query: queryOf(fc.record(limitOffset).map(pairsOf)) })
  },
  {
    method: 'POST',
    url: '/webhooks/:id/deliveries/:deliveryId/retry',
    plan: async () => ({ pool: await endedDeliveries(8), body: noBody(2), cleanup: disableWebhooks })
  },
  {
    method: 'GET',
    url: '/audit',
    plan: async () => ({
      query: queryOf(fc.record({
        actor: maybe(filterText('root', 'shop', 'watch')),
        action: maybe(filterText('module.created', 'module.updated', 'module.deleted', 'task.resolved', 'purchases.paused')),
        targetId: maybe(fc.constantFrom(fx.ordersModule, fx.readsModule)),
        ...limitOffset
      }).map(pairsOf))
    })
  },
  {
    method: 'POST',
    url: '/purchases/pause',
    plan: async () => ({
      body: bodyOf(fc.record({ reason: maybe(fc.oneof(text, fc.constant('p'.repeat(500)))) }).map(compact), { noneWeight: 4 }),
      // Later routes (and the next run of this file's routes) buy again.
      cleanup: async () => { await t.app.services.purchases.resume('fuzz') }
    })
  },
  { method: 'POST', url: '/purchases/resume', plan: async () => ({ body: noBody(2) }) }
]

describe('every route: any input is a 2xx or a 4xx problem, in time, with nothing half-written', () => {
  it('covers exactly the routes the app lists', () => {
    const listed = t.app.routePermissions.map(keyOf).sort()
    expect(SPECS.map(keyOf).sort()).toEqual(listed)
  })

  it('starts from a database with nothing half-written', async () => {
    expect(await halfWritten()).toEqual([])
  })

  for (const spec of SPECS) {
    it(`${spec.method} ${spec.url}`, async () => {
      const route = t.app.routePermissions.find((r) => keyOf(r) === keyOf(spec))
      expect(route, 'the app lists this route').toBeDefined()
      const permission = (route as { permission: Permission }).permission
      const plan = await spec.plan()
      const pool = plan.pool ?? []
      const idempotent = spec.method === 'POST' && spec.url.startsWith('/orders')
      const tally = new Tally()
      const routeSeed = seedOf(keyOf(spec))
      try {
        // Shrinking re-runs requests against a database that moved on; a bounded number of steps keeps a failing route to seconds.
        await fc.assert(fc.asyncProperty(fc.limitShrink(caseArb(spec, permission, plan), 150), async (c) => {
          const req = await requestOf(spec, c, pool)
          const what = describeRequest(req)
          const before = await snapshot()
          const res = await within(t.app.inject(req), REQUEST_BOUND_MS, what)
          const mustReject = strictBody(spec) && c.body.kind === 'json' ? c.body.mustReject : undefined
          tally.add(await verify(res, before, what, idempotent, mustReject))
        }), { seed: routeSeed })
      } finally {
        await plan.cleanup?.()
      }
      console.log(`${spec.method} ${spec.url} [${permission}, seed ${routeSeed}]: ${tally.toString()}`)
      // Every route can succeed with generated data (the pools hold records in the states it needs).
      expect(tally.succeeded, `no run of ${spec.method} ${spec.url} got a 2xx: ${tally.toString()}`).toBe(true)
    }, ROUTE_TIMEOUT_MS)
  }
})

// ---- the URL itself --------------------------------------------------------------------------------

/** URL mutations no route's schema sees: malformed percent-encoding, over-long parameters and paths, odd spellings. */
const urlMutation = fc.constantFrom(
  { where: 'param', text: '%E0%A4%A' }, { where: 'param', text: '%' }, { where: 'param', text: '%zz' }, { where: 'param', text: '%C0%AF' },
  { where: 'param', text: '%ED%A0%80' }, { where: 'param', text: '%FF%FE' }, { where: 'param', text: 'x'.repeat(101) }, { where: 'param', text: '%41'.repeat(40) },
  { where: 'param', text: 'é'.repeat(60) }, { where: 'param', text: 'x'.repeat(5_000) },
  { where: 'query', text: 'refresh=%E0%A4%A' }, { where: 'query', text: '%=1' }, { where: 'query', text: 'limit=%' }, { where: 'query', text: `x=${'a'.repeat(20_000)}` },
  { where: 'query', text: '__proto__[x]=1&constructor[prototype][y]=2' },
  { where: 'suffix', text: '/' }, { where: 'suffix', text: '/..' }, { where: 'suffix', text: '/%2e%2e/%2e%2e' }, { where: 'suffix', text: `/${'a'.repeat(8_000)}` },
  { where: 'suffix', text: ';jsessionid=1' }, { where: 'suffix', text: '%00' }, { where: 'suffix', text: '%E0%A4%A' }, { where: 'suffix', text: '#fragment' },
  { where: 'prefix', text: '/' }, { where: 'case', text: '' }
)

describe('malformed URLs on every route', () => {
  it('answers a 2xx or a 4xx problem for bad percent-encoding, over-long parameters, odd and over-long paths', async () => {
    const routes = t.app.routePermissions
    const tally = new Tally()
    const urlSeed = seedOf('malformed URLs')
    await fc.assert(fc.asyncProperty(fc.nat(), urlMutation, async (n, mutation) => {
      const route = routes[n % routes.length] as { method: string, url: string, permission: Permission }
      const holders = PERMISSIONS[route.permission] as readonly Role[]
      const names = paramsOf(route.url)
      let url = route.url
      names.forEach((name, i) => { url = url.replace(`:${name}`, mutation.where === 'param' && i === 0 ? mutation.text : randomUUID()) })
      if (mutation.where === 'param' && names.length === 0) url += mutation.text
      else if (mutation.where === 'query') url += `?${mutation.text}`
      else if (mutation.where === 'suffix') url += mutation.text
      else if (mutation.where === 'prefix') url = mutation.text + url
      else if (mutation.where === 'case') url = url.toUpperCase()
      const idempotent = route.method === 'POST' && route.url.startsWith('/orders')
      const headers: Record<string, string> = {
        ...(holders[0] ? auth(holders[0]) : {}),
        ...(idempotent ? { 'idempotency-key': `"fz-${randomUUID()}"` } : {}),
        ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' })
      }
      const req = { method: route.method as 'GET', url, headers, ...(route.method === 'GET' ? {} : { payload: '{}' }) }
      const what = describeRequest(req)
      const before = await snapshot()
      const res = await within(t.app.inject(req), REQUEST_BOUND_MS, what)
      tally.add(await verify(res, before, what, idempotent))
    }), { seed: urlSeed })
    console.log(`malformed URLs [seed ${urlSeed}]: ${tally.toString()}`)
  }, ROUTE_TIMEOUT_MS)
})
