// Order input checked against the product family before any money is spent or eNom is called:
// SANs only where the family has them, DCV methods the product offers, web server types of the
// family, contact data the CA accepts, a CSR for the order's domain.
import { FAMILIES, productByType, webServerCode, type DcvMethod, type FamilyId } from '../../enom/families.js'
import type { Contact } from '../../schemas/orders.js'
import { parseCsr, normalizeDomain, type ParsedCsr } from '../csr.js'
import { badRequest, type FieldError } from '../errors.js'

export interface ConfigurationInput {
  csr: string
  webServerType: string | number
  approverEmail?: string | undefined
  dcvMethod?: DcvMethod | undefined
  contacts: { admin: Contact, tech: Contact, billing: Contact }
  sanApproverEmails?: Record<string, string> | undefined
}

export interface CheckedConfiguration {
  csr: string
  parsed: ParsedCsr
  webServerType: number
  dcvMethod: DcvMethod
  approverEmail: string | undefined
  contacts: { admin: Contact, tech: Contact, billing: Contact }
  uccDomains: Array<{ domain: string, approverEmail?: string }>
}

const invalid = (code: string, field: string, message: string) => badRequest(code, message, [{ field, message }])

/** The DCV methods a product offers: its table entry's, else its family's. */
export function dcvMethodsOf (prodType: number, family: FamilyId): readonly DcvMethod[] {
  return productByType(prodType)?.dcvMethods ?? FAMILIES[family].dcvMethods
}

export function checkSans (family: FamilyId, domain: string, sans: string[] | undefined): string[] {
  const list = (sans ?? []).map(normalizeDomain)
  if (list.length === 0) return []
  const f = FAMILIES[family]
  if (!f.sans) throw invalid('SANS_NOT_ALLOWED', 'body.sans', `the ${f.label} family takes no additional domain names; use a UCC (multi-domain) product`)
  if (list.length > f.maxSans) throw invalid('TOO_MANY_SANS', 'body.sans', `at most ${f.maxSans} additional names`)
  if (list.includes(normalizeDomain(domain))) throw invalid('SANS_INVALID', 'body.sans', 'the domain itself is not an additional name')
  return list
}

export function checkDcvMethod (prodType: number, family: FamilyId, method: DcvMethod | undefined, field = 'body.dcvMethod'): DcvMethod {
  const offered = dcvMethodsOf(prodType, family)
  const chosen = method ?? (offered.includes('email') ? 'email' : offered[0] ?? 'email')
  if (!offered.includes(chosen)) {
    throw invalid('DCV_METHOD_NOT_ALLOWED', field, `this product validates the domain by ${offered.join(' or ')}, not ${chosen}`)
  }
  return chosen
}

/**
 * Contact data GeoTrust/Symantec reject ("Failure connecting to GeoTrust API" for non-ASCII
 * characters, enom-api.md §6) is refused here with the fields named, before eNom is called.
 */
export function checkContacts (family: FamilyId, contacts: ConfigurationInput['contacts']): void {
  if (family !== 'geotrust' && family !== 'encryption_everywhere') return
  const errors: FieldError[] = []
  for (const role of ['admin', 'tech', 'billing'] as const) {
    for (const [name, value] of Object.entries(contacts[role])) {
      if (typeof value === 'string' && /[^\x20-\x7e]/.test(value)) {
        errors.push({ field: `body.contacts.${role}.${name}`, message: 'must be plain ASCII: the certificate authority rejects other characters (transliterate it)' })
      }
    }
  }
  if (errors.length > 0) throw badRequest('CONTACT_NOT_ASCII', `${FAMILIES[family].label} certificates need contact data in plain ASCII`, errors)
}

export function checkWildcard (domain: string, wildcardProduct: boolean): void {
  const isWildcard = domain.startsWith('*.')
  if (isWildcard && !wildcardProduct) throw invalid('DOMAIN_WILDCARD_MISMATCH', 'body.domain', 'a wildcard domain needs a wildcard product')
  if (!isWildcard && wildcardProduct) throw invalid('DOMAIN_WILDCARD_MISMATCH', 'body.domain', 'a wildcard product needs a wildcard domain (*.example.com)')
}

/** Everything configure needs, checked: CSR for the domain, web server code, DCV, contacts. */
export async function checkConfiguration (input: ConfigurationInput, order: { domain: string, prodType: number, family: string, sans: string[] }): Promise<CheckedConfiguration> {
  const family = order.family as FamilyId
  const f = FAMILIES[family]
  const parsed = await parseCsr(input.csr, { domain: order.domain })
  const webServerType = webServerCode(family, input.webServerType)
  if (webServerType === undefined) {
    throw invalid('WEB_SERVER_TYPE_INVALID', 'body.webServerType',
      `not a web server type of the ${f.label} family: use ${Object.keys(f.webServerNames).join(', ')} or one of its eNom codes`)
  }
  const dcvMethod = checkDcvMethod(order.prodType, family, input.dcvMethod)
  if (dcvMethod === 'email' && f.approverEmailRequired && !input.approverEmail) {
    throw invalid('APPROVER_EMAIL_REQUIRED', 'body.approverEmail', 'e-mail validation needs an approver e-mail: one of GET /orders/{id}/approver-emails')
  }
  checkContacts(family, input.contacts)
  const strangers = Object.keys(input.sanApproverEmails ?? {}).filter((d) => !order.sans.includes(normalizeDomain(d)))
  if (strangers.length > 0) {
    throw invalid('SAN_NOT_IN_ORDER', 'body.sanApproverEmails', `not additional names of this order: ${strangers.join(', ')}`)
  }
  const uccDomains = order.sans.map((domain) => {
    const approverEmail = Object.entries(input.sanApproverEmails ?? {}).find(([d]) => normalizeDomain(d) === domain)?.[1]
    return approverEmail ? { domain, approverEmail } : { domain }
  })
  return { csr: input.csr.trim(), parsed, webServerType, dcvMethod, approverEmail: input.approverEmail, contacts: input.contacts, uccDomains }
}
