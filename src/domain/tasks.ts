// Tasks: when an operation cannot finish by itself (attempts spent, money at stake, eNom refusing
// the account), a task goes to the department of the processing module, saying what failed, for
// which order or module, the last error, and what the operator can do.
import type { Prisma as PrismaClient } from '../db/database.js'
import type { Tx } from '../db/order-repository.js'
import type { Events } from './events.js'
import type { TaskRepository, TaskRow } from '../db/task-repository.js'
import { conflict, notFound } from './errors.js'
import { newId } from './ids.js'

export interface NewTask {
  department: string
  moduleId?: string | null
  orderId?: string | null
  kind: string
  title: string
  message: string
  lastError?: string | null
  action: string
  /** One task per occurrence: a second task with the same key is not created. */
  dedupeKey?: string
}

export interface TaskView {
  id: string
  department: string
  moduleId: string | null
  orderId: string | null
  kind: string
  title: string
  message: string
  lastError: string | null
  action: string
  status: 'open' | 'resolved'
  resolvedBy: string | null
  resolution: string | null
  createdAt: string
  resolvedAt: string | null
}

export function taskView (t: TaskRow): TaskView {
  return {
    id: t.id,
    department: t.department,
    moduleId: t.moduleId,
    orderId: t.orderId,
    kind: t.kind,
    title: t.title,
    message: t.message,
    lastError: t.lastError,
    action: t.action,
    status: t.status,
    resolvedBy: t.resolvedBy,
    resolution: t.resolution,
    createdAt: t.createdAt.toISOString(),
    resolvedAt: t.resolvedAt ? t.resolvedAt.toISOString() : null
  }
}

export interface TaskServiceDeps {
  repo: TaskRepository
  prisma: PrismaClient
  events: Events
}

function eventData (t: TaskRow) {
  return { taskId: t.id, department: t.department, moduleId: t.moduleId, orderId: t.orderId, kind: t.kind, title: t.title, status: t.status }
}

export function createTaskService (deps: TaskServiceDeps) {
  return {
    /** Opens a task (unless its dedupe key exists), with its task.created event, in one transaction. */
    async open (task: NewTask, tx?: Tx): Promise<TaskRow> {
      if (!tx) return deps.prisma.$transaction((t) => this.open(task, t))
      const { task: row, created } = await deps.repo.create({
        id: newId(),
        department: task.department,
        moduleId: task.moduleId ?? null,
        orderId: task.orderId ?? null,
        kind: task.kind,
        title: task.title.slice(0, 300),
        message: task.message.slice(0, 4000),
        lastError: task.lastError ? task.lastError.slice(0, 2000) : null,
        action: task.action.slice(0, 2000),
        dedupeKey: task.dedupeKey ?? null
      }, tx)
      if (created) await deps.events.emit(tx, { type: 'task.created', orderId: row.orderId, moduleId: row.moduleId, data: eventData(row) })
      return row
    },

    list: deps.repo.list,

    async resolve (id: string, by: string, resolution: string | null): Promise<TaskRow> {
      const resolved = await deps.prisma.$transaction(async (tx) => {
        const row = await deps.repo.resolve(id, by, resolution, tx)
        if (row) await deps.events.emit(tx, { type: 'task.resolved', orderId: row.orderId, moduleId: row.moduleId, data: { ...eventData(row), resolvedBy: by, resolution } })
        return row
      })
      if (resolved) return resolved
      const existing = await deps.repo.findById(id)
      if (!existing) throw notFound('task', id)
      throw conflict('TASK_ALREADY_RESOLVED', `task ${id} was resolved by ${existing.resolvedBy ?? 'someone'} at ${existing.resolvedAt?.toISOString() ?? 'an earlier time'}`)
    }
  }
}

export type TaskService = ReturnType<typeof createTaskService>
