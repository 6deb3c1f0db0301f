// Processing modules: the records the wizard creates, one per eNom account. The password is
// write-only: it is encrypted before it is stored, bound to the module's id, and never leaves.
import type { AllowedOrigin } from '../config.js'
import type { ModuleChanges, ModuleFilter, ModuleObservations, ModuleRepository, ModuleRow } from '../db/module-repository.js'
import { isUniqueViolation } from '../db/errors.js'
import type { CreateModule, ModuleView, UpdateModule } from '../schemas/modules.js'
import { ConnectionFailed, type ConnectionChecker, type ConnectionSuccess } from './connection-check.js'
import type { CallScope } from './enom-gateway.js'
import type { Prisma as PrismaClient } from '../db/database.js'
import type { Events } from './events.js'
import { AppError, conflict, notFound, preconditionFailed, preconditionRequired, unprocessable } from './errors.js'
import { newId } from './ids.js'
import { normalizeMoney } from './money.js'
import type { SecretBox } from './secrets.js'
import { checkApiUrl } from './url-policy.js'

export const passwordAad = (moduleId: string) => `processing_module:${moduleId}:password`

export interface ModuleServiceDeps {
  repo: ModuleRepository
  secrets: SecretBox
  allowedOrigins: readonly AllowedOrigin[]
  signupUrl: string
  /** Ids of the module's orders that are not final yet (they block deletion). */
  openOrderIds: (moduleId: string) => Promise<string[]>
  /** Whether the module has any order at all (new credentials must then reach the same account). */
  hasOrders: (moduleId: string) => Promise<boolean>
  checker: ConnectionChecker
  prisma: PrismaClient
  events: Events
  /** Called after a module changed (`credentials`: it now points at another eNom account), so caches drop it. */
  onChanged?: (moduleId: string, credentials: boolean) => void
}

/** What a successful connection check teaches about the module. */
function observationsOf (result: ConnectionSuccess): ModuleObservations {
  return {
    enomAccount: result.account,
    enomPartyId: result.partyId,
    lastCheckAt: result.checkedAt,
    lastCheckOk: true,
    lastCheckCause: null,
    lastCheckDetail: null,
    balance: result.balance,
    availableBalance: result.availableBalance,
    balanceFetchedAt: result.checkedAt
  }
}

/** Two CheckLogin identities are the same eNom account (PartyID when both have one). */
function sameAccount (a: { account?: string | null, partyId?: string | null }, b: { account: string, partyId: string }): boolean {
  if (a.partyId && b.partyId) return a.partyId.toLowerCase() === b.partyId.toLowerCase()
  return (a.account ?? '').toLowerCase() === b.account.toLowerCase()
}

/** A module's eNom credentials, decrypted for one call; for the eNom gateway only. */
export function moduleTarget (row: ModuleRow, secrets: SecretBox) {
  return Promise.resolve({ moduleId: row.id, apiUrl: row.apiUrl, uid: row.username, pw: secrets.decrypt(row.passwordEnc, passwordAad(row.id)) })
}

export function moduleEtag (version: number): string {
  return `"v${version}"`
}

/** RFC 9110 If-Match: `*` or a list of entity tags; weak tags never match. */
function ifMatchAccepts (header: string, version: number): boolean {
  if (header.trim() === '*') return true
  const wanted = moduleEtag(version)
  return header.split(',').map((t) => t.trim()).some((t) => t === wanted)
}

export function createModuleService (deps: ModuleServiceDeps) {
  function toView (row: ModuleRow): ModuleView {
    return {
      id: row.id,
      name: row.name,
      productType: 'ssl_certificate',
      handler: 'enom',
      dataCenter: row.dataCenter,
      department: row.department,
      sort: row.sort,
      minimalBalance: row.minimalBalance === null ? null : row.minimalBalance.toFixed(2),
      minimalBalancePolicy: row.minimalBalancePolicy,
      environment: row.environment,
      apiUrl: row.apiUrl,
      username: row.username,
      passwordSet: row.passwordEnc.length > 0,
      addNewClient: row.addNewClient,
      registrationUrl: row.addNewClient ? deps.signupUrl : null,
      enabled: row.enabled,
      enomAccount: row.enomAccount,
      lastCheck: row.lastCheckAt
        ? { at: row.lastCheckAt.toISOString(), ok: row.lastCheckOk ?? false, cause: row.lastCheckCause, detail: row.lastCheckDetail }
        : null,
      lastBalance: row.balance !== null && row.availableBalance !== null && row.balanceFetchedAt
        ? { balance: row.balance.toFixed(2), availableBalance: row.availableBalance.toFixed(2), fetchedAt: row.balanceFetchedAt.toISOString() }
        : null,
      deletedAt: row.deletedAt ? row.deletedAt.toISOString() : null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      version: row.version
    }
  }

  function checkedUrl (apiUrl: string) {
    const verdict = checkApiUrl(apiUrl, deps.allowedOrigins)
    if (!verdict.ok) {
      throw unprocessable('URL_NOT_ALLOWED', 'API URL not allowed', verdict.detail, { errors: [{ field: 'body.apiUrl', message: verdict.detail }] })
    }
    return verdict
  }

  async function getRow (id: string): Promise<ModuleRow> {
    const row = await deps.repo.findById(id)
    if (!row) throw notFound('module', id)
    return row
  }

  const nameTaken = (name: string) =>
    conflict('MODULE_NAME_TAKEN', `a module named "${name}" already exists (deleted modules keep their names)`, { errors: [{ field: 'body.name', message: 'is already taken' }] })

  /**
   * New credentials are checked against eNom before they are stored. When the module already has
   * orders, they must reach the same eNom account: the orders' certificates live there.
   */
  async function checkNewCredentials (before: ModuleRow, patch: UpdateModule, apiUrl: string, scope: CallScope): Promise<ModuleObservations> {
    const hasOrders = await deps.hasOrders(before.id)
    if (patch.checkConnection === false) {
      if (hasOrders) {
        throw conflict('CHECK_REQUIRED', 'this module has orders: new credentials must be checked against eNom (checkConnection cannot be false)')
      }
      return { enomAccount: null, enomPartyId: null }
    }
    const old = await moduleTarget(before, deps.secrets)
    const settings = { apiUrl, username: patch.username ?? before.username, password: patch.password ?? old.pw }
    const result = await deps.checker.check(settings, scope, before.id)
    if (hasOrders) {
      let expected: { account?: string | null, partyId?: string | null } = { account: before.enomAccount, partyId: before.enomPartyId }
      if (!expected.account && !expected.partyId) {
        // The module was saved without a check; learn the old account from the old credentials.
        const previous = await deps.checker.check({ apiUrl: old.apiUrl, username: old.uid, password: old.pw }, scope, before.id)
        expected = { account: previous.account, partyId: previous.partyId }
      }
      if (!sameAccount(expected, result)) {
        throw conflict('ACCOUNT_MISMATCH', `the new credentials reach eNom account ${result.account}, but this module's orders were placed with account ${expected.account ?? expected.partyId}; ` +
          'create a new module for another account')
      }
    }
    return observationsOf(result)
  }

  return {
    toView,

    /** The URL verdict for settings about to be used (connection check, create, update). */
    checkedUrl,

    /** Creates a module; unless `checkConnection` is false, only after eNom accepted its settings. */
    async create (input: CreateModule, scope: CallScope): Promise<ModuleRow> {
      const url = checkedUrl(input.apiUrl)
      const id = newId()
      const observed = input.checkConnection === false
        ? {}
        : observationsOf(await deps.checker.check({ apiUrl: url.url, username: input.username, password: input.password }, scope))
      try {
        return await deps.repo.insert({
          id,
          name: input.name,
          dataCenter: input.dataCenter,
          department: input.department,
          sort: input.sort,
          minimalBalance: input.minimalBalance == null ? null : normalizeMoney(input.minimalBalance),
          minimalBalancePolicy: input.minimalBalancePolicy ?? 'notify',
          environment: url.environment,
          apiUrl: url.url,
          username: input.username,
          passwordEnc: deps.secrets.encrypt(input.password, passwordAad(id)),
          addNewClient: input.addNewClient ?? false,
          enabled: input.enabled ?? true
        }, observed)
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(input.name)
        throw err
      }
    },

    get: getRow,

    list: (filter: ModuleFilter, page: { limit: number, offset: number }) => deps.repo.list(filter, page),

    listActive: () => deps.repo.listActive(),

    observe: (id: string, observed: ModuleObservations) => deps.repo.observe(id, observed),

    /** The wizard's check on a saved module; the outcome is recorded on the module. */
    async checkSaved (id: string, scope: CallScope): Promise<{ row: ModuleRow, result: ConnectionSuccess }> {
      const row = await getRow(id)
      const target = await moduleTarget(row, deps.secrets)
      try {
        const result = await deps.checker.check({ apiUrl: target.apiUrl, username: target.uid, password: target.pw }, scope, id)
        const observed = observationsOf(result)
        // The account identity is learnt once; a different account here is reported, not adopted.
        if (row.enomPartyId || row.enomAccount) {
          delete observed.enomAccount
          delete observed.enomPartyId
        }
        await deps.repo.observe(id, observed)
        return { row: await getRow(id), result }
      } catch (err) {
        if (err instanceof ConnectionFailed) {
          const failure = err
          await deps.prisma.$transaction(async (tx) => {
            await deps.repo.observe(id, { lastCheckAt: new Date(), lastCheckOk: false, lastCheckCause: failure.connectionCause, lastCheckDetail: (failure.detail ?? '').slice(0, 1000) }, tx)
            await deps.events.emit(tx, { type: 'module.connection_failed', moduleId: id, data: { moduleId: id, moduleName: row.name, cause: failure.connectionCause, detail: failure.detail ?? null } })
          })
        }
        throw err
      }
    },

    /**
     * Applies a PATCH. `ifMatch` is the caller's If-Match header; a missing one is 428 and a
     * stale one 412, so two admins editing at once cannot overwrite each other unseen.
     */
    async update (id: string, patch: UpdateModule, ifMatch: string | undefined, scope: CallScope): Promise<{ before: ModuleRow, after: ModuleRow }> {
      const before = await getRow(id)
      if (ifMatch === undefined) throw preconditionRequired(`send If-Match: ${moduleEtag(before.version)} (the module's ETag as last read)`)
      if (!ifMatchAccepts(ifMatch, before.version)) {
        throw preconditionFailed(`the module changed since it was read (its ETag is now ${moduleEtag(before.version)}); read it again`)
      }
      if (before.deletedAt) throw conflict('MODULE_DELETED', `module ${id} was deleted and cannot be changed`)
      const changes: ModuleChanges = {}
      if (patch.name !== undefined) changes.name = patch.name
      if (patch.dataCenter !== undefined) changes.dataCenter = patch.dataCenter
      if (patch.department !== undefined) changes.department = patch.department
      if (patch.sort !== undefined) changes.sort = patch.sort
      if (patch.minimalBalance !== undefined) changes.minimalBalance = patch.minimalBalance === null ? null : normalizeMoney(patch.minimalBalance)
      if (patch.minimalBalancePolicy !== undefined) changes.minimalBalancePolicy = patch.minimalBalancePolicy
      if (patch.apiUrl !== undefined) {
        const url = checkedUrl(patch.apiUrl)
        changes.apiUrl = url.url
        changes.environment = url.environment
      }
      if (patch.username !== undefined) changes.username = patch.username
      if (patch.password !== undefined) changes.passwordEnc = deps.secrets.encrypt(patch.password, passwordAad(id))
      if (patch.addNewClient !== undefined) changes.addNewClient = patch.addNewClient
      if (patch.enabled !== undefined) changes.enabled = patch.enabled
      const credentialsChange = (patch.apiUrl !== undefined && changes.apiUrl !== before.apiUrl) ||
        (patch.username !== undefined && patch.username !== before.username) || patch.password !== undefined
      if (credentialsChange) Object.assign(changes, await checkNewCredentials(before, patch, changes.apiUrl ?? before.apiUrl, scope))
      let after: ModuleRow | null
      try {
        after = await deps.repo.updateIfVersion(id, before.version, changes)
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(patch.name ?? before.name)
        throw err
      }
      if (!after) throw preconditionFailed('the module changed while this update was applied; read it again')
      deps.onChanged?.(id, credentialsChange)
      return { before, after }
    },

    /**
     * DELETE: refused while the module has orders that are not final; otherwise the module is
     * disabled and kept, so that its orders keep their module for history.
     */
    async remove (id: string): Promise<ModuleRow> {
      const row = await getRow(id)
      if (row.deletedAt) return row
      const open = await deps.openOrderIds(id)
      if (open.length > 0) {
        throw conflict('MODULE_HAS_OPEN_ORDERS', `module ${id} still has ${open.length} order(s) that are not final: ${open.slice(0, 20).join(', ')}`, { orderIds: open })
      }
      const after = await deps.repo.updateIfVersion(id, row.version, { enabled: false, deletedAt: new Date() })
      if (!after) throw new AppError(409, 'CONCURRENT_UPDATE', 'Conflict', 'the module changed while it was being deleted; retry')
      deps.onChanged?.(id, false)
      return after
    }
  }
}

export type ModuleService = ReturnType<typeof createModuleService>
