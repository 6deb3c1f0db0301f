// What the baseline servers share: their level (LOG_LEVEL, info by default, as the service),
// their address (PORT, HOST) and a clean stop on SIGTERM.
import type { Logger } from 'pino'
import type { LogLevelName } from '../../src/config.js'

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

export function baselineLevel (): LogLevelName {
  const level = process.env.LOG_LEVEL ?? 'info'
  if (!LEVELS.has(level)) throw new Error(`LOG_LEVEL ${level} is not a pino level`)
  return level as LogLevelName
}

export function required (name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}

/** The two methods of a Fastify instance listen() needs, whatever its type provider. */
interface Listening {
  listen: (options: { port: number, host: string }) => Promise<string>
  close: () => PromiseLike<undefined>
}

export async function listen (app: Listening, logger: Logger, onClose?: () => Promise<void>): Promise<void> {
  const port = Number(process.env.PORT ?? 3100)
  const host = process.env.HOST ?? '127.0.0.1'
  await app.listen({ port, host })
  logger.info({ port, host }, 'baseline ready')
  process.once('SIGTERM', () => {
    app.close().then(async () => { await onClose?.() }).then(() => process.exit(0), () => process.exit(1))
  })
}
