// What a command handler gets and returns, and the checks most of them share.
import type { Account } from '../accounts.js'
import { statusText, type CertRecord } from '../certs.js'
import type { ResponseStyle } from '../envelope.js'
import { EnomError, enomErrors } from '../errors.js'
import type { SimulatorState } from '../state.js'
import type { XmlNode } from '../xml.js'

/** Request parameters by lower-cased name: eNom's parameter names are case-insensitive. */
export type Params = ReadonlyMap<string, string>

export interface CommandContext {
  params: Params
  account: Account
  state: SimulatorState
  now: Date
}

export interface CommandResult {
  body: XmlNode[]
  /** For the ledger. */
  certId?: number
  orderId?: number
  amountCents?: bigint
}

export interface Command {
  /** eNom's spelling. */
  name: string
  style: ResponseStyle
  run: (ctx: CommandContext) => Promise<CommandResult>
}

export const API_NET: ResponseStyle = { declaration: 'utf8', apiType: 'API.NET' }
export const API: ResponseStyle = { declaration: 'utf8', apiType: 'API' }

export function param (ctx: CommandContext, name: string): string | undefined {
  const value = ctx.params.get(name.toLowerCase())
  return value === undefined ? undefined : value.trim()
}

/** A parameter that must be present and non-empty. */
export function required (ctx: CommandContext, name: string): string {
  const value = param(ctx, name)
  if (!value) throw new EnomError(enomErrors.missing(name))
  return value
}

/** The CertID parameter, resolved to one of the calling account's orders. */
export async function requireCert (ctx: CommandContext): Promise<CertRecord> {
  const raw = required(ctx, 'CertID')
  const certId = /^\d{1,12}$/.test(raw) ? Number(raw) : NaN
  const cert = Number.isNaN(certId) ? undefined : await ctx.state.certOf(ctx.account, certId)
  if (!cert) throw new EnomError(enomErrors.certNotFound(raw))
  return cert
}

export function requireStatus (cert: CertRecord, allowed: readonly number[], command: string): void {
  if (!allowed.includes(cert.statusId)) throw new EnomError(enomErrors.wrongStatus(command, statusText(cert.statusId)))
}
