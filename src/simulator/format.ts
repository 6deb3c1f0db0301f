// eNom's value formats: US-locale dates without a time zone, money with thousands separators, and
// the Text/XML booleans. The simulator writes dates in UTC (eNom gives no zone, so a client cannot
// rely on one either) and keeps money as integer cents.
import { fromCents, toCents } from '../domain/money.js'

/** `12/16/2016 1:17:27 PM` */
export function usDateTime (d: Date): string {
  const h = d.getUTCHours()
  const h12 = h % 12 === 0 ? 12 : h % 12
  const mm = String(d.getUTCMinutes()).padStart(2, '0')
  const ss = String(d.getUTCSeconds()).padStart(2, '0')
  return `${usDate(d)} ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`
}

/** `6/2/2015` */
export function usDate (d: Date): string {
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`
}

/** Parses eNom's `MM/DD/YYYY` filter dates (leading zeros optional) as a UTC day start. */
export function parseUsDate (text: string): Date | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim())
  if (!m) return undefined
  const [month, day, year] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const d = new Date(Date.UTC(year, month - 1, day))
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? d : undefined
}

export const DAY_MS = 86_400_000

/**
 * Accepts what a test or an operator would type for an amount: `5000`, `5000.5`, `5,000.00`,
 * `-1,832.23`, or a number. Returns integer cents; throws RangeError on anything else.
 */
export function parseAmount (value: string | number): bigint {
  const text = typeof value === 'number' ? value.toFixed(2) : value.replace(/,/g, '').trim()
  return toCents(text)
}

/** `183223n` → `1832.23` */
export function plainAmount (cents: bigint): string {
  return fromCents(cents)
}

/** `-183223n` → `-1,832.23`, the way GetBalance writes balances. */
export function groupedAmount (cents: bigint): string {
  const plain = fromCents(cents)
  const negative = plain.startsWith('-')
  const [whole = '0', frac = '00'] = (negative ? plain.slice(1) : plain).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${negative ? '-' : ''}${grouped}.${frac}`
}

/** `$9.95`, as GetCerts writes prices. */
export function dollarAmount (cents: bigint): string {
  return `$${groupedAmount(cents)}`
}
