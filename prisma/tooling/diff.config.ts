// Configuration for the Prisma 6 CLI (npm alias "prisma6"), used only to compute migration SQL
// offline: Prisma 7's migrate needs a Rust engine that cannot be downloaded here, while Prisma 6
// can run its wasm schema engine through a pg driver adapter. See scripts/prisma-diff.mjs.
import { defineConfig } from 'prisma6/config'
import { PrismaPg } from '@prisma/adapter-pg'

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: process.env.PRISMA6_SCHEMA ?? '',
  async adapter () {
    // The engine connects even for a datamodel-to-datamodel diff; it reads nothing.
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? '', allowExitOnIdle: true }) as never
  }
})
