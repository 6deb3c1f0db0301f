import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateOpenApi } from '../scripts/generate-openapi.js'

describe('openapi/openapi.json', () => {
  it('is the document the routes describe (regenerate with npm run openapi:generate)', async () => {
    const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')
    expect(await generateOpenApi()).toBe(committed)
  })
})
