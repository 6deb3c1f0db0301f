// Readiness: does the database answer? The probe is shared by concurrent callers, cached for
// about a second, and bounded in time, so /health stays cheap under load and never hangs when
// the database or its pool does.
export interface HealthStatus {
  db: 'up' | 'down'
}

export class HealthProbe {
  private cached?: { at: number, status: HealthStatus }
  private inflight?: Promise<HealthStatus>

  constructor (
    private readonly ping: () => Promise<unknown>,
    private readonly timeoutMs: number,
    private readonly cacheMs = 1000,
    private readonly now: () => number = Date.now
  ) {}

  async check (): Promise<HealthStatus> {
    const at = this.now()
    if (this.cached && at - this.cached.at < this.cacheMs) return this.cached.status
    this.inflight ??= this.probe().finally(() => { this.inflight = undefined })
    return this.inflight
  }

  private async probe (): Promise<HealthStatus> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.timeoutMs) })
    let status: HealthStatus
    try {
      const result = await Promise.race([this.ping().then(() => 'ok' as const), timeout])
      status = { db: result === 'ok' ? 'up' : 'down' }
    } catch {
      status = { db: 'down' }
    } finally {
      clearTimeout(timer)
    }
    this.cached = { at: this.now(), status }
    return status
  }
}
