// Writes openapi/openapi.json from the route schemas, or with --check fails when the committed
// file differs from what the code describes. The app is built but never listens, and no
// database connection is opened (the pool connects lazily).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import { TokenRegistry } from '../src/domain/access.js'
import { SecretBox } from '../src/domain/secrets.js'
import { createLogger } from '../src/logger.js'

const target = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url))

export async function generateOpenApi (): Promise<string> {
  const config = loadConfig({
    DATABASE_URL: 'postgresql://openapi@127.0.0.1:1/unused',
    SECRETS_KEY: SecretBox.generateKeyEntry('docs'),
    API_TOKENS: 'docs:admin:openapi-generation-only-token',
    LOG_LEVEL: 'silent'
  })
  const logger = createLogger('silent')
  const db = openDatabase({ url: config.databaseUrl as string, max: 1, acquireTimeoutMs: 1000, log: logger })
  const app = await buildApp({ config, db, logger, secrets: SecretBox.fromKeyring(config.secretsKey as string), tokens: TokenRegistry.parse(config.apiTokens as string) })
  await app.ready()
  const text = JSON.stringify(app.swagger(), null, 2) + '\n'
  await app.close()
  await db.close()
  return text
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await generateOpenApi()
  if (process.argv.includes('--check')) {
    let committed = ''
    try {
      committed = readFileSync(target, 'utf8')
    } catch { /* missing counts as different */ }
    if (committed !== text) {
      process.stderr.write('openapi/openapi.json is out of date with the route schemas: run `npm run openapi:generate` and commit it\n')
      process.exit(1)
    }
    process.stdout.write('openapi/openapi.json is up to date\n')
  } else {
    writeFileSync(target, text)
    process.stdout.write(`wrote ${target}\n`)
  }
}
