// The purchase kill switch: an admin can pause every money-spending eNom call at once; routes and
// jobs ask before spending. The state lives in the database so that every instance honours it.
import type pg from 'pg'
import type { Prisma as PrismaClient } from '../db/database.js'
import { query } from '../db/sql.js'
import { AppError } from './errors.js'

const KEY = 'purchases_paused'

export interface PauseState {
  paused: boolean
  reason: string | null
  by: string | null
  since: string | null
}

/** The setting row that holds the switch. */
export const PAUSE_SETTING = KEY

/** The switch as its setting row says (no row: purchases allowed). */
export function pauseStateOf (row: { value: unknown, updatedBy: string | null, updatedAt: Date } | null | undefined): PauseState {
  const value = (row?.value ?? {}) as { paused?: boolean, reason?: string | null }
  return {
    paused: value.paused === true,
    reason: value.reason ?? null,
    by: row?.updatedBy ?? null,
    since: row ? row.updatedAt.toISOString() : null
  }
}

/** Throws 503 PURCHASES_PAUSED while paused. */
export function refuseIfPaused (s: PauseState): void {
  if (s.paused) {
    throw new AppError(503, 'PURCHASES_PAUSED', 'Purchases are paused',
      `an administrator paused purchases${s.by ? ` (${s.by})` : ''}${s.reason ? `: ${s.reason}` : ''}; nothing was bought`, {}, { 'retry-after': '60' })
  }
}

export function createPurchaseSwitch (prisma: PrismaClient, pool?: pg.Pool) {
  // Every order reads the switch: one plain statement on the pool (or with its other reads).
  async function state (): Promise<PauseState> {
    const rows = await query<{ value: unknown, updatedBy: string | null, updatedAt: Date }>(pool ?? prisma,
      'SELECT value, updated_by AS "updatedBy", updated_at AS "updatedAt" FROM setting WHERE key = $1::text', [KEY])
    return pauseStateOf(rows[0])
  }

  async function set (paused: boolean, by: string, reason: string | null): Promise<PauseState> {
    await prisma.setting.upsert({
      where: { key: KEY },
      create: { key: KEY, value: { paused, reason }, updatedBy: by, updatedAt: new Date() },
      update: { value: { paused, reason }, updatedBy: by, updatedAt: new Date() }
    })
    return state()
  }

  return {
    state,
    pause: (by: string, reason: string | null) => set(true, by, reason),
    resume: (by: string) => set(false, by, null),
    /** Throws 503 PURCHASES_PAUSED while paused. */
    async assertAllowed (): Promise<void> {
      refuseIfPaused(await state())
    }
  }
}

export type PurchaseSwitch = ReturnType<typeof createPurchaseSwitch>
