// A Prometheus histogram for the paths every request takes. prom-client's Histogram checks the
// label names, hashes the label object and looks the bucket up by value on each observation —
// some microseconds, which the cheapest routes (GET /health) feel. This one keeps a counter array
// per label set, found by the label values joined, and answers prom-client's registry in the
// shape prom-client's own histogram does, so the exposition text is the same line for line
// (test/unit/histogram.test.ts).
import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client'

interface Series<L extends string> {
  labels: Record<L, string>
  /** Observations per bucket (not cumulative); the last slot counts values above every bound. */
  counts: number[]
  sum: number
  count: number
}

export class FastHistogram<L extends string> {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Series<L>>()

  constructor (readonly name: string, readonly help: string, private readonly labelNames: readonly L[], private readonly buckets: readonly number[], registry: Registry) {
    if ([...buckets].sort((a, b) => a - b).some((b, i) => b !== buckets[i])) throw new Error(`${name}: buckets must be ascending`)
    registry.registerMetric(this as never)
  }

  observe (labels: Record<L, string>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite number: ${value}`)
    let key = ''
    for (const n of this.labelNames) key += `${labels[n]}\u0000`
    let s = this.series.get(key)
    if (s === undefined) {
      const own = {} as Record<L, string>
      for (const n of this.labelNames) {
        if (typeof labels[n] !== 'string') throw new TypeError(`${this.name}: label ${n} is missing`)
        own[n] = labels[n]
      }
      s = { labels: own, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 }
      this.series.set(key, s)
    }
    let i = 0
    while (i < this.buckets.length && value > (this.buckets[i] as number)) i++
    s.counts[i] = (s.counts[i] as number) + 1
    s.sum += value
    s.count++
  }

  reset (): void {
    this.series.clear()
  }

  /** What prom-client's registry reads: cumulative buckets, +Inf, sum and count per label set. */
  get (): MetricObjectWithValues<MetricValueWithName<string>> {
    const values: Array<MetricValueWithName<string> & { sharedLabels: Record<string, string> }> = []
    for (const s of this.series.values()) {
      let acc = 0
      this.buckets.forEach((le, i) => {
        acc += s.counts[i] as number
        values.push({ labels: { le } as never, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf' } as never, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` })
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` })
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: 'histogram' as never, values, aggregator: 'sum', collect: () => undefined }
  }
}
