// Processing-module rows. Plain objects in and out; money leaves as decimal strings.
import { Prisma, type ProcessingModule } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import type { Tx } from './order-repository.js'

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

export function createModuleRepository (prisma: PrismaClient) {
  return {
    async insert (row: NewModuleRow, observed: ModuleObservations = {}): Promise<ModuleRow> {
      return prisma.processingModule.create({ data: { ...row, ...observationData(observed), minimalBalance: decimal(row.minimalBalance) } })
    },

    /** Records what eNom said (check outcome, identity, balance) without touching the version: an
     * admin's ETag must not go stale because a balance was read. */
    async observe (id: string, observed: ModuleObservations, tx: Tx = prisma): Promise<void> {
      await tx.processingModule.updateMany({ where: { id }, data: observationData(observed) })
    },

    /** Enabled, not deleted modules (the balance dashboard and the scheduled checks). */
    async listActive (): Promise<ModuleRow[]> {
      return prisma.processingModule.findMany({ where: { enabled: true, deletedAt: null }, orderBy: [{ sort: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] })
    },

    async findById (id: string): Promise<ModuleRow | null> {
      return prisma.processingModule.findUnique({ where: { id } })
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
