// The service and the eNom simulator over real HTTP: a simulator on a port of its own, the
// origins the service must allow for it (127.0.0.1 plays live, localhost plays test), and
// CSRs and contacts for orders.
import { startSimulator, type AccountInput, type RunningSimulator } from '../../src/simulator/app.js'
import { subtle, x509 } from '../../src/lib/x509.js'

export interface SimulatorForTest {
  sim: RunningSimulator
  /** ENOM_ALLOWED_ORIGINS for the service: eNom's hosts plus this simulator. */
  allowedOrigins: string
  /** The API URL of the live (127.0.0.1) and test (localhost) faces of the simulator. */
  liveUrl: string
  testUrl: string
}

export async function startSimulatorForTest (accounts: AccountInput[] = [{ uid: 'resellid', pw: 'resellpw', balance: '5000.00' }], defaultIssueDelayMs = 200): Promise<SimulatorForTest> {
  const sim = await startSimulator({ accounts, defaultIssueDelayMs })
  const port = new URL(sim.url).port
  return {
    sim,
    allowedOrigins: `https://reseller.enom.com,https://resellertest.enom.com,http://127.0.0.1:${port},http://localhost:${port}=test`,
    liveUrl: `http://127.0.0.1:${port}/interface.asp`,
    testUrl: `http://localhost:${port}/interface.asp`
  }
}

export interface TestCsr {
  pem: string
  /** SPKI of the key, base64, to compare with an issued certificate's. */
  publicKey: string
}

export async function makeCsr (commonName: string, options: { bits?: number, sans?: string[], ec?: boolean } = {}): Promise<TestCsr> {
  const algorithm = options.ec
    ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: options.bits ?? 2048 }
  const keys = await subtle.generateKey(algorithm, true, ['sign', 'verify']) as { publicKey: CryptoKeyLike, privateKey: CryptoKeyLike }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}, O=Example Inc, L=Kirkland, ST=WA, C=US`,
    keys: keys as never,
    signingAlgorithm: algorithm as never,
    ...(options.sans ? { extensions: [new x509.SubjectAlternativeNameExtension(options.sans.map((value) => ({ type: 'dns' as const, value })))] } : {})
  })
  return { pem: csr.toString('pem'), publicKey: Buffer.from(csr.publicKey.rawData).toString('base64') }
}

type CryptoKeyLike = object

export const contact = (over: Record<string, string> = {}) => ({
  firstName: 'Ada',
  lastName: 'Lovelace',
  organization: 'Example Inc',
  jobTitle: 'Engineer',
  address1: '1 Main Street',
  city: 'Kirkland',
  state: 'WA',
  postalCode: '98033',
  country: 'US',
  phone: '+1.4252744500',
  email: 'ada@example.com',
  ...over
})

export const contacts = (over: Record<string, string> = {}) => ({ admin: contact(over), tech: contact(over), billing: contact(over) })
