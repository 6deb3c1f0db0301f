// Money is carried as decimal strings with two places ("100.00", "-1832.23"), never as floats.
// Amounts are compared and added as integer cents (BigInt), which is exact.

const DECIMAL = /^-?\d{1,12}(\.\d{1,2})?$/

export function isMoney (text: string): boolean {
  return DECIMAL.test(text)
}

/** "12.5" → 1250n */
export function toCents (text: string): bigint {
  if (!DECIMAL.test(text)) throw new RangeError('not a decimal amount')
  const negative = text.startsWith('-')
  const [whole, frac = ''] = (negative ? text.slice(1) : text).split('.') as [string, string?]
  const cents = BigInt(whole) * 100n + BigInt((frac + '00').slice(0, 2))
  return negative ? -cents : cents
}

/** 1250n → "12.50" */
export function fromCents (cents: bigint): string {
  const negative = cents < 0n
  const abs = negative ? -cents : cents
  const whole = abs / 100n
  const frac = (abs % 100n).toString().padStart(2, '0')
  return `${negative ? '-' : ''}${whole}.${frac}`
}

/** Normalises a decimal string to two places. */
export function normalizeMoney (text: string): string {
  return fromCents(toCents(text))
}

export function compareMoney (a: string, b: string): number {
  const d = toCents(a) - toCents(b)
  return d < 0n ? -1 : d > 0n ? 1 : 0
}
