// Prisma 7 CLI configuration, used by `prisma generate` (scripts/prisma-generate.mjs).
// Migrations are applied by the service's own runner (src/db/migrate.ts), not by this CLI.
import { defineConfig } from 'prisma/config'

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' }
})
