// Reading a CSR the way the CA behind eNom does: it must be PEM, decode, parse as PKCS#10 and carry
// a valid self-signature. Anything else is eNom's "Unable to parse CSR" (620397).
import { x509 } from '../lib/x509.js'

export interface CsrInfo {
  /** The PEM as received, trimmed. */
  pem: string
  commonName: string
  organization: string
  organizationUnit: string
  locality: string
  state: string
  country: string
  email: string
  /** DNS names from the CSR's subjectAltName extension request. */
  sans: string[]
  hasBadExtensions: boolean
  /** The subject public key, for the certificate the simulated CA will issue. */
  publicKey: x509.PublicKey
}

const PEM = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (?:NEW )?CERTIFICATE REQUEST-----/

// Extensions a CA accepts in a request; others (e.g. a CA flag) are what eNom reports as "bad".
const ACCEPTED_EXTENSIONS = new Set([
  '2.5.29.17', // subjectAltName
  '2.5.29.15', // keyUsage
  '2.5.29.37', // extKeyUsage
  '2.5.29.14' // subjectKeyIdentifier
])

function field (csr: x509.Pkcs10CertificateRequest, name: string): string {
  return csr.subjectName.getField(name)[0] ?? ''
}

/** Parses and verifies a CSR; undefined when eNom would refuse it. */
export async function parseCsr (text: string | undefined): Promise<CsrInfo | undefined> {
  if (!text) return undefined
  const m = PEM.exec(text)
  if (!m?.[1]) return undefined
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64')
  let csr: x509.Pkcs10CertificateRequest
  try {
    csr = new x509.Pkcs10CertificateRequest(der)
    if (!(await csr.verify())) return undefined
  } catch {
    return undefined
  }
  const commonName = field(csr, 'CN')
  if (!commonName) return undefined
  const sanExt = csr.getExtension('2.5.29.17')
  const sans = sanExt instanceof x509.SubjectAlternativeNameExtension
    ? sanExt.names.items.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase())
    : []
  const basic = csr.getExtension('2.5.29.19')
  const hasBadExtensions = csr.extensions.some((e) => !ACCEPTED_EXTENSIONS.has(e.type) && e.type !== '2.5.29.19') ||
    (basic instanceof x509.BasicConstraintsExtension && basic.ca)
  return {
    pem: text.trim(),
    commonName: commonName.toLowerCase(),
    organization: field(csr, 'O'),
    organizationUnit: field(csr, 'OU'),
    locality: field(csr, 'L'),
    state: field(csr, 'ST'),
    country: field(csr, 'C'),
    email: field(csr, 'E'),
    sans,
    hasBadExtensions,
    publicKey: csr.publicKey
  }
}
