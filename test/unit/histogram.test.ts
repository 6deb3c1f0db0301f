// The request and eNom call histograms: the same exposition text as prom-client's own Histogram
// for the same observations.
import { describe, expect, it } from 'vitest'
import { Histogram, Registry } from 'prom-client'
import { FastHistogram } from '../../src/lib/histogram.js'

describe('FastHistogram', () => {
  it('answers the registry exactly as prom-client\'s Histogram does', async () => {
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    const ours = new Registry()
    const theirs = new Registry()
    const fast = new FastHistogram('http_request_duration_seconds', 'HTTP request duration', ['method', 'route', 'status'], buckets, ours)
    const reference = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route', 'status'], buckets, registers: [theirs] })
    const observations: Array<[Record<'method' | 'route' | 'status', string>, number]> = [
      [{ method: 'GET', route: '/health', status: '200' }, 0.0004],
      [{ method: 'GET', route: '/health', status: '200' }, 0.005],
      [{ method: 'POST', route: '/orders', status: '201' }, 0.2],
      [{ method: 'GET', route: '/health', status: '200' }, 0.03],
      [{ method: 'POST', route: '/orders', status: '409' }, 31],
      [{ method: 'GET', route: '/modules/:id', status: '404' }, 0]
    ]
    for (const [labels, value] of observations) {
      fast.observe(labels, value)
      reference.observe(labels, value)
    }
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.metrics()).toContain('http_request_duration_seconds_count{method="GET",route="/health",status="200"} 3')
    fast.reset()
    reference.reset()
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })

  it('refuses what prom-client refuses: a missing label, a value that is not a number', () => {
    const fast = new FastHistogram('x_seconds', 'x', ['a', 'b'], [1, 2], new Registry())
    expect(() => fast.observe({ a: '1' } as never, 1)).toThrow(/label b/)
    expect(() => fast.observe({ a: '1', b: '2' }, Number.NaN)).toThrow(TypeError)
    expect(() => new FastHistogram('y_seconds', 'y', ['a'], [2, 1], new Registry())).toThrow(/ascending/)
  })
})
