// The Admin/Tech/Billing contacts of CertConfigureCert (enom-api.md §3.6): which fields eNom
// insists on, its phone format, and the CA's refusal of non-ASCII text for GeoTrust/Symantec.
import { CONTACT_FIELDS, CONTACT_ROLES, emptyContact, type Contact, type ContactRole } from '../certs.js'
import { EnomError, enomErrors } from '../errors.js'
import { param, type CommandContext } from './context.js'

// Docs mark every field required; clients in the wild omit JobTitle, Fax, Address2, PhoneExt and
// the organisation for individuals, and eNom accepts that.
const REQUIRED = ['FName', 'LName', 'Address1', 'City', 'PostalCode', 'Country', 'Phone', 'EmailAddress'] as const

/** `+1.4252744500`: country code, a dot, the number (enom-api.md §1). */
const PHONE = /^\+\d{1,3}\.\d{4,14}$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function readContact (ctx: CommandContext, role: ContactRole): Contact {
  const contact = emptyContact()
  for (const field of CONTACT_FIELDS) {
    if (field === 'StateProvince') continue
    contact[field] = param(ctx, `${role}${field}`) ?? ''
  }
  // eNom takes State for the US and Province elsewhere, and lists both as StateProvince.
  contact.StateProvince = param(ctx, `${role}State`) || param(ctx, `${role}Province`) || param(ctx, `${role}StateProvince`) || ''
  return contact
}

function check (role: ContactRole, c: Contact): void {
  for (const field of REQUIRED) {
    if (!c[field]) throw new EnomError(enomErrors.badContact(`${role}${field} is required`))
  }
  if (!PHONE.test(c.Phone) || (c.Fax && !PHONE.test(c.Fax))) throw new EnomError(enomErrors.badPhone())
  if (!EMAIL.test(c.EmailAddress)) throw new EnomError(enomErrors.badContact(`${role}EmailAddress is not a valid e-mail address`))
}

export function readContacts (ctx: CommandContext): Record<ContactRole, Contact> {
  const contacts = {} as Record<ContactRole, Contact>
  for (const role of CONTACT_ROLES) {
    contacts[role] = readContact(ctx, role)
    check(role, contacts[role])
  }
  return contacts
}

export function hasNonAscii (contacts: Record<ContactRole, Contact>): boolean {
  // eslint-disable-next-line no-control-regex
  return Object.values(contacts).some((c) => Object.values(c).some((v) => /[^\x00-\x7F]/.test(v)))
}
