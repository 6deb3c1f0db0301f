// The control API under /_sim: JSON routes that let tests running the simulator as a separate
// process do what in-process tests do through SimulatorState. No authentication: the simulator is
// a test tool and listens on loopback by default. Schemas are plain JSON Schema checked by
// Fastify's own Ajv: importing TypeBox would double the simulator's start-up time.
import type { FastifyPluginAsync } from 'fastify'
import { SimulatorInputError, type AccountInput, type AccountPatch } from './accounts.js'
import type { FaultInput } from './faults.js'
import type { LedgerFilter } from './ledger.js'
import type { SimulatorState } from './state.js'

export interface ControlOptions { state: SimulatorState }

const str = { type: 'string' } as const
const bool = { type: 'boolean' } as const
const int = (minimum?: number, maximum?: number) => ({
  type: 'integer',
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum })
})
const amount = { anyOf: [{ type: 'string' }, { type: 'number' }] }
const ips = { type: 'array', items: str }
const object = (properties: Record<string, object>, required: string[] = []) =>
  ({ type: 'object', properties, required, additionalProperties: false })

const AccountInputSchema = object({
  uid: { type: 'string', minLength: 1 },
  pw: { type: 'string', minLength: 1 },
  balance: amount,
  availableBalance: amount,
  allowedIps: ips,
  partyId: str,
  account: str,
  issueDelayMs: int(0),
  omitCertIdInPurchase: bool
}, ['uid', 'pw'])

const AccountPatchSchema = object({
  pw: { type: 'string', minLength: 1 },
  balance: amount,
  availableBalance: amount,
  allowedIps: ips,
  issueDelayMs: int(0),
  omitCertIdInPurchase: bool
})

const FaultInputSchema = object({
  uid: str,
  command: str,
  times: int(1),
  latencyMs: int(0),
  phase: { enum: ['before', 'after'] },
  httpStatus: int(400, 599),
  redirect: { type: 'string', minLength: 1 },
  truncate: bool,
  resetBeforeProcessing: bool,
  resetAfterProcessing: bool,
  malformedXml: bool,
  htmlPage: bool,
  slowBodyMs: int(1),
  chunkBytes: int(1)
})

const UidParams = object({ uid: str }, ['uid'])
const CertParams = object({ certId: int() }, ['certId'])
const IdParams = object({ id: int() }, ['id'])
const LedgerQuery = object({ uid: str, command: str, sinceSeq: int() })
const CertsQuery = object({ uid: str })
const StatusBody = object({ statusId: int() }, ['statusId'])

const controlRoutes: FastifyPluginAsync<ControlOptions> = async (app, { state }) => {
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof SimulatorInputError) return reply.code(err.statusCode).send({ error: err.message })
    const e = err as { validation?: unknown, statusCode?: number, message?: string }
    if (e.validation || (e.statusCode && e.statusCode < 500)) return reply.code(e.statusCode ?? 400).send({ error: e.message })
    reply.log.error({ err }, 'simulator control API failure')
    return reply.code(500).send({ error: 'internal error' })
  })

  const notFound = (what: string) => new SimulatorInputError(`${what} not found`, 404)

  app.get('/health', async () => ({ status: 'ok' }))

  app.post('/reset', async (_request, reply) => {
    state.reset()
    return reply.code(204).send()
  })

  app.get('/accounts', async () => state.accounts())
  app.post<{ Body: AccountInput }>('/accounts', { schema: { body: AccountInputSchema } }, async (request, reply) =>
    reply.code(201).send(state.addAccount(request.body)))
  app.get<{ Params: { uid: string } }>('/accounts/:uid', { schema: { params: UidParams } }, async (request) => {
    const account = state.account(request.params.uid)
    if (!account) throw notFound(`account ${request.params.uid}`)
    return account
  })
  app.patch<{ Params: { uid: string }, Body: AccountPatch }>('/accounts/:uid', { schema: { params: UidParams, body: AccountPatchSchema } }, async (request) =>
    state.updateAccount(request.params.uid, request.body))

  app.get('/faults', async () => state.faults())
  app.post<{ Body: FaultInput }>('/faults', { schema: { body: FaultInputSchema } }, async (request, reply) =>
    reply.code(201).send(state.addFault(request.body)))
  app.delete('/faults', async (_request, reply) => {
    state.clearFaults()
    return reply.code(204).send()
  })
  app.delete<{ Params: { id: number } }>('/faults/:id', { schema: { params: IdParams } }, async (request, reply) => {
    if (!state.removeFault(request.params.id)) throw notFound(`fault ${request.params.id}`)
    return reply.code(204).send()
  })

  app.get<{ Querystring: LedgerFilter }>('/ledger', { schema: { querystring: LedgerQuery } }, async (request) => state.ledger(request.query))
  app.delete('/ledger', async (_request, reply) => {
    state.clearLedger()
    return reply.code(204).send()
  })

  app.get<{ Querystring: { uid?: string } }>('/certs', { schema: { querystring: CertsQuery } }, async (request) => state.certs(request.query.uid))
  app.get<{ Params: { certId: number } }>('/certs/:certId', { schema: { params: CertParams } }, async (request) => {
    const cert = await state.cert(request.params.certId)
    if (!cert) throw notFound(`certificate ${request.params.certId}`)
    return cert
  })
  app.post<{ Params: { certId: number }, Body: { statusId: number } }>('/certs/:certId/status', { schema: { params: CertParams, body: StatusBody } }, async (request) =>
    state.setCertStatus(request.params.certId, request.body.statusId))

  app.get('/ca', async () => state.ca())
}

export default controlRoutes
