// The service's one door to eNom: binds a module's credentials to a call of the eNom client and
// writes the call's audit row (module, command, duration, outcome, response number — never
// credentials, URLs or payloads). The client itself knows nothing of modules or databases.
import type { CallContext, EnomClient, EnomCredentials, EnomLogger } from '../enom/client.js'
import { isEnomError } from '../enom/errors.js'
import type { EnomCallRepository } from '../db/enom-call-repository.js'
import { newId } from './ids.js'

export interface EnomTarget {
  moduleId?: string
  orderId?: string
  apiUrl: string
  uid: string
  pw: string
}

/** Where a call comes from: the request's logger (so lines carry its id) and the request id. */
export interface CallScope {
  log?: EnomLogger
  requestId?: string
  signal?: AbortSignal
  /** When the request behind the call arrived (ms since the epoch); none for jobs. */
  receivedAt?: number
}

export type EnomCall<T> = (client: EnomClient, credentials: EnomCredentials, context: CallContext) => Promise<T>

export function createEnomGateway (deps: { client: EnomClient, calls: EnomCallRepository, log: EnomLogger, onCall?: (command: string, outcome: string, durationMs: number) => void }) {
  function record (target: EnomTarget, command: string, startedAt: Date, outcome: string, responseNumber: string | undefined, scope: CallScope) {
    deps.onCall?.(command, outcome, Date.now() - startedAt.getTime())
    deps.calls.insert({
      id: newId(),
      moduleId: target.moduleId ?? null,
      orderId: target.orderId ?? null,
      command,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      outcome,
      responseNumber: responseNumber ?? null,
      requestId: scope.requestId ?? null
    })
  }

  return {
    client: deps.client,

    async call<T> (target: EnomTarget, command: string, scope: CallScope, fn: EnomCall<T>): Promise<T> {
      const startedAt = new Date()
      const context: CallContext = { ...(scope.log ? { log: scope.log } : {}), ...(scope.signal ? { signal: scope.signal } : {}) }
      try {
        const result = await fn(deps.client, { apiUrl: target.apiUrl, uid: target.uid, pw: target.pw }, context)
        record(target, command, startedAt, 'ok', undefined, scope)
        return result
      } catch (err) {
        const outcome = isEnomError(err) ? err.reason : 'unknown'
        record(target, command, startedAt, outcome, isEnomError(err) ? err.responseNumbers[0] : undefined, scope)
        throw err
      }
    }
  }
}

export type EnomGateway = ReturnType<typeof createEnomGateway>
