// Entry point: configuration, database (embedded or DATABASE_URL), migrations, listen, and a
// graceful shutdown on SIGINT/SIGTERM. Nothing else lives here.
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { openDatabase, type Database } from './db/database.js'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded-postgres.js'
import { migrate } from './db/migrate.js'
import { TokenRegistry } from './domain/access.js'
import { SecretBox } from './domain/secrets.js'
import { prepareLocalSecrets } from './local-mode.js'
import { createLogger } from './logger.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`enom-ssl-service: ${err.message}\n`)
      process.exit(78) // EX_CONFIG
    }
    throw err
  }
  const log = createLogger(config.logLevel)

  let embedded: EmbeddedPostgres | undefined
  let db: Database | undefined
  let app: FastifyInstance | undefined
  let stopping: Promise<void> | undefined

  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'shutting down')
      const force = setTimeout(() => {
        log.error({ graceMs: config.shutdownGraceMs }, 'shutdown grace period over; exiting')
        process.exit(1)
      }, config.shutdownGraceMs + 5000)
      force.unref()
      try {
        // Stop claiming jobs at once; running ones get the grace period less a second, then are
        // aborted and given back, so that the release is written before the pool closes.
        const jobsStopped = app?.services.stopJobs(Math.max(0, config.shutdownGraceMs - 1000))
        // Stop taking requests, let the ones in flight finish (Fastify answers 503 meanwhile).
        if (app && !await closeWithin(app, config.shutdownGraceMs)) {
          // Past the grace period: what is still running is cut, so that the process can end.
          log.warn({ graceMs: config.shutdownGraceMs }, 'requests still running after the grace period are cut')
          app.server.closeAllConnections()
          await app.services.gateway.client.destroy()
        }
        await jobsStopped
        await db?.close()
        await embedded?.stop()
        log.info('stopped')
      } catch (err) {
        log.error({ err }, 'error during shutdown')
        process.exitCode = 1
      }
    })()
    return stopping
  }
  process.once('SIGINT', () => { shutdown('SIGINT').catch(() => undefined) })
  process.once('SIGTERM', () => { shutdown('SIGTERM').catch(() => undefined) })

  try {
    let databaseUrl = config.databaseUrl
    let secretsKey = config.secretsKey
    let apiTokens = config.apiTokens
    if (!databaseUrl) {
      log.info({ dataDir: config.dataDir }, 'no DATABASE_URL: starting the embedded PostgreSQL')
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log })
      databaseUrl = embedded.url
      ;({ secretsKey, apiTokens } = prepareLocalSecrets(config.dataDir, { secretsKey, apiTokens }, log))
    }
    const secrets = SecretBox.fromKeyring(secretsKey as string)
    const tokens = TokenRegistry.parse(apiTokens as string)
    await migrate(databaseUrl, { log })
    db = openDatabase({ url: databaseUrl, max: config.dbPoolMax, acquireTimeoutMs: config.dbAcquireTimeoutMs, log })
    if (stopping) return
    app = await buildApp({ config, db, secrets, tokens, logger: log })
    await app.listen({ port: config.port, host: config.host })
    if (config.jobsEnabled) app.services.startJobs()
    log.info({ port: config.port, host: config.host, docs: '/docs' }, 'enom-ssl-service is ready')
  } catch (err) {
    log.fatal({ err: { message: (err as Error).message, name: (err as Error).name } }, 'start-up failed')
    await shutdown('startup-failure')
    process.exit(1)
  }
}

/** Closes the app; false when it was still closing after `ms`. */
async function closeWithin (app: FastifyInstance, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  // Closing closes the connections idle at that moment; a keep-alive connection whose request
  // was still running becomes idle later and would hold the server open until its keep-alive
  // timeout (72 s), past any grace period. Those are closed as they become idle.
  const idle = setInterval(() => app.server.closeIdleConnections(), 50)
  const closed = await Promise.race([
    app.close().then(() => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  ])
  clearTimeout(timer)
  clearInterval(idle)
  return closed
}

main().catch((err) => {
  process.stderr.write(`enom-ssl-service: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
