// Tasks for people.
import type { Prisma, Task } from '../generated/prisma/client.js'
import type { Prisma as PrismaClient } from './database.js'
import type { Tx } from './order-repository.js'

export type TaskRow = Task

export interface TaskFilter {
  department?: string
  status?: 'open' | 'resolved'
  moduleId?: string
  orderId?: string
}

export function createTaskRepository (prisma: PrismaClient) {
  return {
    /** Inserts a task unless one with the same dedupe key exists; returns the task either way. */
    async create (data: Prisma.TaskUncheckedCreateInput, tx: Tx = prisma): Promise<{ task: TaskRow, created: boolean }> {
      // ON CONFLICT DO NOTHING: a duplicate must not abort the caller's transaction.
      const { count } = await tx.task.createMany({ data: [data], skipDuplicates: true })
      const task = count > 0
        ? await tx.task.findUnique({ where: { id: data.id } })
        : await tx.task.findUnique({ where: { dedupeKey: data.dedupeKey as string } })
      return { task: task as TaskRow, created: count > 0 }
    },

    findById: (id: string) => prisma.task.findUnique({ where: { id } }),

    async list (filter: TaskFilter, page: { limit: number, offset: number }) {
      const where: Prisma.TaskWhereInput = {
        ...(filter.department ? { department: filter.department } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.moduleId ? { moduleId: filter.moduleId } : {}),
        ...(filter.orderId ? { orderId: filter.orderId } : {})
      }
      const [items, total] = await prisma.$transaction([
        prisma.task.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: page.limit, skip: page.offset }),
        prisma.task.count({ where })
      ])
      return { items, total }
    },

    /** Resolves an open task; null when it was not open (already resolved or missing). */
    async resolve (id: string, by: string, resolution: string | null, tx: Tx = prisma): Promise<TaskRow | null> {
      const result = await tx.task.updateMany({ where: { id, status: 'open' }, data: { status: 'resolved', resolvedBy: by, resolution, resolvedAt: new Date() } })
      return result.count === 0 ? null : tx.task.findUnique({ where: { id } })
    },

    async openCountsByDepartment (): Promise<Array<{ department: string, count: number }>> {
      const rows = await prisma.task.groupBy({ by: ['department'], where: { status: 'open' }, _count: { _all: true } })
      return rows.map((r) => ({ department: r.department, count: r._count._all }))
    }
  }
}

export type TaskRepository = ReturnType<typeof createTaskRepository>
