// No secret in any output. With every secret made random for the run, the service (a separate
// process, logging at trace) and the simulator are driven through successes and failures; then
// its stdout and stderr, every response body and header, every webhook request, and every table
// are searched for each secret raw, URL-encoded and base64-encoded.
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import pg from 'pg'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/app.js'
import { contacts, makeCsr } from '../support/enom.js'
import { freePort, startServiceProcess, startSimulatorProcess, type RunningProcess, type SimulatorProcess } from '../support/processes.js'
import { scanForSecrets } from '../support/secret-scan.js'

const random = (n = 18) => randomBytes(n).toString('base64url')
const secrets = {
  modulePassword: `pw-${random()}`,
  wrongPassword: `wrong-${random()}`,
  adminToken: `adm-${random()}`,
  billingToken: `bil-${random()}`,
  opsToken: `ops-${random()}`,
  wrongToken: `tok-${random()}`,
  databasePassword: `db-${random()}`,
  secretsKey: randomBytes(32).toString('base64')
}

let database: TestDatabase
let sim: SimulatorProcess
let service: RunningProcess
let receiver: Server
const responses: Record<string, string> = {}
const webhookRequests: string[] = []
let webhookSecret = ''
let creationResponse = ''
let counter = 0

async function call (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${service.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) })
  })
  const text = await res.body.text()
  responses[`${++counter} ${method} ${path} ${res.statusCode}`] = `${JSON.stringify(res.headers)}\n${text}`
  return { status: res.statusCode, text, json: (() => { try { return JSON.parse(text) } catch { return undefined } })() }
}

beforeAll(async () => {
  database = await createTestDatabase()
  const url = new URL(database.url)
  // The suite's server may trust local connections; a password in the URL is still a secret to hide.
  if (url.password) secrets.databasePassword = decodeURIComponent(url.password)
  else url.password = secrets.databasePassword
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString('utf8') })
    req.on('end', () => { webhookRequests.push(`${JSON.stringify(req.headers)}\n${body}`); res.end() })
  })
  const receiverPort = await freePort()
  await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve))
  sim = await startSimulatorProcess({ SIM_ACCOUNTS: `scanuid:${secrets.modulePassword}:100000.00`, SIM_ISSUE_DELAY_MS: '200' })
  service = await startServiceProcess(url.toString(), {
    LOG_LEVEL: 'trace',
    SECRETS_KEY: `scan:${secrets.secretsKey}`,
    API_TOKENS: `admin:admin:${secrets.adminToken},shop:billing:${secrets.billingToken},watch:ops:${secrets.opsToken}`,
    ENOM_ALLOWED_ORIGINS: `https://reseller.enom.com,${sim.url}`,
    WEBHOOK_ALLOWED_ORIGINS: `http://127.0.0.1:${receiverPort}`,
    WEBHOOK_RETRY_BASE_MS: '50',
    JOBS_ENABLED: 'true',
    JOB_POLL_MS: '50',
    SYNC_INTERVAL_SECONDS: '1',
    ENOM_TIMEOUT_MS: '1500',
    RECONCILE_DELAY_SECONDS: '0'
  })

  const hook = await call('POST', '/webhooks', secrets.adminToken, { url: `http://127.0.0.1:${receiverPort}/hook` })
  webhookSecret = hook.json.secret
  creationResponse = `${counter} POST /webhooks ${hook.status}`

  const settings = { apiUrl: sim.apiUrl, username: 'scanuid', password: secrets.modulePassword }
  await call('POST', '/modules/check-connection', secrets.adminToken, settings)
  await call('POST', '/modules/check-connection', secrets.adminToken, { ...settings, password: secrets.wrongPassword })
  await call('POST', '/modules', secrets.adminToken, { name: 'bad', dataCenter: 'dc', department: 'ssl', sort: 1, ...settings, password: secrets.wrongPassword })
  await call('POST', '/modules', secrets.adminToken, { name: 'x', dataCenter: 'dc', department: 'ssl', sort: 'one', ...settings })
  await call('POST', '/modules', secrets.adminToken, `{"name":"broken","password":"${secrets.modulePassword}"`)
  const m = (await call('POST', '/modules', secrets.adminToken, { name: 'scan', dataCenter: 'dc', department: 'ssl', sort: 1, minimalBalance: '200000.00', ...settings })).json
  await call('PATCH', `/modules/${m.id}`, secrets.adminToken, { password: secrets.wrongPassword }, { 'if-match': '"v1"' })
  await call('POST', `/modules/${m.id}/check-connection`, secrets.adminToken)
  await call('GET', `/modules/${m.id}`, secrets.opsToken)
  await call('GET', `/modules/${m.id}/balance?refresh=true`, secrets.opsToken)
  await call('GET', '/balance', secrets.billingToken)
  await call('GET', `/modules/${m.id}/products`, secrets.billingToken)
  await sim.control('POST', '/faults', { command: 'GetBalance', resetBeforeProcessing: true, times: 3 })
  await call('GET', `/modules/${m.id}/balance?refresh=true`, secrets.opsToken)
  await sim.control('POST', '/faults', { command: 'GetCerts', malformedXml: true, times: 3 })
  await call('GET', `/modules/${m.id}/products?refresh=true`, secrets.billingToken)

  const placed = await call('POST', '/orders', secrets.billingToken, { serviceId: 'svc-scan', productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' }, { 'idempotency-key': '"scan-1"' })
  const csr = await makeCsr('www.example.com')
  await call('POST', `/orders/${placed.json.id}/configure`, secrets.billingToken, { csr: csr.pem, webServerType: 'apache', approverEmail: 'admin@example.com', contacts: contacts() }, { 'idempotency-key': '"scan-2"' })
  for (let i = 0; i < 100; i++) {
    if ((await call('GET', `/orders/${placed.json.id}`, secrets.opsToken)).json?.status === 'issued') break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await call('GET', `/orders/${placed.json.id}/certificate`, secrets.billingToken)
  await sim.control('POST', '/faults', { command: 'PurchaseServices', resetAfterProcessing: true, times: 1 })
  await call('POST', '/orders', secrets.billingToken, { serviceId: 'svc-scan-2', productCode: 'certificate-rapidssl-rapidssl', years: 1, domain: 'www.example.com' }, { 'idempotency-key': '"scan-3"' })
  await call('GET', '/modules', secrets.wrongToken)
  await call('GET', '/modules', undefined, undefined, { authorization: `Basic ${Buffer.from(`admin:${secrets.adminToken}`).toString('base64')}` })
  await call('POST', '/purchases/pause', secrets.billingToken, {})
  await call('GET', '/tasks', secrets.opsToken)
  await call('GET', '/audit', secrets.adminToken)
  await call('GET', '/metrics', secrets.opsToken)
  await call('GET', `/webhooks/${hook.json.id}/deliveries`, secrets.adminToken)
  await new Promise((resolve) => setTimeout(resolve, 1500))
}, 120_000)

afterAll(async () => {
  await service?.kill()
  await sim?.kill()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
  await database?.drop()
})

describe('secrets in outputs', () => {
  it('finds a secret planted raw, URL-encoded or base64-encoded (the scanner works)', () => {
    const planted = {
      raw: `level=info pw=${secrets.modulePassword}`,
      url: `GET /interface.asp?pw=${encodeURIComponent(secrets.modulePassword + '/+')}`,
      base64: `{"blob":"${Buffer.from(`prefix:${secrets.adminToken}:suffix`).toString('base64')}"}`,
      base64url: Buffer.from(`xx${secrets.databasePassword}`).toString('base64url')
    }
    const findings = scanForSecrets({ modulePassword: secrets.modulePassword, adminToken: secrets.adminToken, databasePassword: secrets.databasePassword }, planted)
    const found = new Set(findings.map((f) => `${f.secret}@${f.where}`))
    for (const expected of ['modulePassword@raw', 'modulePassword@url', 'adminToken@base64', 'databasePassword@base64url']) expect(found).toContain(expected)
    expect(findings.find((f) => f.where === 'base64')?.form).toBe('base64')
    expect(scanForSecrets({ adminToken: secrets.adminToken }, { clean: 'nothing to see' })).toEqual([])
  })

  it('finds none in logs, responses, webhook requests or tables', async () => {
    expect(await service.stop()).toBe(0)
    const dump: Record<string, string> = {}
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      const { rows: tables } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
      for (const { tablename } of tables) {
        const { rows } = await client.query(`SELECT row_to_json(t)::text AS j FROM "${tablename}" t`)
        dump[`table ${tablename}`] = rows.map((r) => r.j).join('\n')
      }
    } finally {
      await client.end()
    }
    expect(dump['table processing_module']).toContain('scan')
    expect(Object.keys(responses).length).toBeGreaterThan(25)
    expect(webhookRequests.length).toBeGreaterThan(0)
    const logs = service.output()
    expect(logs).toMatch(/"level":"trace"|"level":"debug"/)
    const corpora: Record<string, string> = {
      'service output': logs,
      'simulator output': sim.output(),
      ...Object.fromEntries(Object.entries(responses).filter(([k]) => k !== creationResponse)),
      ...Object.fromEntries(webhookRequests.map((r, i) => [`webhook request ${i}`, r])),
      ...dump
    }
    const findings = scanForSecrets({ ...secrets, webhookSecret }, corpora)
    expect(findings).toEqual([])
    // The eNom URL's password parameter, in any case, shown with what surrounds it. (A bare /pw=/
    // also matched, now and then, the end of a random base64 value such as a ciphertext: "...pW=".)
    const urlPasswords = (text: string) => [...text.matchAll(/.{0,60}[?&]pw=.{0,20}/gi)].map((m) => m[0])
    expect(urlPasswords(logs)).toEqual([])
    expect(urlPasswords(Object.values(dump).join('\n'))).toEqual([])
    // The webhook secret was shown once, in its creation answer.
    expect(responses[creationResponse]).toContain(webhookSecret)
  })
})
