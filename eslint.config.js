// Fastify's house style (neostandard: no semicolons, single quotes), with TypeScript.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'src/generated/**', 'node_modules/**', 'coverage/**', 'clients/typescript/src/schema.ts', 'tmp/**']
  })
]
