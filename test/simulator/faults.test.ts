// Every fault kind as a real HTTP client (undici) meets it, and what the ledger and the state say
// afterwards: the difference between "eNom never saw it" and "eNom charged, the answer was lost".
import { XMLValidator } from 'fast-xml-parser'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../src/simulator/app.js'
import { LOGIN, buy, enom, expectOk } from './support.js'

let sim: RunningSimulator
let agent: Agent

beforeAll(async () => {
  sim = await startSimulator({ defaultIssueDelayMs: 1000 })
  agent = new Agent({ keepAliveTimeout: 10 })
})
afterAll(async () => {
  await agent.close()
  await sim.close()
})
afterEach(() => {
  sim.state.clearFaults()
})

const PURCHASE = { command: 'PurchaseServices', service: 'certificate-rapidssl-rapidssl', numyears: '1' }

function send (params: Record<string, string>, options: { bodyTimeout?: number, dispatcher?: Agent } = {}) {
  const body = new URLSearchParams({ ...LOGIN, responsetype: 'xml', ...params }).toString()
  return request(sim.apiUrl, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    dispatcher: options.dispatcher ?? agent,
    ...(options.bodyTimeout ? { bodyTimeout: options.bodyTimeout } : {})
  })
}

const balanceOf = () => sim.state.account('resellid')?.balance
const lastEntry = () => sim.state.ledger().at(-1)

describe('faults before processing', () => {
  it('resetBeforeProcessing: the socket dies, nothing is bought, the ledger says so', async () => {
    const before = balanceOf()
    const certsBefore = (await sim.state.certs('resellid')).length
    sim.state.addFault({ command: 'PurchaseServices', resetBeforeProcessing: true, times: 1 })
    await expect(send(PURCHASE)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) })
    expect(balanceOf()).toBe(before)
    expect(await sim.state.certs('resellid')).toHaveLength(certsBefore)
    expect(lastEntry()).toMatchObject({ command: 'PurchaseServices', outcome: 'fault', fault: 'resetBeforeProcessing', processed: false })
    expect(lastEntry()).not.toHaveProperty('certId')
    // times: 1 — the next purchase goes through.
    expect((await send(PURCHASE)).statusCode).toBe(200)
    expect(lastEntry()).toMatchObject({ outcome: 'ok', processed: true })
  })

  it('httpStatus: 503 with an HTML body, not processed', async () => {
    sim.state.addFault({ uid: 'resellid', httpStatus: 503, times: 1 })
    const res = await send({ command: 'GetBalance' })
    expect(res.statusCode).toBe(503)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(await res.body.text()).toContain('503 - Service Unavailable')
    expect(lastEntry()).toMatchObject({ outcome: 'fault', fault: 'httpStatus', processed: false })
  })

  it('httpStatus with phase after: 500 although the purchase went through', async () => {
    const before = sim.state.account('resellid')?.balance
    sim.state.addFault({ command: 'purchaseservices', httpStatus: 500, phase: 'after', times: 1 })
    const res = await send(PURCHASE)
    expect(res.statusCode).toBe(500)
    await res.body.text()
    expect(sim.state.account('resellid')?.balance).not.toBe(before)
    expect(lastEntry()).toMatchObject({ outcome: 'fault', fault: 'httpStatus', processed: true, amount: '9.95' })
  })

  it('redirect: 302 with a Location, which undici does not follow', async () => {
    sim.state.addFault({ redirect: 'https://www.enom.com/maintenance.aspx', times: 1 })
    const res = await send({ command: 'GetBalance' })
    expect(res.statusCode).toBe(302)
    expect(res.headers.location).toBe('https://www.enom.com/maintenance.aspx')
    await res.body.text()
    expect(lastEntry()).toMatchObject({ fault: 'redirect', processed: false })
  })

  it('htmlPage: HTTP 200 with an HTML error page instead of XML', async () => {
    sim.state.addFault({ htmlPage: true, times: 1 })
    const res = await send({ command: 'GetBalance' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    const text = await res.body.text()
    expect(text).toMatch(/^<!DOCTYPE html/)
    expect(text).not.toContain('interface-response')
  })
})

describe('faults after processing', () => {
  it('resetAfterProcessing: debited and created, but no answer', async () => {
    const before = Number(balanceOf())
    sim.state.addFault({ uid: 'RESELLID', command: 'PurchaseServices', resetAfterProcessing: true, times: 1 })
    await expect(send(PURCHASE)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) })
    expect(Number(balanceOf())).toBeCloseTo(before - 9.95, 2)
    const entry = lastEntry()
    expect(entry).toMatchObject({ command: 'PurchaseServices', outcome: 'fault', fault: 'resetAfterProcessing', processed: true, amount: '9.95' })
    const certs = await sim.state.certs('resellid')
    expect(certs.map((c) => c.certId)).toContain(entry?.certId)
    expect(certs.find((c) => c.certId === entry?.certId)?.orderId).toBe(entry?.orderId)
  })

  it('truncate: a complete HTTP response whose XML stops before Done', async () => {
    sim.state.addFault({ command: 'GetBalance', truncate: true, times: 1 })
    const res = await send({ command: 'GetBalance' })
    expect(res.statusCode).toBe(200)
    const text = await res.body.text()
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(text))
    expect(text).toContain('<interface-response>')
    expect(text).not.toContain('<Done>')
    expect(text).not.toContain('</interface-response>')
    expect(XMLValidator.validate(text)).not.toBe(true)
    expect(lastEntry()).toMatchObject({ fault: 'truncate', processed: true })
  })

  it('malformedXml: 200, has Done, but is not well-formed', async () => {
    sim.state.addFault({ malformedXml: true, times: 1 })
    const res = await send({ command: 'GetBalance' })
    const text = await res.body.text()
    expect(res.statusCode).toBe(200)
    expect(text).toContain('<Done>true</Done>')
    expect(XMLValidator.validate(text)).not.toBe(true)
  })

  it('latencyMs: the answer comes late but whole', async () => {
    sim.state.addFault({ command: 'GetBalance', latencyMs: 250, times: 1 })
    const started = Date.now()
    const res = await send({ command: 'GetBalance' })
    const text = await res.body.text()
    expect(Date.now() - started).toBeGreaterThanOrEqual(240)
    expect(text).toContain('<Done>true</Done>')
    expect(lastEntry()).toMatchObject({ outcome: 'fault', fault: 'latencyMs', processed: true })
  })

  // undici checks headers/body timeouts on a ~0.5 s tick, hence delays above a second here.
  it('latencyMs makes a client with a short headers timeout give up, while the purchase still happens', async () => {
    const before = Number(balanceOf())
    sim.state.addFault({ command: 'PurchaseServices', latencyMs: 1500, times: 1 })
    const impatient = new Agent({ headersTimeout: 200 })
    try {
      await expect(send(PURCHASE, { dispatcher: impatient })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' })
    } finally {
      await impatient.destroy()
    }
    expect(Number(balanceOf())).toBeCloseTo(before - 9.95, 2)
    expect(lastEntry()).toMatchObject({ command: 'PurchaseServices', fault: 'latencyMs', processed: true, amount: '9.95' })
  })

  it('slowBodyMs: headers at once, then the body in pieces; a short body timeout fails', async () => {
    sim.state.addFault({ command: 'CheckLogin', slowBodyMs: 30, chunkBytes: 256, times: 1 })
    const started = Date.now()
    const res = await send({ command: 'CheckLogin' })
    const headersAfter = Date.now() - started
    const text = await res.body.text()
    const chunks = Math.ceil(Buffer.byteLength(text) / 256)
    expect(headersAfter).toBeLessThan(30 * chunks)
    expect(Date.now() - started).toBeGreaterThanOrEqual(30 * chunks - 5)
    expect(XMLValidator.validate(text)).toBe(true)

    sim.state.addFault({ command: 'CheckLogin', slowBodyMs: 1200, times: 1 })
    const res2 = await send({ command: 'CheckLogin' }, { bodyTimeout: 100 })
    expect(res2.statusCode).toBe(200)
    await expect(res2.body.text()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' })
    expect(sim.state.ledger({ command: 'checklogin' }).map((e) => e.fault)).toEqual(['slowBodyMs', 'slowBodyMs'])
  })
})

describe('fault rules', () => {
  it('match by uid and command, first match wins, and count down', async () => {
    sim.state.addAccount({ uid: 'other', pw: 'secret' })
    sim.state.addFault({ uid: 'other', httpStatus: 502, times: 2 })
    sim.state.addFault({ command: 'GetBalance', htmlPage: true })
    expect((await send({ command: 'GetBalance', uid: 'other', pw: 'secret' })).statusCode).toBe(502)
    expect(sim.state.faults()[0]).toMatchObject({ remaining: 1, hits: 1 })
    const html = await send({ command: 'GetBalance' })
    expect(html.headers['content-type']).toMatch(/^text\/html/)
    await html.body.text()
    expect(expectOk(await enom(sim, { command: 'CheckLogin' })).Reseller).toBe('True')
    expect((await send({ command: 'CheckLogin', uid: 'other', pw: 'secret' })).statusCode).toBe(502)
    expect(sim.state.faults()).toHaveLength(1)
  })

  it('refuse rules with two kinds or none', () => {
    expect(() => sim.state.addFault({ truncate: true, htmlPage: true })).toThrow(/one kind/)
    expect(() => sim.state.addFault({ uid: 'x' })).toThrow(/needs one of/)
    expect(() => sim.state.addFault({ truncate: true, phase: 'before' })).toThrow(/after processing/)
  })

  it('are listed, added and removed over the control API', async () => {
    const created = await request(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ command: 'GetCerts', httpStatus: 503 }), headers: { 'content-type': 'application/json' } })
    expect(created.statusCode).toBe(201)
    expect(await created.body.json()).toMatchObject({ id: expect.any(Number), kind: 'httpStatus', phase: 'before', remaining: null })
    const bad = await request(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ nonsense: true }), headers: { 'content-type': 'application/json' } })
    expect(bad.statusCode).toBe(400)
    await bad.body.text()
    const list = await request(`${sim.url}/_sim/faults`)
    expect(await list.body.json()).toHaveLength(1)
    const cleared = await request(`${sim.url}/_sim/faults`, { method: 'DELETE' })
    expect(cleared.statusCode).toBe(204)
    await cleared.body.text()
    expect(sim.state.faults()).toEqual([])
    await buy(sim, 'certificate-rapidssl-rapidssl')
  })
})
