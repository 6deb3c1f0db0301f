// Routes that talk to eNom on a module's behalf: the connection check (saved or unsaved
// settings), balances, and the product catalogue.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { BalanceService, BalanceView } from '../domain/balance.js'
import type { ConnectionChecker, ConnectionSuccess } from '../domain/connection-check.js'
import { AppError } from '../domain/errors.js'
import type { ModuleService } from '../domain/modules.js'
import type { ProductService } from '../domain/products.js'
import { problemResponse } from '../plugins/swagger.js'
import { IdParamsSchema } from '../schemas/common.js'
import { BalanceListSchema, ConnectionResultSchema, ConnectionSettingsSchema, ProductListSchema, RefreshQuerySchema } from '../schemas/enom.js'
import { scopeOf } from './scope.js'

export interface EnomRoutesOptions {
  modules: ModuleService
  checker: ConnectionChecker
  balances: BalanceService
  products: ProductService
}

const connectionFailed = problemResponse('Cannot connect to the processing module (CONNECTION_FAILED): cause, detail and hints')
const enomFailed = (what: string) => problemResponse(`${what} could not be read from eNom and none is known (cause in the problem)`)

const result = (r: ConnectionSuccess) => ({
  ok: true as const,
  balance: r.balance,
  availableBalance: r.availableBalance,
  currency: r.currency,
  account: r.account,
  checkedAt: r.checkedAt.toISOString()
})

const enomRoutes: FastifyPluginAsyncTypebox<EnomRoutesOptions> = async (app, { modules, checker, balances, products }) => {
  app.post('/modules/check-connection', {
    config: { permission: 'modules.write' },
    schema: {
      tags: ['Modules'],
      operationId: 'checkConnection',
      summary: "Check unsaved settings against eNom (the wizard's last step)",
      body: ConnectionSettingsSchema,
      response: { 200: ConnectionResultSchema, 422: connectionFailed }
    }
  }, async (request) => result(await checker.check(request.body, scopeOf(request))))

  app.post('/modules/:id/check-connection', {
    config: { permission: 'modules.write', audit: 'module.connection_checked' },
    schema: {
      tags: ['Modules'],
      operationId: 'checkModuleConnection',
      summary: "Check a saved module's connection; the outcome is recorded on the module",
      params: IdParamsSchema,
      response: { 200: ConnectionResultSchema, 404: problemResponse('No such module'), 422: connectionFailed }
    }
  }, async (request) => result((await modules.checkSaved(request.params.id, scopeOf(request))).result))

  app.get('/modules/:id/balance', {
    config: { permission: 'balance.read' },
    schema: {
      tags: ['Balance'],
      operationId: 'getModuleBalance',
      summary: "A module's eNom balance (cached for BALANCE_TTL_SECONDS; refresh=true asks eNom)",
      params: IdParamsSchema,
      querystring: RefreshQuerySchema,
      response: { 200: Type.Ref('Balance'), 404: problemResponse('No such module'), 502: enomFailed('The balance'), 504: enomFailed('The balance') }
    }
  }, async (request) => {
    const id = request.params.id
    if (request.query.refresh) return balances.get(await modules.get(id), scopeOf(request), { refresh: true })
    return balances.answer(id, () => modules.get(id), scopeOf(request))
  })

  app.get('/balance', {
    config: { permission: 'balance.read' },
    schema: {
      tags: ['Balance'],
      operationId: 'listBalances',
      summary: 'The balance of every enabled module (the dashboard); one failing module never fails the others',
      querystring: RefreshQuerySchema,
      response: { 200: BalanceListSchema }
    }
  }, async (request) => {
    const rows = await modules.listActive()
    const settled = await Promise.allSettled(rows.map((row) => balances.get(row, scopeOf(request), { refresh: request.query.refresh ?? false })))
    const items: BalanceView[] = []
    const failures = []
    for (const [i, outcome] of settled.entries()) {
      const row = rows[i]!
      if (outcome.status === 'fulfilled') {
        items.push(outcome.value)
      } else {
        const err = outcome.reason
        const detail = err instanceof AppError ? { code: err.code, cause: String(err.extras.cause ?? 'unknown'), detail: err.detail ?? err.title } : { code: 'INTERNAL_ERROR', cause: 'unknown', detail: 'unexpected error' }
        if (!(err instanceof AppError)) request.log.error({ err, moduleId: row.id }, 'balance failed')
        failures.push({ moduleId: row.id, moduleName: row.name, error: detail })
      }
    }
    return { items, failures }
  })

  app.get('/modules/:id/products', {
    config: { permission: 'products.read' },
    schema: {
      tags: ['Products'],
      operationId: 'listModuleProducts',
      summary: "The module's certificate catalogue from eNom (GetCerts), with what each family allows",
      params: IdParamsSchema,
      querystring: RefreshQuerySchema,
      response: { 200: ProductListSchema, 404: problemResponse('No such module'), 502: enomFailed('The catalogue'), 504: enomFailed('The catalogue') }
    }
  }, async (request) => {
    const row = await modules.get(request.params.id)
    const catalogue = await products.list(row, scopeOf(request), { refresh: request.query.refresh ?? false })
    return { moduleId: row.id, fetchedAt: catalogue.fetchedAt.toISOString(), source: catalogue.source, items: catalogue.products }
  })
}

export default enomRoutes
