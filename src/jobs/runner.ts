// The job worker of one instance: claims due jobs, runs their handlers with a lease that a
// heartbeat keeps alive, and on shutdown stops claiming, lets running jobs finish within the
// grace period, and gives the rest back so that another instance runs them at once.
import type { Logger } from 'pino'
import type { JobQueue, JobRow } from './queue.js'

export type JobResult =
  | { kind: 'done' }
  | { kind: 'reschedule', runAt: Date, resetAttempts?: boolean, payload?: Record<string, unknown> }

export interface JobContext {
  log: Logger
  signal: AbortSignal
}

export type JobHandler = (job: JobRow, context: JobContext) => Promise<JobResult>

export interface RunnerOptions {
  queue: JobQueue
  handlers: Record<string, JobHandler>
  worker: string
  concurrency: number
  pollMs: number
  leaseMs: number
  log: Logger
  /** Called when a job failed for the last time (its attempts are spent). */
  onExhausted?: (job: JobRow, error: Error) => Promise<void>
}

/** Backoff between attempts of a failing job: exponential with jitter, 5 s up to 30 min. */
export function retryDelayMs (attempt: number): number {
  const base = Math.min(30 * 60_000, 5000 * 2 ** Math.max(0, attempt - 1))
  return Math.round(base / 2 + Math.random() * base / 2)
}

export class JobRunner {
  private running = false
  private readonly active = new Map<string, { promise: Promise<void>, abort: AbortController }>()
  private wakeUp?: () => void
  private loop?: Promise<void>

  constructor (private readonly options: RunnerOptions) {}

  start (): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Polls at once instead of waiting for the next tick (after enqueueing urgent work). */
  wake (): void {
    this.wakeUp?.()
  }

  get activeCount (): number {
    return this.active.size
  }

  /** Stops claiming; waits up to graceMs for running jobs; releases what is still running. */
  async stop (graceMs: number): Promise<void> {
    if (!this.running) return
    this.running = false
    this.wake()
    await this.loop
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.active.values()].map((a) => a.promise)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs) })
    ])
    clearTimeout(timer)
    const left = [...this.active.keys()]
    for (const a of this.active.values()) a.abort.abort()
    if (left.length > 0) {
      const released = await this.options.queue.release(this.options.worker, left).catch(() => 0)
      this.options.log.info({ released }, 'released unfinished jobs')
    }
  }

  private async run (): Promise<void> {
    const { queue, worker, concurrency, pollMs, leaseMs, log } = this.options
    while (this.running) {
      let claimed: JobRow[] = []
      const free = concurrency - this.active.size
      if (free > 0) {
        try {
          claimed = await queue.claim(worker, free, leaseMs)
        } catch (err) {
          log.warn({ err: { message: (err as Error).message } }, 'could not claim jobs')
        }
      }
      for (const job of claimed) this.execute(job)
      if (claimed.length === 0 || this.active.size >= concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs)
          this.wakeUp = () => { clearTimeout(timer); resolve() }
        })
      }
    }
  }

  private execute (job: JobRow): void {
    const { queue, worker, leaseMs, log } = this.options
    const abort = new AbortController()
    const jobLog = log.child({ job: job.kind, jobKey: job.key, attempt: job.attempts })
    const heartbeat = setInterval(() => {
      queue.heartbeat(job.id, worker, leaseMs).then((mine) => {
        // The lease was lost (this instance stalled past it); another instance owns the job now.
        if (!mine) abort.abort()
      }).catch(() => undefined)
    }, Math.max(1000, Math.floor(leaseMs / 3)))
    const promise = (async () => {
      const handler = this.options.handlers[job.kind]
      try {
        if (!handler) throw new Error(`no handler for job kind ${job.kind}`)
        const result = await handler(job, { log: jobLog, signal: abort.signal })
        if (result.kind === 'done') await queue.complete(job.id, worker, job.runAt)
        else await queue.reschedule(job.id, worker, result.runAt, { resetAttempts: result.resetAttempts ?? false, ...(result.payload ? { payload: result.payload } : {}) })
      } catch (err) {
        const error = err as Error
        const last = job.attempts >= job.maxAttempts
        jobLog.warn({ err: { message: error.message, code: (error as { code?: string }).code }, last }, 'job failed')
        await queue.fail(job.id, worker, error.message, last ? null : new Date(Date.now() + retryDelayMs(job.attempts))).catch(() => undefined)
        if (last) await this.options.onExhausted?.(job, error).catch((e) => jobLog.error({ err: e }, 'could not report an exhausted job'))
      } finally {
        clearInterval(heartbeat)
        this.active.delete(job.id)
        if (this.running) this.wake()
      }
    })()
    this.active.set(job.id, { promise, abort })
  }
}
