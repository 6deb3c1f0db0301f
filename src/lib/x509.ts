// @peculiar/x509, set up once: it needs a Reflect metadata polyfill loaded first (through
// tsyringe) and Node's WebCrypto as its provider. Import X.509 features from here only.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export { x509 }
export const subtle = webcrypto.subtle
