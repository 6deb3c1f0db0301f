// Generates the Prisma 7 client into src/generated/prisma without network access.
// The Prisma CLI insists on finding its Rust schema engine before `generate`, although generate
// never runs it (the client is TypeScript + wasm); pointing PRISMA_SCHEMA_ENGINE_BINARY at any
// existing file stops the download attempt, which cannot succeed here.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = `${root}node_modules/prisma/build/index.js`
if (!existsSync(cli)) {
  // Production installs (npm ci --omit=dev) do not have the CLI; they use the client compiled into dist/.
  console.log('prisma CLI not installed; skipping client generation')
  process.exit(0)
}
const result = spawnSync(process.execPath, [cli, 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1'
  }
})
process.exit(result.status ?? 1)
