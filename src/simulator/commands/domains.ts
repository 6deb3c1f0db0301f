// Domain-control validation as the simulated CA offers it: the approver mailboxes for a domain,
// and the file/DNS tokens for the other methods.
import { randomBytes } from 'node:crypto'
import { el, type XmlNode } from '../xml.js'
import type { DcvMethod, Product } from '../../enom/families.js'
import type { DcvTokens, DvMethod } from '../certs.js'

const HOSTNAME = /^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/

export function isHostname (name: string): boolean {
  return name.length <= 253 && HOSTNAME.test(name)
}

/** `*.shop.example.com` → `shop.example.com`, `www.example.com` → `example.com`. */
export function baseDomain (name: string): string {
  return name.trim().toLowerCase().replace(/^\*\./, '').replace(/^www\./, '')
}

const MAILBOXES = ['admin', 'administrator', 'hostmaster', 'postmaster', 'webmaster'] as const

export function approverEmails (domain: string): string[] {
  const base = baseDomain(domain)
  return MAILBOXES.map((m) => `${m}@${base}`)
}

/** The `<Approver>` list of CertConfigureCert and CertGetApproverEMail (F11, F12). */
export function approverNodes (domain: string): XmlNode[] {
  return [
    ...approverEmails(domain).map((email) => ({
      name: 'Approver', attrs: { Type: 'Domain' }, children: [el('ApproverEmail', email)]
    })),
    { name: 'Approver', attrs: { Type: 'Manual' }, text: '' }
  ]
}

function token (bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

export function dcvTokens (method: DvMethod, domain: string, now: Date): DcvTokens {
  const base = baseDomain(domain)
  if (method === 'File') {
    return { fileAuthName: 'fileauth.txt', fileAuthContents: `${now.toISOString().replace(/\D/g, '').slice(0, 14)}${token(16)}`, dnsAuthEntry: '', dnsAuthAddress: '' }
  }
  if (method === 'DNS') {
    const stamp = now.toISOString().replace(/\D/g, '').slice(0, 14)
    return { fileAuthName: '', fileAuthContents: '', dnsAuthEntry: token(14), dnsAuthAddress: `s${stamp}.${base}` }
  }
  return { fileAuthName: '', fileAuthContents: '', dnsAuthEntry: '', dnsAuthAddress: '' }
}

/** `email` → `Email`; undefined when the value names no method eNom knows. */
export function dvMethod (value: string): DvMethod | undefined {
  const v = value.trim().toLowerCase()
  if (v === 'email') return 'Email'
  if (v === 'file') return 'File'
  if (v === 'dns') return 'DNS'
  return undefined
}

export function productAllows (product: Product, method: DvMethod): boolean {
  return product.dcvMethods.includes(method.toLowerCase() as DcvMethod)
}
