// Reseller accounts of the simulated eNom: credentials, balances (integer cents), the API IP
// allow-list, and per-account knobs for issuance speed and known eNom quirks.
import { randomInt, randomUUID } from 'node:crypto'
import { parseAmount, plainAmount } from './format.js'

export interface AccountInput {
  uid: string
  pw: string
  /** Decimal amount, e.g. `'5000.00'`, `'-1,832.23'` or a number. Default 5000.00. */
  balance?: string | number
  /** Spendable amount; defaults to the balance. */
  availableBalance?: string | number
  /** Caller IPs allowed to use the API; `'*'` allows any. Default `['*']`. */
  allowedIps?: string[]
  /** eNom's PartyID, a GUID in braces. Generated when absent. */
  partyId?: string
  /** eNom's account number, `'217-no-0647'` style. Generated when absent. */
  account?: string
  /** Time from CertPurchaseCert to issuance. Defaults to the simulator's default. */
  issueDelayMs?: number
  /** Quirk: PurchaseServices answers with orderid but no certid. */
  omitCertIdInPurchase?: boolean
}

export interface AccountPatch {
  pw?: string
  balance?: string | number
  availableBalance?: string | number
  allowedIps?: string[]
  issueDelayMs?: number
  omitCertIdInPurchase?: boolean
}

export interface Account {
  uid: string
  pw: string
  balanceCents: bigint
  availableCents: bigint
  allowedIps: string[]
  partyId: string
  account: string
  issueDelayMs: number
  omitCertIdInPurchase: boolean
}

/** An account as the control API shows it: amounts as decimal strings, never the password. */
export interface AccountView {
  uid: string
  balance: string
  availableBalance: string
  allowedIps: string[]
  partyId: string
  account: string
  issueDelayMs: number
  omitCertIdInPurchase: boolean
}

/** A request the simulator's control surface refuses (unknown account, bad amount, ...). */
export class SimulatorInputError extends Error {
  readonly statusCode: number
  constructor (message: string, statusCode = 400) {
    super(message)
    this.name = 'SimulatorInputError'
    this.statusCode = statusCode
  }
}

function amount (value: string | number, field: string): bigint {
  try {
    return parseAmount(value)
  } catch {
    throw new SimulatorInputError(`${field} is not a decimal amount: ${String(value)}`)
  }
}

function delay (value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new SimulatorInputError('issueDelayMs must be a non-negative integer')
  return value
}

function accountNumber (): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  const pick = () => letters[randomInt(letters.length)] ?? 'x'
  return `${randomInt(100, 1000)}-${pick()}${pick()}-${String(randomInt(0, 10_000)).padStart(4, '0')}`
}

export function createAccount (input: AccountInput, defaultIssueDelayMs: number): Account {
  if (!input.uid || !input.pw) throw new SimulatorInputError('uid and pw are required')
  const balanceCents = amount(input.balance ?? '5000.00', 'balance')
  return {
    uid: input.uid,
    pw: input.pw,
    balanceCents,
    availableCents: input.availableBalance === undefined ? balanceCents : amount(input.availableBalance, 'availableBalance'),
    allowedIps: input.allowedIps ?? ['*'],
    partyId: input.partyId ?? `{${randomUUID().toUpperCase()}}`,
    account: input.account ?? accountNumber(),
    issueDelayMs: delay(input.issueDelayMs ?? defaultIssueDelayMs),
    omitCertIdInPurchase: input.omitCertIdInPurchase ?? false
  }
}

/** Setting only the balance moves the available balance with it, as at account creation. */
export function patchAccount (account: Account, patch: AccountPatch): void {
  if (patch.pw !== undefined) {
    if (!patch.pw) throw new SimulatorInputError('pw must not be empty')
    account.pw = patch.pw
  }
  if (patch.balance !== undefined) {
    account.balanceCents = amount(patch.balance, 'balance')
    if (patch.availableBalance === undefined) account.availableCents = account.balanceCents
  }
  if (patch.availableBalance !== undefined) account.availableCents = amount(patch.availableBalance, 'availableBalance')
  if (patch.allowedIps !== undefined) account.allowedIps = [...patch.allowedIps]
  if (patch.issueDelayMs !== undefined) account.issueDelayMs = delay(patch.issueDelayMs)
  if (patch.omitCertIdInPurchase !== undefined) account.omitCertIdInPurchase = patch.omitCertIdInPurchase
}

export function viewAccount (a: Account): AccountView {
  return {
    uid: a.uid,
    balance: plainAmount(a.balanceCents),
    availableBalance: plainAmount(a.availableCents),
    allowedIps: [...a.allowedIps],
    partyId: a.partyId,
    account: a.account,
    issueDelayMs: a.issueDelayMs,
    omitCertIdInPurchase: a.omitCertIdInPurchase
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: eNom reports the IPv4 address a dual-stack socket sees. */
export function normalizeIp (ip: string | undefined): string {
  if (!ip) return ''
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip
}

export function ipAllowed (account: Account, ip: string): boolean {
  return account.allowedIps.some((allowed) => allowed === '*' || normalizeIp(allowed) === ip)
}
