// Schemas and readers shared by several commands: money, the CSR summary eNom returns from
// CertParseCSR and CertConfigureCert, and approver lists.
import { Type, type Static } from 'typebox'
import { children, textOf, type XmlElement } from '../xml.js'
import { compact, Fields } from './define.js'

/** An exact decimal string with at least two decimals, e.g. "3709.20", "-1832.23". */
export const Money = Type.String({ pattern: '^-?\\d+\\.\\d{2,}$' })

export const CsrDataSchema = Type.Object({
  success: Type.Boolean(),
  organization: Type.Optional(Type.String()),
  domainName: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  hasBadExtensions: Type.Optional(Type.Boolean()),
  locality: Type.Optional(Type.String()),
  organizationUnit: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  country: Type.Optional(Type.String())
}, { additionalProperties: false })
export type CsrData = Static<typeof CsrDataSchema>

export function readCsrData (el: XmlElement): Record<string, unknown> {
  const f = new Fields(el)
  return compact({
    success: f.bool('Success'),
    organization: f.str('Organization'),
    domainName: f.str('DomainName'),
    email: f.str('Email'),
    hasBadExtensions: f.bool('HasBadExtensions'),
    locality: f.str('Locality'),
    organizationUnit: f.str('OrganizationUnit'),
    state: f.str('State'),
    country: f.str('Country')
  })
}

export const ApproverSchema = Type.Object({
  /** Domain, Generic or Manual as eNom wrote it. */
  type: Type.String(),
  email: Type.String({ minLength: 1 })
}, { additionalProperties: false })
export type Approver = Static<typeof ApproverSchema>

/**
 * `<Approver Type="Domain"><ApproverEmail>…</ApproverEmail></Approver>` children of `block`, in
 * order. Entries without an address (eNom always adds an empty `Manual` one) are dropped.
 */
export function readApprovers (block: XmlElement): Approver[] {
  const out: Approver[] = []
  for (const a of children(block, 'Approver')) {
    const email = textOf(a, 'ApproverEmail') ?? a.text
    if (email !== '') out.push({ type: a.attributes.type ?? '', email })
  }
  return out
}

/** The DCV details eNom returns for file and DNS validation. */
export const DcvSchema = {
  dvAuthMethod: Type.Optional(Type.String()),
  fileAuthName: Type.Optional(Type.String()),
  fileAuthContents: Type.Optional(Type.String()),
  dnsAuthEntry: Type.Optional(Type.String()),
  dnsAuthAddress: Type.Optional(Type.String())
}

export function readDcv (f: Fields): Record<string, unknown> {
  return {
    dvAuthMethod: f.str('DVAuthMethod'),
    fileAuthName: f.str('FileAuthName'),
    fileAuthContents: f.str('FileAuthContents'),
    dnsAuthEntry: f.str('DNSAuthEntry'),
    dnsAuthAddress: f.str('DNSAuthAddress')
  }
}
