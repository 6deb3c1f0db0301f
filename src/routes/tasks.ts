// Tasks for the departments, and the purchase kill switch.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { PurchaseSwitch } from '../domain/purchases.js'
import { taskView, type TaskService } from '../domain/tasks.js'
import { problemResponse } from '../plugins/swagger.js'
import { DateTimeSchema, IdParamsSchema, PageSchema, PaginationQuery, UuidSchema, splitPage } from '../schemas/common.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const TaskSchema = Type.Object({
  id: UuidSchema,
  department: Type.String(),
  moduleId: Nullable(Type.String()),
  orderId: Nullable(Type.String()),
  kind: Type.String({ description: 'e.g. low_balance, insufficient_funds, purchase_absent, refund_needed, job_failed' }),
  title: Type.String(),
  message: Type.String({ description: 'What failed' }),
  lastError: Nullable(Type.String()),
  action: Type.String({ description: 'What the operator can do' }),
  status: Type.Enum(['open', 'resolved']),
  resolvedBy: Nullable(Type.String()),
  resolution: Nullable(Type.String()),
  createdAt: DateTimeSchema,
  resolvedAt: Nullable(DateTimeSchema)
}, { $id: 'Task', title: 'Task' })

const PauseStateSchema = Type.Object({
  paused: Type.Boolean(),
  reason: Nullable(Type.String()),
  by: Nullable(Type.String()),
  since: Nullable(DateTimeSchema)
})

export interface TaskRoutesOptions {
  tasks: TaskService
  purchases: PurchaseSwitch
}

const taskRoutes: FastifyPluginAsyncTypebox<TaskRoutesOptions> = async (app, { tasks, purchases }) => {
  app.get('/tasks', {
    config: { permission: 'tasks.read' },
    schema: {
      tags: ['Tasks'],
      operationId: 'listTasks',
      summary: 'Tasks for the departments (newest first)',
      querystring: Type.Object({
        department: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        status: Type.Optional(Type.Enum(['open', 'resolved'])),
        moduleId: Type.Optional(UuidSchema),
        orderId: Type.Optional(UuidSchema),
        ...PaginationQuery
      }, { additionalProperties: false }),
      response: { 200: PageSchema(Type.Ref('Task')) }
    }
  }, async (request) => {
    const { page: { limit, offset }, filter } = splitPage(request.query)
    const page = await tasks.list(filter, { limit, offset })
    return { items: page.items.map(taskView), total: page.total, limit, offset }
  })

  app.post('/tasks/:id/resolve', {
    config: { permission: 'tasks.resolve', audit: 'task.resolved' },
    schema: {
      tags: ['Tasks'],
      operationId: 'resolveTask',
      summary: 'Mark a task resolved',
      params: IdParamsSchema,
      body: Type.Optional(Type.Object({ resolution: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false })),
      response: { 200: Type.Ref('Task'), 404: problemResponse('No such task'), 409: problemResponse('Already resolved (TASK_ALREADY_RESOLVED)') }
    }
  }, async (request) => taskView(await tasks.resolve(request.params.id, request.caller?.name ?? 'unknown', request.body?.resolution ?? null)))

  app.get('/purchases/status', {
    config: { permission: 'orders.read' },
    schema: { tags: ['Purchases'], operationId: 'getPurchaseSwitch', summary: 'Whether purchases are paused', response: { 200: PauseStateSchema } }
  }, async () => purchases.state())

  app.post('/purchases/pause', {
    config: { permission: 'purchases.control', audit: 'purchases.paused' },
    schema: {
      tags: ['Purchases'],
      operationId: 'pausePurchases',
      summary: 'Kill switch: stop every money-spending eNom call (routes and jobs)',
      body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
      response: { 200: PauseStateSchema }
    }
  }, async (request) => purchases.pause(request.caller?.name ?? 'unknown', request.body?.reason ?? null))

  app.post('/purchases/resume', {
    config: { permission: 'purchases.control', audit: 'purchases.resumed' },
    schema: { tags: ['Purchases'], operationId: 'resumePurchases', summary: 'Allow purchases again', response: { 200: PauseStateSchema } }
  }, async (request) => purchases.resume(request.caller?.name ?? 'unknown'))
}

export default taskRoutes
