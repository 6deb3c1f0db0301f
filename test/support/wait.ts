// Polling until something is true: for effects of background jobs and other processes, which
// tests cannot await directly.
export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Count a throwing probe as "not yet" (a service that is restarting, a database that is away). */
  ignoreErrors?: boolean
  /** Added to the timeout error, to say what was seen instead. */
  describe?: () => string
}

/** Calls `probe` until it returns something other than undefined, and returns that. */
export async function waitFor<T> (probe: () => T | undefined | Promise<T | undefined>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 100, ignoreErrors = false } = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = ignoreErrors ? await Promise.resolve().then(probe).catch(() => undefined) : await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${options.describe ? ` (${options.describe()})` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
