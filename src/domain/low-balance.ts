// The minimal balance: BILLmanager notifies the module's department when the available balance
// is below it. Here every balance read is checked, and one task is opened per crossing — when the
// balance goes below, not on every check while it stays there; going back above ends the crossing.
import type { Prisma as PrismaClient } from '../db/database.js'
import type { ModuleRepository, ModuleRow } from '../db/module-repository.js'
import { isBelowMinimal, type BalanceReading } from './balance.js'
import type { Events } from './events.js'
import type { TaskService } from './tasks.js'

export function createLowBalanceWatch (deps: { prisma: PrismaClient, moduleRepo: ModuleRepository, tasks: TaskService, events: Events }) {
  return async function note (row: ModuleRow, reading: BalanceReading): Promise<void> {
    const minimal = row.minimalBalance === null ? null : row.minimalBalance.toFixed(2)
    const below = isBelowMinimal(reading.availableBalance, minimal)
    // Above the minimum, the same write that records the reading ends any crossing.
    await deps.moduleRepo.observe(row.id, { balance: reading.balance, availableBalance: reading.availableBalance, balanceFetchedAt: reading.fetchedAt, ...(below ? {} : { lowBalanceSince: null }) })
    if (below) {
      await deps.prisma.$transaction(async (tx) => {
        // Only the instance whose update starts the crossing opens the task and tells the billing backend.
        const started = await tx.processingModule.updateMany({ where: { id: row.id, lowBalanceSince: null }, data: { lowBalanceSince: reading.fetchedAt } })
        if (started.count === 0) return
        await deps.events.emit(tx, {
          type: 'module.balance_below_minimal',
          moduleId: row.id,
          data: { moduleId: row.id, moduleName: row.name, availableBalance: reading.availableBalance, minimalBalance: minimal, policy: row.minimalBalancePolicy, currency: 'USD' }
        })
        await deps.tasks.open({
          department: row.department,
          moduleId: row.id,
          kind: 'low_balance',
          title: `eNom balance of module ${row.name} is below its minimal balance`,
          message: `The available balance is ${reading.availableBalance} USD; the module's minimal balance is ${minimal} USD` +
          (row.minimalBalancePolicy === 'block' ? ' (policy block: the module is kept out of selection for new orders until it is funded).' : '.'),
          action: 'Add funds to the eNom reseller account (or change the minimal balance).',
          dedupeKey: `low-balance:${row.id}:${reading.fetchedAt.toISOString()}`
        }, tx)
      })
    }
  }
}
