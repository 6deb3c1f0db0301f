// Local CSR checks with a maintained X.509 library (@peculiar/x509): the same checks guard
// POST /csr/parse, configure and reissue, so a bad CSR is refused with an exact message before
// eNom is called (eNom's own answer is an opaque "500 - Unable to parse CSR.").
import type * as X509 from '@peculiar/x509'
import { loadX509 } from '../lib/x509-lazy.js'
import { AppError } from './errors.js'

export const CSR_MAX_LENGTH = 4500
const MIN_RSA_BITS = 2048
const MIN_EC_BITS = 256

export interface ParsedCsr {
  commonName: string
  sans: string[]
  subject: {
    organization: string | null
    organizationalUnit: string | null
    locality: string | null
    state: string | null
    country: string | null
    email: string | null
  }
  keyType: 'RSA' | 'EC'
  keySize: number
  signatureAlgorithm: string
  signatureValid: true
}

const csrError = (code: string, detail: string) =>
  new AppError(400, code, 'Invalid CSR', detail, { errors: [{ field: 'body.csr', message: detail }] })

const CURVE_BITS: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 }

/** A domain as certificates carry it: lower case, no trailing dot. */
export function normalizeDomain (domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '')
}

export async function parseCsr (pem: string, options: { domain?: string } = {}): Promise<ParsedCsr> {
  if (pem.length > CSR_MAX_LENGTH) throw csrError('CSR_TOO_LONG', `the CSR is longer than ${CSR_MAX_LENGTH} characters (eNom's limit)`)
  const text = pem.trim()
  if (!/^-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----$/.test(text)) {
    throw csrError('CSR_MALFORMED', 'the CSR is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST----- ... -----END CERTIFICATE REQUEST-----)')
  }
  const x509 = await loadX509()
  let csr: X509.Pkcs10CertificateRequest
  try {
    csr = new x509.Pkcs10CertificateRequest(text.replace(/NEW CERTIFICATE REQUEST/g, 'CERTIFICATE REQUEST'))
  } catch {
    throw csrError('CSR_MALFORMED', 'the CSR could not be decoded (damaged base64 or DER)')
  }
  // The library decodes the subject, the key and the extensions lazily, on first access: a damaged
  // key or name throws only then, so every part is read here, where a failure means a malformed CSR.
  let decoded: {
    subject: ParsedCsr['subject']
    commonName: string | null
    algorithm: { name: string, modulusLength?: number, namedCurve?: string }
    sans: string[]
    signature: { name: string, hash?: { name: string } }
  }
  try {
    const field = (name: string) => csr.subjectName.getField(name)[0] ?? null
    const sanExtension = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension) as X509.SubjectAlternativeNameExtension | undefined
    decoded = {
      subject: { organization: field('O'), organizationalUnit: field('OU'), locality: field('L'), state: field('ST'), country: field('C'), email: field('E') },
      commonName: field('CN'),
      algorithm: csr.publicKey.algorithm as { name: string, modulusLength?: number, namedCurve?: string },
      sans: (sanExtension?.names.items ?? []).filter((n) => n.type === 'dns').map((n) => normalizeDomain(n.value)),
      signature: csr.signatureAlgorithm as { name: string, hash?: { name: string } }
    }
  } catch {
    throw csrError('CSR_MALFORMED', 'the CSR could not be decoded (damaged subject, public key or extension)')
  }
  const { commonName, algorithm, sans, signature, subject } = decoded
  if (!commonName) throw csrError('CSR_NO_COMMON_NAME', 'the CSR has no common name (CN)')

  let keyType: ParsedCsr['keyType']
  let keySize: number
  if (algorithm.name.startsWith('RSA')) {
    keyType = 'RSA'
    keySize = algorithm.modulusLength ?? 0
    if (keySize < MIN_RSA_BITS) throw csrError('CSR_WEAK_KEY', `the CSR's RSA key has ${keySize} bits; certificate authorities require at least ${MIN_RSA_BITS}`)
  } else if (algorithm.name === 'ECDSA') {
    keyType = 'EC'
    keySize = CURVE_BITS[algorithm.namedCurve ?? ''] ?? 0
    if (keySize < MIN_EC_BITS) throw csrError('CSR_WEAK_KEY', `the CSR's EC key (${algorithm.namedCurve ?? 'unknown curve'}) is not accepted; use P-256 or stronger`)
  } else {
    throw csrError('CSR_KEY_UNSUPPORTED', `the CSR's key type ${algorithm.name} is not accepted; use RSA (2048 bits or more) or ECDSA`)
  }

  let signatureValid = false
  try {
    signatureValid = await csr.verify()
  } catch { /* treated as invalid below */ }
  if (!signatureValid) throw csrError('CSR_SIGNATURE_INVALID', "the CSR's signature does not match its public key")

  if (options.domain !== undefined && normalizeDomain(commonName) !== normalizeDomain(options.domain)) {
    throw csrError('CSR_DOMAIN_MISMATCH', `the CSR is for ${commonName}, not for the order's domain ${options.domain}`)
  }
  return {
    commonName: normalizeDomain(commonName),
    sans,
    subject,
    keyType,
    keySize,
    signatureAlgorithm: signature.hash ? `${signature.name} with ${signature.hash.name}` : signature.name,
    signatureValid: true
  }
}
