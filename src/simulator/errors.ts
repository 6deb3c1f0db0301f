// eNom errors as the simulator answers them. Numbers follow eNom's six-digit scheme (system digit,
// two-digit error type, three-digit parameter; enom-api.md §6). The ones seen in real answers
// (304155, 713254, 620397, 304145) are reproduced exactly; the rest are built from the scheme and
// are the simulator's choice, listed in docs/SIMULATOR.md.

export interface EnomErr {
  /** The `ErrN` text. */
  text: string
  /** `ResponseNumber`. */
  number: number
  /** `ResponseString`. */
  string: string
}

/** Thrown by command handlers; the interface route turns it into an error answer. */
export class EnomError extends Error {
  readonly errs: readonly EnomErr[]

  constructor (errs: EnomErr | readonly EnomErr[]) {
    const list = Array.isArray(errs) ? errs : [errs as EnomErr]
    super(list.map((e) => e.text).join('; '))
    this.name = 'EnomError'
    this.errs = list
  }
}

const err = (text: string, number: number, string: string): EnomErr => ({ text, number, string })

export const enomErrors = {
  badLogin: () => err('Bad User name or Password', 304155, 'Validation error; invalid ; loginid'),
  ipNotAllowed: (ip: string) =>
    err(`User not permitted from this IP address - ${ip}`, 713254, 'Policy error; unauthorized; user(s)'),
  unknownCommand: (command: string) =>
    err(command ? `Invalid command: ${command}` : 'Command parameter is missing', 304150, 'Validation error; invalid ; command'),
  missing: (param: string) => err(`${param} is required`, 301397, 'Validation error; missing; SSL Certificate'),
  invalid: (text: string) => err(text, 304397, 'Validation error; invalid ; SSL Certificate'),
  outOfRange: (text: string) => err(text, 303999, 'Validation error; out of range; unknown'),
  certNotFound: (certId: string) => err(`Certificate not found: CertID ${certId}`, 316397, 'Validation error; not found; SSL Certificate'),
  wrongStatus: (command: string, status: string) =>
    err(`${command} is not allowed while the certificate status is ${status}`, 306397, 'Validation error; policy violation; SSL Certificate'),
  notForProduct: (command: string, product: string) =>
    err(`${command} is not available for ${product}`, 306182, 'Validation error; policy violation; product type'),
  missingProduct: (param: string) => err(`${param} is required`, 301182, 'Validation error; missing; product type'),
  unknownProduct: (what: string) => err(`Invalid product: ${what}`, 304182, 'Validation error; invalid ; product type'),
  productDisabled: (what: string) => err(`The product ${what} is not enabled for this account`, 312182, 'Validation error; disabled; product type'),
  yearsNotOffered: (what: string, years: string) =>
    err(`${years} year(s) is not offered for ${what}`, 303182, 'Validation error; out of range; product type'),
  insufficientFunds: () =>
    err('Insufficient funds to complete this order', 524181, 'Payment error; insufficient reseller balance; account balance'),
  badPhone: () => err('Invalid telephone number format', 304145, 'Validation error; invalid ; registrant contact'),
  badContact: (text: string) => err(text, 301145, 'Validation error; missing; registrant contact'),
  /** The CSR failure exactly as eNom's support page shows it: two errors, the same number twice. */
  badCsr: (): EnomErr[] => [
    err('500 - Unable to parse CSR.', 620397, 'System error; failed to send; SSL Certificate'),
    err('Unable to retrieve CSR information', 620397, 'System error; failed to send; SSL Certificate')
  ],
  /** What GeoTrust/Symantec answer for non-ASCII contact data (enom-api.md §6, CA-side problems). */
  geoTrustApi: () => err('Failure connecting to GeoTrust API', 607397, 'System error; connection failed; SSL Certificate')
} as const
