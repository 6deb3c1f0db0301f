// eNom account balances, for ops and the billing dashboard.
//
// Each instance caches a module's balance for BALANCE_TTL_SECONDS, and concurrent requests for
// one module share one eNom call (single flight), so a dashboard refresh storm costs eNom one
// GetBalance per module. Every successful read is also persisted on the module, so a restart or
// another instance still knows the last balance. When eNom fails, the last known balance is
// served, marked stale with its age and the error; with none known, the error goes to the caller.
import { isEnomError } from '../enom/errors.js'
import type { ModuleRow } from '../db/module-repository.js'
import type { CallScope, EnomGateway } from './enom-gateway.js'
import { enomProblem } from './enom-problems.js'
import { AppError } from './errors.js'
import { compareMoney } from './money.js'

export interface BalanceReading {
  balance: string
  availableBalance: string
  fetchedAt: Date
}

export interface BalanceView {
  moduleId: string
  moduleName: string
  environment: 'live' | 'test'
  balance: string
  availableBalance: string
  currency: 'USD'
  minimalBalance: string | null
  belowMinimal: boolean
  fetchedAt: string
  source: 'live' | 'cache'
  stale: boolean
  ageSeconds: number
  error?: { code: string, cause: string, detail: string }
}

export interface BalanceDeps {
  gateway: EnomGateway
  ttlSeconds: number
  /** The module's eNom credentials (decrypted on demand). */
  target: (row: ModuleRow) => Promise<{ moduleId: string, apiUrl: string, uid: string, pw: string }>
  /** Keeps the reading on the module (and notices low-balance crossings). */
  persist: (row: ModuleRow, reading: BalanceReading) => Promise<void>
  /** Told of a reading that could not be kept while nobody waited for it (an order's balance check). */
  onPersistError?: (err: Error, moduleId: string) => void
  now?: () => number
}

export function isBelowMinimal (available: string, minimal: string | null): boolean {
  return minimal !== null && compareMoney(available, minimal) < 0
}

function persisted (row: ModuleRow): BalanceReading | undefined {
  if (row.balance === null || row.availableBalance === null || row.balanceFetchedAt === null) return undefined
  return { balance: row.balance.toFixed(2), availableBalance: row.availableBalance.toFixed(2), fetchedAt: row.balanceFetchedAt }
}

/** How often at most an order's balance check writes its reading on the module. */
export const KEEP_EVERY_MS = 1000

export function createBalanceService (deps: BalanceDeps) {
  const now = deps.now ?? Date.now
  // The reading and the module as it was when it was read: a fresh entry answers on its own,
  // without the database. A change to the module on this instance drops its entry (forget).
  const cache = new Map<string, { reading: BalanceReading, row: ModuleRow, view?: BalanceView }>()
  const inflight = new Map<string, Promise<{ reading: BalanceReading, kept: Promise<void> }>>()
  const keeping = new Set<Promise<void>>()
  const answering = new Map<string, Promise<BalanceView>>()
  const ttlMs = deps.ttlSeconds * 1000

  const ageOf = (reading: BalanceReading) => Math.max(0, Math.round((now() - reading.fetchedAt.getTime()) / 1000))

  function view (row: ModuleRow, reading: BalanceReading, source: 'live' | 'cache', stale = false, error?: BalanceView['error']): BalanceView {
    const minimal = row.minimalBalance === null ? null : row.minimalBalance.toFixed(2)
    return {
      moduleId: row.id,
      moduleName: row.name,
      environment: row.environment,
      balance: reading.balance,
      availableBalance: reading.availableBalance,
      currency: 'USD',
      minimalBalance: minimal,
      belowMinimal: isBelowMinimal(reading.availableBalance, minimal),
      fetchedAt: reading.fetchedAt.toISOString(),
      source,
      stale,
      ageSeconds: ageOf(reading),
      ...(error ? { error } : {})
    }
  }

  /**
   * One eNom call per module at a time, whoever asks. The reading comes with the promise of its
   * keeping on the module: balance reads wait for it, an order's balance check does not.
   */
  function fetchLive (row: ModuleRow, scope: CallScope, background: boolean): Promise<{ reading: BalanceReading, kept: Promise<void> }> {
    let pending = inflight.get(row.id)
    if (!pending) {
      pending = (async () => {
        const target = await deps.target(row)
        const result = await deps.gateway.call(target, 'GetBalance', scope, (c, creds, ctx) => c.getBalance(creds, ctx))
        const reading = { balance: result.balance, availableBalance: result.availableBalance, fetchedAt: new Date(now()) }
        cache.set(row.id, { reading, row })
        return { reading, kept: keep(row, reading, background) }
      })()
      // The next caller after this reading is kept reads eNom again; until then it shares it.
      pending.then(({ kept }) => kept, () => undefined).finally(() => inflight.delete(row.id)).catch(() => undefined)
      inflight.set(row.id, pending)
    }
    return pending
  }

  // Keeping readings on the module. A reading nobody waits for (an order's balance check) is
  // written at most once per KEEP_EVERY_MS per module: a busier module's newest reading is written
  // when the interval is over (busy modules read eNom before every order, and each write is a
  // commit). A reading somebody waits for is written at once, after any write still running.
  const kept = new Map<string, { at: number, writing: Promise<void>, queued?: { row: ModuleRow, reading: BalanceReading }, timer?: NodeJS.Timeout }>()

  function write (row: ModuleRow, reading: BalanceReading): Promise<void> {
    const state = kept.get(row.id)
    const before = state?.writing ?? Promise.resolve()
    const writing = before.catch(() => undefined).then(() => deps.persist(row, reading))
    kept.set(row.id, { at: now(), writing })
    keeping.add(writing)
    writing.then(() => keeping.delete(writing), () => keeping.delete(writing))
    return writing
  }

  function flush (moduleId: string): void {
    const state = kept.get(moduleId)
    const queued = state?.queued
    if (!state || !queued) return
    clearTimeout(state.timer)
    write(queued.row, queued.reading).catch((err: Error) => deps.onPersistError?.(err, moduleId))
  }

  function keep (row: ModuleRow, reading: BalanceReading, background: boolean): Promise<void> {
    const state = kept.get(row.id)
    if (!background || state === undefined || now() - state.at >= KEEP_EVERY_MS) {
      clearTimeout(state?.timer)
      return write(row, reading)
    }
    // A newer reading replaces the one waiting for the interval to end.
    state.queued = { row, reading }
    if (state.timer === undefined) {
      state.timer = setTimeout(() => flush(row.id), Math.max(0, state.at + KEEP_EVERY_MS - now()))
      state.timer.unref()
    }
    return Promise.resolve()
  }

  async function live (row: ModuleRow, scope: CallScope, waitForKeeping: boolean): Promise<BalanceReading> {
    const { reading, kept } = await fetchLive(row, scope, !waitForKeeping)
    if (waitForKeeping) await kept
    else kept.catch((err: Error) => deps.onPersistError?.(err, row.id))
    return reading
  }

  const fresh = (reading: BalanceReading | undefined) => reading !== undefined && now() - reading.fetchedAt.getTime() < ttlMs

  return {
    /**
     * The cached answer for a module, when this instance holds a fresh one: no database, no eNom.
     * Changes to the module made on another instance show once the entry expires (the TTL).
     */
    cached (moduleId: string): BalanceView | undefined {
      const entry = cache.get(moduleId)
      if (!entry || !fresh(entry.reading)) return undefined
      // The view of an entry changes only in its age: made once, aged on each answer.
      entry.view ??= view(entry.row, entry.reading, 'cache')
      return { ...entry.view, ageSeconds: ageOf(entry.reading) }
    },

    /**
     * The balance of the module `load` reads. Concurrent requests for one module share the read
     * of its row as they share the eNom call, so a burst of cold requests costs one of each.
     */
    answer (moduleId: string, load: () => Promise<ModuleRow>, scope: CallScope): Promise<BalanceView> {
      const hit = this.cached(moduleId)
      if (hit) return Promise.resolve(hit)
      let pending = answering.get(moduleId)
      if (!pending) {
        pending = load().then((row) => this.get(row, scope)).finally(() => answering.delete(moduleId))
        answering.set(moduleId, pending)
      }
      return pending
    },

    /**
     * The balance of one module: cached when fresh, live otherwise (or when `refresh`). A live
     * reading is kept on the module before it is answered, unless `keepInBackground`. With
     * `liveSince`, a reading that came back from eNom at or after that moment is live enough (an
     * order's check takes the reading that came back after the order arrived: orders arriving
     * together share one reading even when some of them get to their check after it came back).
     */
    async get (row: ModuleRow, scope: CallScope, options: { refresh?: boolean, keepInBackground?: boolean, liveSince?: number } = {}): Promise<BalanceView> {
      if (options.refresh && options.liveSince !== undefined) {
        const recent = cache.get(row.id)?.reading
        if (recent && recent.fetchedAt.getTime() >= options.liveSince) return view(row, recent, 'live')
      }
      if (!options.refresh) {
        const newest = [cache.get(row.id)?.reading, persisted(row)]
          .filter((r): r is BalanceReading => r !== undefined && fresh(r))
          .sort((a, b) => b.fetchedAt.getTime() - a.fetchedAt.getTime())[0]
        if (newest) {
          cache.set(row.id, { reading: newest, row })
          return view(row, newest, 'cache')
        }
      }
      try {
        return view(row, await live(row, scope, options.keepInBackground !== true), 'live')
      } catch (err) {
        const problem = isEnomError(err) ? enomProblem(err) : undefined
        const known = [cache.get(row.id)?.reading, persisted(row)]
          .filter((r): r is BalanceReading => r !== undefined)
          .sort((a, b) => b.fetchedAt.getTime() - a.fetchedAt.getTime())[0]
        if (known && problem) {
          return view(row, known, 'cache', true, { code: problem.code, cause: String(problem.extras.cause), detail: problem.detail ?? problem.title })
        }
        throw problem ?? err
      }
    },

    /** Resolves when every reading being kept is written (shutdown, before the pool closes). */
    async settle (): Promise<void> {
      for (const id of [...kept.keys()]) flush(id)
      await Promise.allSettled([...keeping])
    },

    /** Forget what this instance cached (after any change to the module, and in tests). */
    forget (moduleId: string) {
      cache.delete(moduleId)
    }
  }
}

export type BalanceService = ReturnType<typeof createBalanceService>

export const balanceUnavailable = (detail: string) => new AppError(502, 'BALANCE_UNAVAILABLE', 'Balance unavailable', detail)
