// eNom writes every value as text, in its own formats (enom-api.md §2 rules 5-7): money with
// thousands separators and sometimes a dollar sign, booleans in four spellings, US dates without
// a time zone. These helpers turn that text into exact values; none of them uses floating point
// for money, because a balance is compared against a price before anything is bought.

const MONEY = /^([+-])?\$?([+-])?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/

/**
 * An exact decimal string with at least two decimals ("3,709.20" -> "3709.20", "$9.95" -> "9.95",
 * "15.6" -> "15.60", "-1,832.23" -> "-1832.23"), or undefined when the text is not money.
 */
export function parseMoney (text: string): string | undefined {
  const m = MONEY.exec(text.trim())
  if (!m) return undefined
  const [, sign1, sign2, whole = '0', fraction = ''] = m
  // "$-9.95" and "-$9.95" are both seen in the wild; "-$-9.95" is not money.
  if (sign1 !== undefined && sign2 !== undefined) return undefined
  const sign = sign1 ?? sign2
  const digits = whole.replaceAll(',', '').replace(/^0+(?=\d)/, '')
  const decimals = fraction.padEnd(2, '0')
  const zero = /^0+$/.test(digits) && /^0+$/.test(decimals)
  return `${sign === '-' && !zero ? '-' : ''}${digits}.${decimals}`
}

/** True/False/true/false/1/0 (GetBalance says `1`, CheckLogin says `True`). */
export function parseBoolean (text: string): boolean | undefined {
  switch (text.trim().toLowerCase()) {
    case 'true': case '1': return true
    case 'false': case '0': return false
    default: return undefined
  }
}

/** A whole number written in decimal digits; anything else (including "1.0", "1e3") is refused. */
export function parseInteger (text: string): number | undefined {
  const t = text.trim()
  if (!/^[+-]?\d+$/.test(t)) return undefined
  const n = Number(t)
  return Number.isSafeInteger(n) ? n : undefined
}

/**
 * MM/DD/YYYY, the form CertGetCerts takes for its date filters. eNom's dates carry no zone, so
 * the calendar date is taken in UTC; callers that mean a local day pass a UTC midnight.
 */
export function formatUsDate (date: Date): string {
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0')
  const dd = String(date.getUTCDate()).padStart(2, '0')
  return `${mm}/${dd}/${String(date.getUTCFullYear()).padStart(4, '0')}`
}

const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M))?$/i

/**
 * Reads "12/15/2016 5:13:02 PM" or "6/2/2015" as a UTC instant (eNom gives no zone, so the
 * wall-clock value is kept as is). Undefined for anything else, including impossible dates.
 */
export function parseUsDate (text: string): Date | undefined {
  const m = US_DATE.exec(text.trim())
  if (!m) return undefined
  const [, mo, d, y, h, mi, s, ampm] = m
  const month = Number(mo)
  const day = Number(d)
  const year = Number(y)
  let hour = h === undefined ? 0 : Number(h)
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) return undefined
    hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0)
  }
  const minute = mi === undefined ? 0 : Number(mi)
  const second = s === undefined ? 0 : Number(s)
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second))
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || minute > 59 || second > 59) return undefined
  return date
}

/**
 * PEM text as eNom sends it inside CDATA, often indented by the document around it: every line
 * trimmed, blank lines dropped, lines joined with "\n". Undefined when nothing is left.
 */
export function normalisePem (text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '')
  return lines.length === 0 ? undefined : lines.join('\n')
}
