// The parts of autocannon 9's API the bench uses (the package ships no types).
declare module 'autocannon' {
  import type { IncomingHttpHeaders } from 'node:http'

  export interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request
  }

  export interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    amount?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: Request[]
    bailout?: number
  }

  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    p50: number
    p90: number
    p97_5: number
    p99: number
    [percentile: string]: number
  }

  export interface Result {
    requests: Histogram & { total: number, sent: number }
    latency: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    duration: number
    start: Date
    finish: Date
    '1xx': number
    '2xx': number
    '3xx': number
    '4xx': number
    '5xx': number
    statusCodeStats: Record<string, { count: number }>
  }

  export interface Instance {
    stop: () => void
    on: (event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void) => void
  }

  type Callback = (err: Error | null, result: Result) => void
  function autocannon (options: Options, callback: Callback): Instance
  export type { IncomingHttpHeaders }
  export default autocannon
}
