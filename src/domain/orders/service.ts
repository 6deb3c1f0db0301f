// The order service: one object the routes and jobs call, composed of the operations in this folder.
import type { OrderFilter } from '../../db/order-repository.js'
import type { CreateOrder } from '../../schemas/orders.js'
import type { CallScope } from '../enom-gateway.js'
import {
  approverEmails, cancelConfiguration, certificatePem, changeApproverEmail, closeOrder, configureOrder, reissueOrder,
  renewOrder, resendApproverEmail, resendFulfillmentEmail
} from './actions.js'
import { assertAction, getOrder, orderView, type OrderDeps } from './context.js'
import { placeOrder } from './placement.js'
import { reconcileAttempt } from './reconcile.js'
import { syncOrder } from './sync.js'
import type { ConfigurationInput } from './validate.js'

export function createOrderService (deps: OrderDeps) {
  const place = (input: CreateOrder, caller: string, scope: CallScope, idempotencyKeyId?: string) =>
    placeOrder(deps, input, caller, scope, {
      ...(idempotencyKeyId ? { idempotencyKeyId } : {}),
      configure: (order, config) => configureOrder(deps, order.id, config, caller, scope)
    })

  return {
    view: orderView,
    get: (id: string) => getOrder(deps, id),
    list: (filter: OrderFilter, page: { limit: number, offset: number }) => deps.orders.list(filter, page),
    place,
    configure: (id: string, input: ConfigurationInput, caller: string, scope: CallScope) => configureOrder(deps, id, input, caller, scope),
    approverEmails: (id: string, scope: CallScope) => approverEmails(deps, id, scope),
    changeApproverEmail: (id: string, email: string, caller: string, scope: CallScope) => changeApproverEmail(deps, id, email, caller, scope),
    resendApproverEmail: (id: string, caller: string, scope: CallScope) => resendApproverEmail(deps, id, caller, scope),
    resendFulfillmentEmail: (id: string, caller: string, scope: CallScope) => resendFulfillmentEmail(deps, id, caller, scope),
    reissue: (id: string, csr: string, caller: string, scope: CallScope) => reissueOrder(deps, id, csr, caller, scope),
    cancelConfiguration: (id: string, caller: string, scope: CallScope) => cancelConfiguration(deps, id, caller, scope),
    close: (id: string, reason: string | undefined, caller: string, scope: CallScope) => closeOrder(deps, id, reason, caller, scope),
    renew: (id: string, caller: string, scope: CallScope, idempotencyKeyId?: string) =>
      renewOrder(deps, id, (input, renewalOf) => placeOrder(deps, input, caller, scope, { ...(idempotencyKeyId ? { idempotencyKeyId } : {}), renewalOf })),
    async sync (id: string, scope: CallScope) {
      assertAction(await getOrder(deps, id), 'sync')
      return (await syncOrder(deps, id, scope)).order
    },
    certificate: (id: string) => certificatePem(deps, id),
    reconcile: (attemptId: string, checks: number, scope: CallScope, stalledAfterMs: number) => reconcileAttempt(deps, attemptId, checks, scope, stalledAfterMs),
    syncForJob: (id: string, scope: CallScope) => syncOrder(deps, id, scope)
  }
}

export type OrderService = ReturnType<typeof createOrderService>
