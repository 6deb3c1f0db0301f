// The eNom call audit rows.
import type { Prisma as PrismaClient } from './database.js'

export interface EnomCallRow {
  id: string
  moduleId: string | null
  orderId: string | null
  command: string
  startedAt: Date
  durationMs: number
  outcome: string
  responseNumber: string | null
  requestId: string | null
}

export function createEnomCallRepository (prisma: PrismaClient) {
  return {
    async insert (row: EnomCallRow): Promise<void> {
      await prisma.enomCall.create({ data: row })
    },

    async listForModule (moduleId: string, limit = 100): Promise<EnomCallRow[]> {
      return prisma.enomCall.findMany({ where: { moduleId }, orderBy: { startedAt: 'desc' }, take: limit })
    }
  }
}

export type EnomCallRepository = ReturnType<typeof createEnomCallRepository>
