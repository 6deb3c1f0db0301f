// Docker does not run on the machines this is developed on, so the image and compose files are
// held to what they must say; .ci/run also runs the image's install and start commands outside Docker.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

describe('Dockerfile', () => {
  const text = read('Dockerfile')
  const stages = text.split(/^FROM /m).slice(1)

  it('builds in one stage and runs the built server as a non-root user in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const runtime = stages[stages.length - 1]!
    expect(runtime).toMatch(/npm ci --omit=dev/)
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/)
    expect(runtime).toMatch(/COPY prisma\/migrations \.\/prisma\/migrations/)
    expect(runtime).toMatch(/^USER node$/m)
    expect(runtime.trim().split('\n').pop()).toBe('CMD ["node", "dist/server.js"]')
    expect(stages[0]).toMatch(/npm run build/)
  })

  it('runs in production mode with its memory settings (one malloc arena, 8 MB semi-spaces) (the environment the benchmarks run the service with)', () => {
    const runtime = stages[stages.length - 1]!
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m)
    expect(runtime).toMatch(/^ENV MALLOC_ARENA_MAX=1$/m)
    expect(runtime).toMatch(/^ENV NODE_OPTIONS=--max-semi-space-size=8$/m)
  })
})

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'))

  it('runs the service with PostgreSQL 17, healthy before the service starts, on a named volume', () => {
    expect(compose.services.db.image).toMatch(/^postgres:17/)
    expect(compose.services.db.healthcheck.test.join(' ')).toMatch(/pg_isready/)
    expect(compose.services.app.depends_on.db.condition).toBe('service_healthy')
    expect(compose.services.db.volumes[0]).toMatch(/^pgdata:/)
    expect(compose.volumes).toHaveProperty('pgdata')
    expect(compose.services.app.build).toBe('.')
  })

  it('takes its secrets from env files that are not committed', () => {
    expect(compose.services.app.env_file).toBe('deploy/app.env')
    expect(compose.services.db.env_file).toBe('deploy/db.env')
    expect(read('.gitignore')).toMatch(/^deploy\/\*\.env$/m)
    const example = read('deploy/app.env.example')
    for (const name of ['DATABASE_URL', 'SECRETS_KEY', 'API_TOKENS']) expect(example).toMatch(new RegExp(`^${name}=`, 'm'))
    expect(JSON.stringify(compose)).not.toMatch(/SECRETS_KEY|API_TOKENS|POSTGRES_PASSWORD=/)
  })
})
