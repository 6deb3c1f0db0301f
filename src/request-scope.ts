// The request behind the code that is running, if any: events written during a request carry its
// id without every function passing it along. Set by plugins/request-context.ts; jobs have none.
import { AsyncLocalStorage } from 'node:async_hooks'

export interface RequestScope {
  requestId: string
  /** When the request arrived (ms since the epoch). */
  receivedAt: number
}

export const requestScope = new AsyncLocalStorage<RequestScope>()

export function currentRequestId (): string | undefined {
  return requestScope.getStore()?.requestId
}

/** When the request behind the running code arrived (ms since the epoch), if there is one. */
export function requestReceivedAt (): number | undefined {
  return requestScope.getStore()?.receivedAt
}
