// eNom's `/interface.asp`: GET with a query string or POST with a form body, parameter names in
// any case. Checks credentials, then the caller's IP, then runs the command; applies any matching
// fault; records the request in the ledger. eNom errors are HTTP 200, as eNom sends them.
import { performance } from 'node:perf_hooks'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ipAllowed, normalizeIp } from './accounts.js'
import type { CommandResult, Params } from './commands/context.js'
import { findCommand } from './commands/registry.js'
import { renderTextResponse, renderXmlResponse, type ResponseStyle } from './envelope.js'
import { EnomError, enomErrors, type EnomErr } from './errors.js'
import { sendFault, sleep, type RenderedAnswer } from './fault-reply.js'
import { plainAmount } from './format.js'
import type { LedgerEntry } from './ledger.js'
import type { SimulatorState } from './state.js'

export interface InterfaceOptions { state: SimulatorState }

// Error answers in the captured examples come from eNom's .NET backend.
const ERROR_STYLE: ResponseStyle = { declaration: 'utf8', apiType: 'API.NET' }

function firstValue (value: unknown): string | undefined {
  if (Array.isArray(value)) return firstValue(value[0])
  return typeof value === 'string' ? value : undefined
}

/** Query and form parameters by lower-cased name; like ASP's Request(), the query string wins. */
function collectParams (request: FastifyRequest): Params {
  const params = new Map<string, string>()
  for (const source of [request.query, request.body]) {
    if (!source || typeof source !== 'object') continue
    for (const [key, raw] of Object.entries(source as Record<string, unknown>)) {
      const value = firstValue(raw)
      const name = key.toLowerCase()
      if (value !== undefined && !params.has(name)) params.set(name, value)
    }
  }
  return params
}

function parseForm (body: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(body)) {
    if (!(key in out)) out[key] = value
  }
  return out
}

interface Outcome {
  answer: RenderedAnswer
  errors: readonly EnomErr[]
  processed: boolean
  result?: CommandResult
}

async function execute (state: SimulatorState, params: Params, ip: string): Promise<Outcome> {
  const started = performance.now()
  const now = new Date()
  const rawCommand = params.get('command') ?? ''
  const command = findCommand(rawCommand)
  const account = state.findAccount(params.get('uid') ?? '')
  let errors: readonly EnomErr[] = []
  let result: CommandResult | undefined
  let processed = false
  if (!account || account.pw !== (params.get('pw') ?? '')) errors = [enomErrors.badLogin()]
  else if (!ipAllowed(account, ip)) errors = [enomErrors.ipNotAllowed(ip)]
  else if (!command) errors = [enomErrors.unknownCommand(rawCommand)]
  else {
    processed = true
    try {
      result = await command.run({ params, account, state, now })
    } catch (err) {
      if (!(err instanceof EnomError)) throw err
      errors = err.errs
    }
  }
  const input = {
    command: rawCommand,
    body: result?.body ?? [],
    errors,
    style: errors.length > 0 || !command ? ERROR_STYLE : command.style,
    execSeconds: (performance.now() - started) / 1000,
    now
  }
  const xml = (params.get('responsetype') ?? '').trim().toLowerCase() === 'xml'
  const answer = xml
    ? { body: renderXmlResponse(input), contentType: 'text/xml; charset=utf-8' }
    : { body: renderTextResponse(input), contentType: 'text/plain; charset=utf-8' }
  return { answer, errors, processed, result }
}

function ledgerFields (outcome: Outcome): Pick<LedgerEntry, 'processed' | 'errorNumber' | 'certId' | 'orderId' | 'amount'> {
  const { result, errors } = outcome
  return {
    processed: outcome.processed,
    ...(errors[0] ? { errorNumber: errors[0].number } : {}),
    ...(result?.certId !== undefined ? { certId: result.certId } : {}),
    ...(result?.orderId !== undefined ? { orderId: result.orderId } : {}),
    ...(result?.amountCents !== undefined ? { amount: plainAmount(result.amountCents) } : {})
  }
}

const interfaceRoutes: FastifyPluginAsync<InterfaceOptions> = async (app, { state }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseForm(body as string))
  })

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = collectParams(request)
    const rawCommand = params.get('command') ?? ''
    const uid = params.get('uid') ?? ''
    const ip = normalizeIp(request.socket.remoteAddress)
    const base = { at: new Date().toISOString(), method: request.method, command: findCommand(rawCommand)?.name ?? rawCommand, uid, ip }
    const fault = state.takeFault(uid, [base.command, rawCommand])

    if (fault?.phase === 'before') {
      if (fault.latencyMs) await sleep(fault.latencyMs)
      if (fault.kind !== 'latencyMs') {
        state.record({ ...base, outcome: 'fault', fault: fault.kind, processed: false })
        await sendFault(request, reply, fault)
        return reply
      }
    }
    let outcome: Outcome
    try {
      outcome = await execute(state, params, ip)
    } catch (err) {
      // A simulator bug: still in the ledger, then Fastify's 500, so a test cannot miss it.
      state.record({ ...base, outcome: 'error', processed: true })
      throw err
    }
    const result = outcome.errors.length > 0 ? 'error' : 'ok'
    // Recorded before any delay: the ledger shows what eNom did, even if the client gave up waiting.
    state.record({ ...base, outcome: fault ? 'fault' : result, ...(fault ? { fault: fault.kind } : {}), ...ledgerFields(outcome) })
    if (fault?.phase === 'after' && fault.latencyMs) await sleep(fault.latencyMs)
    if (fault) {
      await sendFault(request, reply, fault, outcome.answer)
      return reply
    }
    return reply.code(200).type(outcome.answer.contentType).send(outcome.answer.body)
  }

  // No automatic HEAD route: a HEAD would run the command (and could buy something).
  app.route({ method: ['GET', 'POST'], url: '/interface.asp', exposeHeadRoute: false, handler })
}

export default interfaceRoutes
