// A throw-away self-signed certificate for 127.0.0.1, for the TLS failure test.
import { subtle, x509 } from '../../src/lib/x509.js'

function pem (label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trim()
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

export async function selfSignedCert (): Promise<{ key: string, cert: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await subtle.generateKey(alg, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: alg,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])]
  })
  return { key: pem('PRIVATE KEY', await subtle.exportKey('pkcs8', keys.privateKey)), cert: cert.toString('pem') }
}
