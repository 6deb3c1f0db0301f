# syntax=docker/dockerfile:1
# Multi-stage build: the build stage generates the Prisma client, type-checks the TypeScript and
# bundles it with esbuild into dist/; the runtime stage has production dependencies only (no
# embedded PostgreSQL: compose provides one) and runs as the unprivileged `node` user.

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# npm ci's postinstall generates the Prisma client from the schema. Optional packages stay in:
# esbuild's binary is one (@esbuild/<platform>, from the lockfile); without it esbuild's install
# script would fetch the binary itself. The build stage is thrown away, so embedded-postgres,
# the other optional package, costs only build time.
COPY scripts/prisma-generate.mjs scripts/
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src ./src
RUN npm run build

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production
# Memory (docs/BENCHMARKS.md, scenario 6): glibc gives threads that allocate their own malloc
# arenas, and V8's compiler threads leave them fragmented (one arena: some 30-50 MB less); and
# V8's young generation may grow to 16 MB semi-spaces under load (8 MB: less memory, the same
# throughput).
ENV MALLOC_ARENA_MAX=1
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/prisma-generate.mjs scripts/
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The service applies pending migrations itself at start-up.
COPY prisma/migrations ./prisma/migrations
USER node
EXPOSE 3000
# Without an init process Node would be PID 1; run the container with `init: true` (compose does)
# or `docker run --init` so that signals reach the graceful shutdown.
CMD ["node", "dist/server.js"]
