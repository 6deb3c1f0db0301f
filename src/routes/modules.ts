// Processing modules (admin API). Handlers validate through their schemas, call the module
// service, and map the result; the ETag is the module's version.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { moduleEtag, type ModuleService } from '../domain/modules.js'
import { IdParamsSchema, splitPage } from '../schemas/common.js'
import {
  CreateModuleSchema, IfMatchHeadersSchema, ModuleListQuerySchema, ModulePageSchema, UpdateModuleSchema
} from '../schemas/modules.js'
import { problemResponse } from '../plugins/swagger.js'
import { scopeOf } from './scope.js'

export interface ModuleRoutesOptions {
  modules: ModuleService
}

const tags = ['Modules']
const ModuleRef = Type.Ref('Module')

const moduleRoutes: FastifyPluginAsyncTypebox<ModuleRoutesOptions> = async (app, { modules }) => {
  app.post('/modules', {
    config: { permission: 'modules.write', audit: 'module.created' },
    schema: {
      tags,
      operationId: 'createModule',
      summary: 'Create a processing module (the wizard)',
      description: 'Runs the connection check first (unless checkConnection is false): a failed check saves nothing. ' +
        'The password is stored encrypted and never returned. The API URL must be one of the allowed eNom origins with the path /interface.asp.',
      body: CreateModuleSchema,
      response: {
        201: ModuleRef,
        409: problemResponse('A module with this name exists (MODULE_NAME_TAKEN)'),
        422: problemResponse('The API URL is not allowed (URL_NOT_ALLOWED), or the connection check failed (CONNECTION_FAILED: cause, detail, hints); nothing was saved')
      }
    }
  }, async (request, reply) => {
    const row = await modules.create(request.body, scopeOf(request))
    reply.code(201).header('etag', moduleEtag(row.version)).header('location', `/modules/${row.id}`)
    return modules.toView(row)
  })

  app.get('/modules', {
    config: { permission: 'modules.read' },
    schema: {
      tags,
      operationId: 'listModules',
      summary: 'List processing modules in selection order (sort, then creation)',
      querystring: ModuleListQuerySchema,
      response: { 200: ModulePageSchema }
    }
  }, async (request) => {
    const { page: { limit, offset }, filter } = splitPage(request.query)
    const page = await modules.list(filter, { limit, offset })
    return { items: page.items.map(modules.toView), total: page.total, limit, offset }
  })

  app.get('/modules/:id', {
    config: { permission: 'modules.read' },
    schema: {
      tags,
      operationId: 'getModule',
      summary: 'Read a processing module',
      params: IdParamsSchema,
      response: { 200: ModuleRef, 404: problemResponse('No such module') }
    }
  }, async (request, reply) => {
    const row = await modules.get(request.params.id)
    reply.header('etag', moduleEtag(row.version))
    return modules.toView(row)
  })

  app.patch('/modules/:id', {
    config: { permission: 'modules.write', audit: 'module.updated' },
    schema: {
      tags,
      operationId: 'updateModule',
      summary: 'Change a processing module (If-Match required)',
      description: 'Send If-Match with the ETag from the last read; a stale ETag is 412, a missing one 428. ' +
        'A new API URL, username or password is checked against eNom first; when the module has orders, it must reach the same eNom account.',
      params: IdParamsSchema,
      headers: IfMatchHeadersSchema,
      body: UpdateModuleSchema,
      response: {
        200: ModuleRef,
        404: problemResponse('No such module'),
        409: problemResponse('Name taken, module deleted, or new credentials reach another eNom account (ACCOUNT_MISMATCH)'),
        412: problemResponse('The ETag is stale (PRECONDITION_FAILED)'),
        422: problemResponse('The API URL is not allowed (URL_NOT_ALLOWED), or the new credentials failed the connection check (CONNECTION_FAILED)'),
        428: problemResponse('If-Match is missing (PRECONDITION_REQUIRED)')
      }
    }
  }, async (request, reply) => {
    const { after } = await modules.update(request.params.id, request.body, request.headers['if-match'], scopeOf(request))
    reply.header('etag', moduleEtag(after.version))
    return modules.toView(after)
  })

  app.delete('/modules/:id', {
    config: { permission: 'modules.write', audit: 'module.deleted' },
    schema: {
      tags,
      operationId: 'deleteModule',
      summary: 'Delete a processing module (it is disabled and kept for history)',
      params: IdParamsSchema,
      response: {
        200: ModuleRef,
        404: problemResponse('No such module'),
        409: problemResponse('The module still has orders that are not final (MODULE_HAS_OPEN_ORDERS)')
      }
    }
  }, async (request) => modules.toView(await modules.remove(request.params.id)))
}

export default moduleRoutes
