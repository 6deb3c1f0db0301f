// The service reads X.509 (a CSR, an issued certificate) on a few routes and jobs, and
// @peculiar/x509 with its ASN.1 schemas is a large share of start-up imports: it is loaded on
// first use instead, once.
import type * as X509 from '@peculiar/x509'

let loading: Promise<typeof X509> | undefined

export function loadX509 (): Promise<typeof X509> {
  loading ??= import('./x509.js').then((m) => m.x509)
  return loading
}
