// Helpers for the simulator's tests: an eNom call over real HTTP, a plain reading of the XML with
// fast-xml-parser (no project code), CSRs made on the spot, and contact parameters.
import { webcrypto } from 'node:crypto'
import { XMLParser } from 'fast-xml-parser'
import { request } from 'undici'
import type { RunningSimulator } from '../../src/simulator/app.js'
import { subtle, x509 } from '../../src/lib/x509.js'

export const LOGIN = { uid: 'resellid', pw: 'resellpw' }

const parser = new XMLParser({
  parseTagValue: false,
  ignoreAttributes: false,
  isArray: (name) => ['Cert', 'Approver', 'WebServerType', 'response', 'Years'].includes(name)
})

export type Xml = any

export interface EnomAnswer {
  status: number
  contentType: string
  text: string
  /** `<interface-response>` as fast-xml-parser reads it. */
  root: Xml
}

export interface CallOptions {
  method?: 'GET' | 'POST'
  uid?: string
  pw?: string
}

/** One call to /interface.asp with credentials and responsetype=xml added. */
export async function enom (sim: RunningSimulator, params: Record<string, string | number>, options: CallOptions = {}): Promise<EnomAnswer> {
  const all = new URLSearchParams({ uid: options.uid ?? LOGIN.uid, pw: options.pw ?? LOGIN.pw, responsetype: 'xml' })
  for (const [k, v] of Object.entries(params)) all.set(k, String(v))
  const method = options.method ?? 'POST'
  const res = method === 'GET'
    ? await request(`${sim.apiUrl}?${all.toString()}`)
    : await request(sim.apiUrl, { method: 'POST', body: all.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const text = await res.body.text()
  return { status: res.statusCode, contentType: String(res.headers['content-type']), text, root: parser.parse(text)['interface-response'] }
}

/** The first error's number and text, or undefined for a success. */
export function errorOf (answer: EnomAnswer): { number: string, text: string } | undefined {
  const root = answer.root
  if (root.ErrCount === '0') return undefined
  return { number: root.responses.response[0].ResponseNumber, text: root.errors.Err1 }
}

export function expectOk (answer: EnomAnswer): Xml {
  const err = errorOf(answer)
  if (err) throw new Error(`eNom error ${err.number}: ${err.text}`)
  return answer.root
}

export async function control (sim: RunningSimulator, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
  const res = await request(`${sim.url}/_sim${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined }
}

export interface TestCsr { pem: string, spki: Buffer }

/** A signed PKCS#10 request; ECDSA P-256 by default (fast), RSA 2048 on request. */
export async function makeCsr (cn: string, options: { sans?: string[], rsa?: boolean, org?: string } = {}): Promise<TestCsr> {
  const alg = options.rsa
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
    : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}, O=${options.org ?? 'Example Ltd'}, OU=dev, L=Kirkland, ST=WA, C=US`,
    keys,
    signingAlgorithm: alg,
    extensions: options.sans?.length
      ? [new x509.SubjectAlternativeNameExtension(options.sans.map((value) => ({ type: 'dns' as const, value })))]
      : []
  })
  return { pem: csr.toString('pem'), spki: Buffer.from(csr.publicKey.rawData) }
}

const CONTACT = {
  FName: 'John',
  LName: 'Smith',
  OrgName: 'Rightside',
  JobTitle: 'Operations',
  Address1: '5808 Lake Washington Blvd NE',
  Address2: 'Suite 300',
  City: 'Kirkland',
  State: 'WA',
  StateProvinceChoice: 'S',
  PostalCode: '98033',
  Country: 'US',
  Phone: '+1.4252744500',
  PhoneExt: '',
  Fax: '+1.4252744501',
  EmailAddress: 'admin@example.com'
}

/** Admin/Tech/Billing contact parameters; `over` changes a field in all three. */
export function contactParams (over: Partial<Record<keyof typeof CONTACT, string>> = {}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const role of ['Admin', 'Tech', 'Billing']) {
    for (const [field, value] of Object.entries({ ...CONTACT, ...over })) out[`${role}${field}`] = value
  }
  return out
}

export const COMODO_CSR_FIELDS = {
  CSROrganization: 'Example Ltd',
  CSRAddress1: '1 Main St',
  CSRLocality: 'Kirkland',
  CSRStateProvince: 'WA',
  CSRPostalCode: '98033',
  CSRCountry: 'US'
}

/** PurchaseServices; returns the new CertID. */
export async function buy (sim: RunningSimulator, service: string, years = 1, options: CallOptions = {}): Promise<number> {
  const root = expectOk(await enom(sim, { command: 'PurchaseServices', Service: service, NumYears: years }, options))
  return Number(root.certid)
}

export async function configure (sim: RunningSimulator, certId: number, csr: TestCsr, webServerType: number,
  extra: Record<string, string> = {}, options: CallOptions = {}): Promise<EnomAnswer> {
  return enom(sim, { command: 'CertConfigureCert', CertID: certId, WebServerType: webServerType, CSR: csr.pem, ...contactParams(), ...extra }, options)
}

export async function detail (sim: RunningSimulator, certId: number, extra: Record<string, string> = {}): Promise<Xml> {
  return expectOk(await enom(sim, { command: 'CertGetCertDetail', CertID: certId, ...extra })).CertGetCertDetail
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls CertGetCertDetail until the status id is reached (or the deadline passes). */
export async function waitForStatus (sim: RunningSimulator, certId: number, statusId: number, timeoutMs = 5000): Promise<Xml> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const d = await detail(sim, certId)
    if (d.CertStatusID === String(statusId) || Date.now() > deadline) return d
    await sleep(25)
  }
}
