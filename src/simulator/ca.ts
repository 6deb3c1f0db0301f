// The simulator's certificate authority: a root and an intermediate (ECDSA P-256, made on first
// use so start-up stays fast) that issue real X.509 v3 server certificates for a CSR's own key.
// `openssl verify -CAfile <intermediate+root> <leaf>` passes, so clients can test chain handling.
import { randomBytes, type webcrypto } from 'node:crypto'
import { subtle, x509 } from '../lib/x509.js'
import { DAY_MS } from './format.js'

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const

/** Public CAs may not issue server certificates for longer than 398 days (CA/B Forum, 2020). */
export const MAX_LEAF_DAYS = 397

export interface CaPems {
  rootPem: string
  intermediatePem: string
}

export interface LeafRequest {
  publicKey: x509.PublicKey
  commonName: string
  dnsNames: readonly string[]
  organization?: string
  notBefore: Date
  days: number
}

export interface IssuedLeaf {
  pem: string
  serialHex: string
  notBefore: Date
  notAfter: Date
}

interface Material {
  root: x509.X509Certificate
  intermediate: x509.X509Certificate
  intermediateKey: webcrypto.CryptoKey
  intermediatePublicKey: webcrypto.CryptoKey
}

function serial (): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f // positive INTEGER, no leading sign byte needed
  return bytes.toString('hex')
}

async function generate (): Promise<Material> {
  const now = Date.now()
  const rootKeys = await subtle.generateKey(EC_KEY, false, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=eNom Simulator Root CA, O=eNom Simulator, C=US',
    keys: rootKeys,
    serialNumber: serial(),
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 20 * 365 * DAY_MS),
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey)
    ]
  })
  const intKeys = await subtle.generateKey(EC_KEY, false, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const intermediate = await x509.X509CertificateGenerator.create({
    subject: 'CN=eNom Simulator Intermediate CA, O=eNom Simulator, C=US',
    issuer: root.subject,
    publicKey: intKeys.publicKey,
    signingKey: rootKeys.privateKey,
    serialNumber: serial(),
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 10 * 365 * DAY_MS),
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(intKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey)
    ]
  })
  return { root, intermediate, intermediateKey: intKeys.privateKey, intermediatePublicKey: intKeys.publicKey }
}

function escapeDnValue (value: string): string {
  return value.replace(/([,+"\\<>;=#])/g, '\\$1')
}

// RSA keys also encipher (TLS RSA key exchange); EC keys only sign.
function leafKeyUsage (key: x509.PublicKey): number {
  const flags = x509.KeyUsageFlags.digitalSignature
  return key.algorithm.name.startsWith('RSA') ? flags | x509.KeyUsageFlags.keyEncipherment : flags
}

export class SimulatorCa {
  #material: Promise<Material> | undefined

  /** Starts key generation without waiting; the first issuance then finds the keys ready. */
  warmUp (): void {
    this.#load().catch(() => undefined)
  }

  #load (): Promise<Material> {
    if (!this.#material) {
      const pending = generate()
      // A failed generation is retried on the next use instead of failing every later issuance.
      pending.catch(() => { if (this.#material === pending) this.#material = undefined })
      this.#material = pending
    }
    return this.#material
  }

  async pems (): Promise<CaPems> {
    const m = await this.#load()
    return { rootPem: m.root.toString('pem'), intermediatePem: m.intermediate.toString('pem') }
  }

  /** What eNom puts in CACerts: the intermediate, then the root. */
  async chainPem (): Promise<string> {
    const { rootPem, intermediatePem } = await this.pems()
    return `${intermediatePem}\n${rootPem}\n`
  }

  async issue (req: LeafRequest): Promise<IssuedLeaf> {
    const m = await this.#load()
    const notBefore = req.notBefore
    const notAfter = new Date(notBefore.getTime() + Math.min(req.days, MAX_LEAF_DAYS) * DAY_MS)
    const names = [...new Set([req.commonName, ...req.dnsNames].map((n) => n.toLowerCase()))]
    const subject = `CN=${escapeDnValue(req.commonName)}` +
      (req.organization ? `, O=${escapeDnValue(req.organization)}` : '')
    const serialHex = serial()
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: m.intermediate.subject,
      publicKey: req.publicKey,
      signingKey: m.intermediateKey,
      serialNumber: serialHex,
      notBefore,
      notAfter,
      signingAlgorithm: EC_SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(leafKeyUsage(req.publicKey), true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
        await x509.SubjectKeyIdentifierExtension.create(req.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(m.intermediatePublicKey)
      ]
    })
    return { pem: cert.toString('pem'), serialHex, notBefore, notAfter }
  }
}
