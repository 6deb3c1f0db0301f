// Input pieces several commands send: contacts (CertConfigureCert, enom-api.md §3.6), the CSR,
// and UCC domain lists. Checked here so that input eNom would refuse never leaves the service.
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { InputError, type Params } from './define.js'

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
export const DOMAIN = /^(\*\.)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/

const Text = (max = 128) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' })

export const ContactSchema = Type.Object({
  firstName: Text(),
  lastName: Text(),
  organization: Text(),
  jobTitle: Text(),
  address1: Text(),
  address2: Type.Optional(Type.String({ maxLength: 128 })),
  city: Text(),
  /** State for US addresses, province or region elsewhere. */
  state: Text(),
  postalCode: Text(20),
  /** ISO 3166-1 alpha-2. */
  country: Type.String({ pattern: '^[A-Za-z]{2}$' }),
  /** eNom's +CountryCode.Number, e.g. +1.4252744500. */
  phone: Type.String({ pattern: '^\\+\\d{1,3}\\.\\d{4,14}$' }),
  phoneExt: Type.Optional(Type.String({ pattern: '^\\d{0,10}$' })),
  fax: Type.Optional(Type.String({ pattern: '^(\\+\\d{1,3}\\.\\d{4,14})?$' })),
  email: Type.String({ pattern: EMAIL.source, maxLength: 254 })
}, { additionalProperties: false })
export type Contact = Static<typeof ContactSchema>

const contactCheck = Compile(ContactSchema)

/**
 * Admin/Tech/Billing + FName, LName, OrgName, JobTitle, Address1, Address2, City, State (US) or
 * Province (elsewhere) with StateProvinceChoice S|P, PostalCode, Country, Phone, PhoneExt, Fax,
 * EmailAddress. Empty optional fields are left out rather than sent blank.
 */
export function contactParams (role: 'Admin' | 'Tech' | 'Billing', c: Contact): Params {
  if (!contactCheck.Check(c)) {
    const [first] = contactCheck.Errors(c)
    const missing = (first?.params as { requiredProperties?: unknown } | undefined)?.requiredProperties
    const field = Array.isArray(missing) && typeof missing[0] === 'string' ? missing[0] : first?.instancePath.replace(/^\//, '') ?? ''
    throw new InputError(`contacts.${role.toLowerCase()}${field === '' ? '' : `.${field}`} is missing or not valid`)
  }
  const country = c.country.toUpperCase()
  const us = country === 'US'
  const params: Params = [
    [`${role}FName`, c.firstName.trim()],
    [`${role}LName`, c.lastName.trim()],
    [`${role}OrgName`, c.organization.trim()],
    [`${role}JobTitle`, c.jobTitle.trim()],
    [`${role}Address1`, c.address1.trim()]
  ]
  if (c.address2 !== undefined && c.address2.trim() !== '') params.push([`${role}Address2`, c.address2.trim()])
  params.push(
    [`${role}City`, c.city.trim()],
    [us ? `${role}State` : `${role}Province`, c.state.trim()],
    [`${role}StateProvinceChoice`, us ? 'S' : 'P'],
    [`${role}PostalCode`, c.postalCode.trim()],
    [`${role}Country`, country],
    [`${role}Phone`, c.phone]
  )
  if (c.phoneExt !== undefined && c.phoneExt !== '') params.push([`${role}PhoneExt`, c.phoneExt])
  if (c.fax !== undefined && c.fax !== '') params.push([`${role}Fax`, c.fax])
  params.push([`${role}EmailAddress`, c.email.trim()])
  return params
}

/** eNom's documented CSR limit. */
export const MAX_CSR_CHARS = 4500

/** A PEM CSR, line endings normalised; refused when it is not PEM or too long for eNom. */
export function csrParam (csr: string): string {
  const text = csr.replace(/\r\n?/g, '\n').trim()
  if (!/^-----BEGIN (NEW )?CERTIFICATE REQUEST-----\n[\s\S]+\n-----END (NEW )?CERTIFICATE REQUEST-----$/.test(text)) {
    throw new InputError('csr is not a PEM certificate request')
  }
  if (text.length > MAX_CSR_CHARS) throw new InputError(`csr is longer than eNom's ${MAX_CSR_CHARS} characters`)
  return text
}

export interface UccDomain { domain: string, approverEmail?: string }

/** DomainListNumber plus UCCDomainListN / UCCEmailListN pairs (N from 1), at most 100. */
export function uccParams (list: readonly UccDomain[]): Params {
  if (list.length === 0 || list.length > 100) throw new InputError('uccDomains must hold 1 to 100 domains')
  const params: Params = [['DomainListNumber', String(list.length)]]
  list.forEach((d, i) => {
    const domain = d.domain.trim()
    if (!DOMAIN.test(domain) || domain.length > 253) throw new InputError(`uccDomains[${i}].domain is not a domain name`)
    params.push([`UCCDomainList${i + 1}`, domain])
    if (d.approverEmail !== undefined) {
      if (!EMAIL.test(d.approverEmail.trim())) throw new InputError(`uccDomains[${i}].approverEmail is not an e-mail address`)
      params.push([`UCCEmailList${i + 1}`, d.approverEmail.trim()])
    }
  })
  return params
}
