// Processing-module rows. Plain objects in and out; money leaves as decimal strings.
import { Prisma, type ProcessingModule } from '../generated/prisma/client.js'
import type pg from 'pg'
import type { Prisma as PrismaClient } from './database.js'
import { runPrepared } from './prepared-query.js'
import { assignments, query, selectList, toModel, type Columns, type RowShape, type Sql } from './sql.js'

export type ModuleRow = ProcessingModule

export interface ModuleFilter {
  dataCenter?: string
  enabled?: boolean
  environment?: 'live' | 'test'
  includeDeleted?: boolean
}

export interface NewModuleRow {
  id: string
  name: string
  dataCenter: string
  department: string
  sort: number
  minimalBalance: string | null
  minimalBalancePolicy: 'notify' | 'block'
  environment: 'live' | 'test'
  apiUrl: string
  username: string
  passwordEnc: string
  addNewClient: boolean
  enabled: boolean
}

/** What the service learns from eNom about a module: operational state, not configuration. */
export interface ModuleObservations {
  enomAccount?: string | null
  enomPartyId?: string | null
  lastCheckAt?: Date
  lastCheckOk?: boolean
  lastCheckCause?: string | null
  lastCheckDetail?: string | null
  balance?: string
  availableBalance?: string
  balanceFetchedAt?: Date
  /** null: the balance is not below the minimum (any crossing ended). */
  lowBalanceSince?: null
}

export type ModuleChanges = Partial<Omit<NewModuleRow, 'id'>> & ModuleObservations

function observationData (o: ModuleObservations) {
  const { balance, availableBalance, ...rest } = o
  return {
    ...rest,
    ...(balance !== undefined ? { balance: new Prisma.Decimal(balance) } : {}),
    ...(availableBalance !== undefined ? { availableBalance: new Prisma.Decimal(availableBalance) } : {})
  }
}

function where (filter: ModuleFilter): Prisma.ProcessingModuleWhereInput {
  return {
    ...(filter.dataCenter !== undefined ? { dataCenter: filter.dataCenter } : {}),
    ...(filter.enabled !== undefined ? { enabled: filter.enabled } : {}),
    ...(filter.environment !== undefined ? { environment: filter.environment } : {}),
    ...(filter.includeDeleted ? {} : { deletedAt: null })
  }
}

function decimal (value: string | null | undefined): Prisma.Decimal | null | undefined {
  return value === undefined ? undefined : value === null ? null : new Prisma.Decimal(value)
}

// The hot read (every module-scoped route starts with it) goes to the pool directly: the same row
// Prisma's findUnique returns, without its per-query work. A test holds the two equal.
export const MODULE_SHAPE: RowShape<ModuleRow> = {
  columns: {
    id: 'id::text',
    productType: 'product_type',
    handler: 'handler',
    name: 'name',
    dataCenter: 'data_center',
    department: 'department',
    sort: 'sort',
    minimalBalance: 'minimal_balance::text',
    minimalBalancePolicy: 'minimal_balance_policy::text',
    environment: 'environment::text',
    apiUrl: 'api_url',
    username: 'username',
    passwordEnc: 'password_enc',
    addNewClient: 'add_new_client',
    enabled: 'enabled',
    deletedAt: 'deleted_at',
    enomAccount: 'enom_account',
    enomPartyId: 'enom_party_id',
    lastCheckAt: 'last_check_at',
    lastCheckOk: 'last_check_ok',
    lastCheckCause: 'last_check_cause',
    lastCheckDetail: 'last_check_detail',
    balance: 'balance::text',
    availableBalance: 'available_balance::text',
    balanceFetchedAt: 'balance_fetched_at',
    lowBalanceSince: 'low_balance_since',
    version: 'version',
    createdAt: 'created_at',
    updatedAt: 'updated_at'
  },
  decimals: ['minimalBalance', 'balance', 'availableBalance']
}
const OBSERVED: Columns<ModuleObservations> = {
  enomAccount: ['enom_account', 'text'],
  enomPartyId: ['enom_party_id', 'text'],
  lastCheckAt: ['last_check_at', 'timestamptz'],
  lastCheckOk: ['last_check_ok', 'boolean'],
  lastCheckCause: ['last_check_cause', 'text'],
  lastCheckDetail: ['last_check_detail', 'text'],
  balance: ['balance', 'numeric'],
  availableBalance: ['available_balance', 'numeric'],
  balanceFetchedAt: ['balance_fetched_at', 'timestamptz'],
  lowBalanceSince: ['low_balance_since', 'timestamptz']
}
const FIND_BY_ID = {
  name: 'processing_module_by_id',
  text: `SELECT ${selectList(MODULE_SHAPE)} FROM processing_module WHERE id = $1::uuid`
}

export function createModuleRepository (prisma: PrismaClient, pool: pg.Pool) {
  return {
    async insert (row: NewModuleRow, observed: ModuleObservations = {}): Promise<ModuleRow> {
      return prisma.processingModule.create({ data: { ...row, ...observationData(observed), minimalBalance: decimal(row.minimalBalance) } })
    },

    /** Records what eNom said (check outcome, identity, balance) without touching the version: an
     * admin's ETag must not go stale because a balance was read. */
    async observe (id: string, observed: ModuleObservations, tx: Sql = pool): Promise<void> {
      const values: unknown[] = [id]
      const sets = assignments(OBSERVED, observed, values)
      if (sets.length > 0) await query(tx, `UPDATE processing_module SET ${sets.join(', ')} WHERE id = $1::uuid`, values)
    },

    /** Enabled, not deleted modules (the balance dashboard and the scheduled checks). */
    async listActive (): Promise<ModuleRow[]> {
      return prisma.processingModule.findMany({ where: { enabled: true, deletedAt: null }, orderBy: [{ sort: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] })
    },

    async findById (id: string): Promise<ModuleRow | null> {
      const row = (await runPrepared<Record<string, unknown>>(pool, FIND_BY_ID.name, FIND_BY_ID.text, [id]))[0]
      return row ? toModel(MODULE_SHAPE, row) : null
    },

    /** In the order BILLmanager picks modules: lowest sort first, then creation order. */
    async list (filter: ModuleFilter, page: { limit: number, offset: number }): Promise<{ items: ModuleRow[], total: number }> {
      const w = where(filter)
      const [items, total] = await prisma.$transaction([
        prisma.processingModule.findMany({ where: w, orderBy: [{ sort: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }], take: page.limit, skip: page.offset }),
        prisma.processingModule.count({ where: w })
      ])
      return { items, total }
    },

    /**
     * Applies changes only if the row still has `expectedVersion` (optimistic concurrency).
     * Returns the updated row, or null when the version moved on (or the row is gone).
     */
    async updateIfVersion (id: string, expectedVersion: number, changes: ModuleChanges & { deletedAt?: Date }): Promise<ModuleRow | null> {
      const { minimalBalance, balance, availableBalance, ...rest } = changes
      const result = await prisma.processingModule.updateMany({
        where: { id, version: expectedVersion },
        data: {
          ...rest,
          ...observationData({ ...(balance !== undefined ? { balance } : {}), ...(availableBalance !== undefined ? { availableBalance } : {}) }),
          ...(minimalBalance !== undefined ? { minimalBalance: decimal(minimalBalance) } : {}),
          version: { increment: 1 },
          updatedAt: new Date()
        }
      })
      if (result.count === 0) return null
      return prisma.processingModule.findUnique({ where: { id } })
    }
  }
}

export type ModuleRepository = ReturnType<typeof createModuleRepository>
