// Recurring work, without a leader: every instance offers each slot's job (balance checks at the
// configured times, the daily sweep, hourly maintenance, recovery every minute) under a key
// named after the slot, and the unique key lets exactly one of the offers in.
import type { Logger } from 'pino'
import type { JobQueue } from './queue.js'

export interface ScheduleOptions {
  queue: JobQueue
  log: Logger
  /** UTC HH:MM. */
  balanceCheckTimes: string[]
  certsSweepTime: string
  /** How often slots are offered. */
  tickMs?: number
  now?: () => Date
}

/** Slots of today (UTC) at HH:MM that are due and at most `lookbackMs` old. */
export function dueSlots (times: string[], now: Date, lookbackMs: number): Date[] {
  return times.map((hhmm) => {
    const [h, m] = hhmm.split(':').map(Number) as [number, number]
    const slot = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m))
    return slot
  }).filter((slot) => slot.getTime() <= now.getTime() && now.getTime() - slot.getTime() <= lookbackMs)
}

export class Scheduler {
  private timer?: NodeJS.Timeout

  constructor (private readonly options: ScheduleOptions) {}

  start (): void {
    const tick = () => { this.tick().catch((err) => this.options.log.warn({ err: { message: (err as Error).message } }, 'scheduler tick failed')) }
    tick()
    this.timer = setInterval(tick, this.options.tickMs ?? 60_000)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  async tick (): Promise<void> {
    const { queue } = this.options
    const now = this.options.now?.() ?? new Date()
    // A slot missed while every instance was down is still run within six hours of its time.
    for (const slot of dueSlots(this.options.balanceCheckTimes, now, 6 * 3600_000)) {
      await queue.enqueueOnce({ kind: 'balance.check', key: `balance-check:${slot.toISOString()}`, maxAttempts: 10 })
    }
    for (const slot of dueSlots([this.options.certsSweepTime], now, 12 * 3600_000)) {
      await queue.enqueueOnce({ kind: 'certs.sweep', key: `certs-sweep:${slot.toISOString()}`, maxAttempts: 10 })
      await queue.enqueueOnce({ kind: 'retention.purge', key: `retention:${slot.toISOString()}`, maxAttempts: 3 })
    }
    const hour = new Date(now)
    hour.setUTCMinutes(0, 0, 0)
    await queue.enqueueOnce({ kind: 'maintenance.reap', key: `reap:${hour.toISOString()}`, maxAttempts: 3 })
    await queue.enqueueOnce({ kind: 'orders.expiry', key: `expiry:${hour.toISOString()}`, maxAttempts: 3 })
    const tick = this.options.tickMs ?? 60_000
    const slot = new Date(Math.floor(now.getTime() / tick) * tick)
    await queue.enqueueOnce({ kind: 'attempts.recover', key: `recover:${slot.toISOString()}`, maxAttempts: 1 })
  }
}
