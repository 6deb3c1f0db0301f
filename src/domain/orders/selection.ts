// Which processing module takes an order: the one it names, if that module may take it, or
// BILLmanager's choice by sort (a task for the department when every candidate is held back).
import type { ModuleRow } from '../../db/module-repository.js'
import type { CreateOrder } from '../../schemas/orders.js'
import { isBelowMinimal } from '../balance.js'
import { badRequest, conflict } from '../errors.js'
import type { OrderDeps } from './context.js'

/** The module the order names, if it may take the order. */
export function namedModule (input: CreateOrder, row: ModuleRow | null): ModuleRow {
  if (!row || row.deletedAt) throw badRequest('MODULE_NOT_FOUND', `module ${input.moduleId} does not exist`, [{ field: 'body.moduleId', message: 'no such module' }])
  if (!row.enabled) throw conflict('MODULE_DISABLED', `module ${row.name} is disabled`, { moduleId: row.id })
  if (input.environment && row.environment !== input.environment) {
    throw badRequest('ENVIRONMENT_MISMATCH', `module ${row.name} is a ${row.environment} module`, [{ field: 'body.environment', message: `the module is ${row.environment}` }])
  }
  return row
}

/** BILLmanager's choice: enabled modules of the environment (and data center), lowest sort first. */
export async function chooseModule (deps: OrderDeps, input: CreateOrder): Promise<ModuleRow> {
  const environment = input.environment ?? 'live'
  if (input.moduleId) return namedModule(input, await deps.moduleRepo.findById(input.moduleId))
  const { items } = await deps.moduleRepo.list({ enabled: true, environment, ...(input.dataCenter ? { dataCenter: input.dataCenter } : {}) }, { limit: 200, offset: 0 })
  const chosen = items.find((m) => !(m.minimalBalancePolicy === 'block' && m.availableBalance !== null &&
    isBelowMinimal(m.availableBalance.toFixed(2), m.minimalBalance === null ? null : m.minimalBalance.toFixed(2))))
  if (chosen) return chosen
  const first = items[0]
  if (first) {
    await deps.tasks.open({
      department: first.department,
      moduleId: first.id,
      kind: 'no_module_available',
      title: `No processing module can take ${environment} orders${input.dataCenter ? ` in ${input.dataCenter}` : ''}`,
      message: `Every enabled ${environment} module is kept out of selection because its available balance is below its minimal balance (policy block). Orders are refused until one is funded.`,
      action: 'Add funds to the eNom account(s), or lower the minimal balance, or change the policy to notify.',
      dedupeKey: `no-module:${environment}:${input.dataCenter ?? '*'}:${new Date().toISOString().slice(0, 13)}`
    })
  }
  throw conflict('NO_MODULE_AVAILABLE', first
    ? `every enabled ${environment} module is below its minimal balance (policy block); a task went to department ${first.department}`
    : `no enabled ${environment} processing module${input.dataCenter ? ` in data center ${input.dataCenter}` : ''}`)
}
