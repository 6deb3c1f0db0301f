// `npm run secrets:rotate`: re-encrypts every stored secret with the active key (the first entry
// of SECRETS_KEY). Put the new key first and keep the old ones after it, run this, then drop the
// old keys. Against DATABASE_URL, or — without it — the embedded database of DATA_DIR.
import { ConfigError, loadConfig } from './config.js'
import { openDatabase } from './db/database.js'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded-postgres.js'
import { rotateSecrets } from './domain/rotation.js'
import { SecretBox } from './domain/secrets.js'
import { prepareLocalSecrets } from './local-mode.js'
import { createLogger } from './logger.js'

async function main (): Promise<void> {
  const config = loadConfig()
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  let embedded: EmbeddedPostgres | undefined
  let url = config.databaseUrl
  let key = config.secretsKey
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log })
    url = embedded.url
    key = prepareLocalSecrets(config.dataDir, { ...(key ? { secretsKey: key } : {}), apiTokens: 'x:admin:not-used-by-rotation' }, log).secretsKey
  }
  const db = openDatabase({ url, max: 2, acquireTimeoutMs: config.dbAcquireTimeoutMs, log })
  try {
    const report = await rotateSecrets(db.prisma, SecretBox.fromKeyring(key as string))
    process.stdout.write(`re-encrypted with key ${report.activeKeyId}: ${report.moduleSecrets} module password(s), ` +
      `${report.orderPrivateKeys} private key(s), ${report.webhookSecrets} webhook secret(s); ${report.alreadyCurrent} already current\n`)
  } finally {
    await db.close()
    await embedded?.stop()
  }
}

main().catch((err) => {
  process.stderr.write(`secrets:rotate: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`)
  process.exit(1)
})
