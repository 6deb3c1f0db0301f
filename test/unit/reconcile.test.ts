// The verdict on purchases whose answers were lost, judged together per eNom account: which
// purchases belong together, and which certificate (if any) each one bought.
import { describe, expect, it } from 'vitest'
import { judge, overlapping, type PurchaseSnapshot } from '../../src/domain/orders/reconcile.js'
import type { AttemptRow, OrderRow } from '../../src/db/order-repository.js'
import type { CertSummary } from '../../src/enom/commands/certs.js'

const T0 = Date.parse('2026-11-26T10:00:00Z')

function member (id: string, lo: number, hi: number | undefined, over: { startedMs?: number, years?: number, prodType?: number, enomOrderId?: string } = {}) {
  const snapshot: PurchaseSnapshot = { maxCertId: lo, ...(hi === undefined ? {} : { maxCertIdAfter: hi }), prodType: over.prodType ?? 23, startedAt: new Date(T0 + (over.startedMs ?? 0)).toISOString() }
  return {
    attempt: { id, startedAt: new Date(T0 + (over.startedMs ?? 0)), snapshot } as unknown as AttemptRow,
    snapshot,
    order: { id: `order-${id}`, years: over.years ?? 1, enomOrderId: over.enomOrderId ?? null, status: 'outcome_unknown' } as unknown as OrderRow
  }
}
const cert = (certId: number, over: Partial<CertSummary> = {}): CertSummary => ({ certId: String(certId), prodType: 23, statusId: 1, validityPeriodMonths: 12, ...over })
const none = new Set<string>()
const paired = (v: ReturnType<typeof judge>) => v.kind === 'settle' ? Object.fromEntries(v.pairs.map((p) => [p.member.attempt.id, p.cert.certId])) : v.kind

describe('overlapping', () => {
  const ids = (ms: Array<{ id: string }>) => ms.map((m) => m.id).sort()
  const w = (id: string, lo: number, hi?: number) => ({ id, snapshot: member(id, lo, hi).snapshot })

  it('groups windows that overlap directly or through another, and keeps disjoint ones apart', () => {
    const all = [w('a', 10, 12), w('b', 11, 14), w('c', 13, 15), w('d', 20, 22)]
    expect(ids(overlapping(all, 'a'))).toEqual(['a', 'b', 'c'])
    expect(ids(overlapping(all, 'd'))).toEqual(['d'])
    // Windows that only touch ((10, 12] and (12, 14]) share no CertID.
    expect(ids(overlapping([w('a', 10, 12), w('b', 12, 14)], 'a'))).toEqual(['a'])
  })

  it('treats a window without an end (the list after the failure could not be read) as open', () => {
    expect(ids(overlapping([w('a', 10), w('b', 50, 60)], 'b'))).toEqual(['a', 'b'])
    expect(overlapping([w('a', 10, 12)], 'x')).toEqual([])
  })
})

describe('judge', () => {
  it('gives a lone purchase the one new certificate of its product, term and status in its window', () => {
    const a = member('a', 100, 105)
    const certs = [cert(104), cert(103, { prodType: 24 }), cert(102, { validityPeriodMonths: 24 }), cert(101, { statusId: 5 }), cert(106)]
    expect(paired(judge(a, [a], certs, none))).toEqual({ a: '104' })
    // One that an order or an answered purchase already owns is nobody else's.
    expect(judge(a, [a], certs, new Set(['104'])).kind).toBe('none')
  })

  it('pairs as many certificates as purchases, earliest purchase first, lowest CertID first', () => {
    const a = member('a', 100, 110, { startedMs: 0 })
    const b = member('b', 101, 112, { startedMs: 5 })
    const c = member('c', 103, 111, { startedMs: 9 })
    const group = [a, b, c]
    const certs = [cert(109), cert(104), cert(102)]
    for (const self of group) expect(paired(judge(self, group, certs, none))).toEqual({ a: '102', b: '104', c: '109' })
  })

  it('with fewer certificates than purchases, gives them to the earliest and says the rest did not happen', () => {
    const a = member('a', 100, 110, { startedMs: 0 })
    const b = member('b', 100, 110, { startedMs: 5 })
    const v = judge(b, [a, b], [cert(105)], none)
    expect(v.kind === 'settle' && { pairs: v.pairs.map((p) => p.member.attempt.id), absent: v.absent.map((m) => m.attempt.id) }).toEqual({ pairs: ['a'], absent: ['b'] })
  })

  it('refuses to guess when more certificates appeared than purchases lost their answer', () => {
    const a = member('a', 100, 110)
    expect(judge(a, [a], [cert(105), cert(107)], none)).toEqual({ kind: 'ambiguous', candidates: [cert(105), cert(107)] })
  })

  it('keeps products and terms apart, and refuses a certificate that could be either term', () => {
    const one = member('one', 100, 110, { years: 1 })
    const two = member('two', 100, 110, { years: 2, startedMs: 1 })
    const certs = [cert(105, { validityPeriodMonths: 24 }), cert(106, { validityPeriodMonths: 12 })]
    expect(paired(judge(one, [one, two], certs, none))).toEqual({ one: '106' })
    expect(paired(judge(two, [one, two], certs, none))).toEqual({ two: '105' })
    expect(judge(one, [one, two], [cert(105, { validityPeriodMonths: undefined })], none).kind).toBe('ambiguous')
  })

  it("lets eNom's OrderID name a purchase's certificate", () => {
    const a = member('a', 100, 110, { enomOrderId: '777' })
    const b = member('b', 100, 110, { startedMs: -5 })
    const certs = [cert(103, { orderId: '777' }), cert(104, { orderId: '888' })]
    expect(paired(judge(a, [a, b], certs, none))).toEqual({ a: '103' })
    expect(paired(judge(b, [a, b], certs, none))).toEqual({ b: '104' })
    expect(judge(a, [a], [cert(104, { orderId: '888' })], none).kind).toBe('none')
  })

  it('ignores certificates ordered well before the purchase', () => {
    const a = member('a', 100, 110)
    expect(judge(a, [a], [cert(105, { orderDate: '11/20/2026' })], none).kind).toBe('none')
    expect(paired(judge(a, [a], [cert(105, { orderDate: '11/26/2026' })], none))).toEqual({ a: '105' })
  })
})
