// The eNom client: builds each command's request, sends it through the SSRF-guarded transport,
// reads the envelope, classifies failures, retries read-only commands only, and reports one log
// line and one CallEvent per attempt. Money-spending and state-changing commands are sent exactly
// once; whether to try again is the caller's decision, made from EnomError.delivery
// (STYLE.md §7, enom-api.md §6 and §8).
//
// Credentials travel in the query string (GET) or the form body (POST), so neither the URL nor
// the parameters are ever logged, put in an error or handed to onCall.
import type { LookupFunction } from 'node:net'
import type { Static, TSchema } from 'typebox'
import { checkLogin, getBalance, type Balance, type LoginInfo } from './commands/account.js'
import { certChangeApproverEmail, certModifyOrder, certReissueCert, certResendApproverEmail, certResendFulfillmentEmail, type ApproverEmailResult, type ModifyOrderResult, type ReissueResult, type SuccessResult } from './commands/after-sale.js'
import { getCerts, getProductPrice, purchaseServices, type CertCatalogue, type ProductPrice, type ProductPriceInput, type PurchaseInput, type PurchaseResult } from './commands/catalogue.js'
import { certGetCertDetail, certGetCerts, type CertDetail, type CertDetailInput, type CertList, type CertListInput } from './commands/certs.js'
import type { CsrData } from './commands/common.js'
import { certConfigureCert, certGetApproverEmail, certParseCsr, certPurchaseCert, type ApproverInput, type ApproverList, type ConfigureInput, type ConfigureResult, type ParseCsrInput, type PurchaseCertInput, type PurchaseCertResult } from './commands/configure.js'
import { readAnswer, toEnomError } from './answer.js'
import { InputError, type Command } from './commands/define.js'
import { describeFailure, EnomError, type EnomOutcome } from './errors.js'
import { checkApiUrl, ENOM_PATH, normaliseAllowedOrigins, type AllowedEnomOrigin } from './guard.js'
import { Transport } from './transport.js'

export type { AllowedEnomOrigin } from './guard.js'
export { EnomError } from './errors.js'
export type { EnomCause, EnomDelivery, EnomOutcome } from './errors.js'
export type * from './commands/account.js'
export type * from './commands/after-sale.js'
export type * from './commands/catalogue.js'
export type * from './commands/certs.js'
export type * from './commands/common.js'
export type * from './commands/configure.js'
export type { Contact, UccDomain } from './commands/params.js'
export { BalanceSchema, LoginInfoSchema } from './commands/account.js'
export { ApproverEmailResultSchema, ModifyOrderResultSchema, ReissueResultSchema, SuccessResultSchema } from './commands/after-sale.js'
export { CertCatalogueSchema, ProductPriceSchema, PurchaseResultSchema } from './commands/catalogue.js'
export { CertDetailSchema, CertListSchema } from './commands/certs.js'
export { ApproverSchema, CsrDataSchema, Money as MoneySchema } from './commands/common.js'
export { ApproverListSchema, ConfigureResultSchema, PurchaseCertResultSchema } from './commands/configure.js'
export { ContactSchema } from './commands/params.js'

export interface EnomCredentials {
  /** e.g. https://reseller.enom.com/interface.asp */
  apiUrl: string
  uid: string
  /** Password or API token. */
  pw: string
}

export interface EnomLogger {
  debug (o: object, m?: string): void
  info (o: object, m?: string): void
  warn (o: object, m?: string): void
}

export interface CallContext {
  /** The caller's (request) logger, so eNom timings carry its request id. */
  log?: EnomLogger
  signal?: AbortSignal
}

/** One per attempt. Carries no credentials, URL or parameters. */
export interface CallEvent {
  command: string
  /** Scheme, host and port only. */
  origin: string
  durationMs: number
  outcome: EnomOutcome
  responseNumber?: string
  attempt: number
}

export interface EnomClientOptions {
  allowedOrigins: AllowedEnomOrigin[]
  /** Read-only and state-changing commands; default 15 000 (ENOM_TIMEOUT_MS). */
  timeoutMs?: number
  /** PurchaseServices and CertPurchaseCert; default 100 000 (ENOM_PURCHASE_TIMEOUT_MS). */
  purchaseTimeoutMs?: number
  /** TCP + TLS connect, DNS included; default 5 000. */
  connectTimeoutMs?: number
  /** Longest silence between two body chunks; default 10 000 (never more than the call's timeout). */
  bodyTimeoutMs?: number
  /** Default 2 MiB; a larger answer is malformed_response. */
  maxResponseBytes?: number
  /** Read-only commands only: total tries (default 3), exponential backoff with full jitter. */
  retry?: { attempts: number, baseDelayMs: number, maxDelayMs?: number }
  /** node:dns lookup-compatible; every address it returns is checked before connecting. */
  lookup?: LookupFunction
  onCall?: (event: CallEvent) => void
  log?: EnomLogger
}

const COMMANDS = [
  getBalance, checkLogin, getCerts, getProductPrice, purchaseServices, certGetCerts, certGetCertDetail,
  certParseCsr, certConfigureCert, certGetApproverEmail, certPurchaseCert, certModifyOrder, certReissueCert,
  certResendApproverEmail, certChangeApproverEmail, certResendFulfillmentEmail
] as const

/** Commands that change nothing at eNom: the only ones the client retries. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(COMMANDS.filter((c) => c.kind === 'read').map((c) => c.name))
/** Commands that spend money: sent once, with purchaseTimeoutMs. */
export const MONEY_COMMANDS: ReadonlySet<string> = new Set(COMMANDS.filter((c) => c.kind === 'money').map((c) => c.name))
/** Commands that change a certificate's state without spending: sent once. */
export const STATE_CHANGING_COMMANDS: ReadonlySet<string> = new Set(COMMANDS.filter((c) => c.kind === 'write').map((c) => c.name))

function isAborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

export class EnomClient {
  private readonly allowed: ReadonlyMap<string, AllowedEnomOrigin>
  private readonly transport: Transport
  private readonly timeoutMs: number
  private readonly purchaseTimeoutMs: number
  private readonly maxResponseBytes: number
  private readonly retry: { attempts: number, baseDelayMs: number, maxDelayMs: number }
  private readonly onCall: ((event: CallEvent) => void) | undefined
  private readonly log: EnomLogger | undefined

  constructor (options: EnomClientOptions) {
    this.allowed = normaliseAllowedOrigins(options.allowedOrigins)
    this.timeoutMs = options.timeoutMs ?? 15_000
    this.purchaseTimeoutMs = options.purchaseTimeoutMs ?? 100_000
    this.maxResponseBytes = options.maxResponseBytes ?? 2 * 1024 * 1024
    this.retry = {
      attempts: Math.max(1, Math.floor(options.retry?.attempts ?? 3)),
      baseDelayMs: options.retry?.baseDelayMs ?? 250,
      maxDelayMs: options.retry?.maxDelayMs ?? 5_000
    }
    this.onCall = options.onCall
    this.log = options.log
    this.transport = new Transport({
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
      maxResponseBytes: this.maxResponseBytes,
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {})
    })
  }

  getBalance (c: EnomCredentials, ctx?: CallContext): Promise<Balance> { return this.call(getBalance, c, undefined, ctx) }
  checkLogin (c: EnomCredentials, ctx?: CallContext): Promise<LoginInfo> { return this.call(checkLogin, c, undefined, ctx) }
  getCerts (c: EnomCredentials, ctx?: CallContext): Promise<CertCatalogue> { return this.call(getCerts, c, undefined, ctx) }
  getProductPrice (c: EnomCredentials, p: ProductPriceInput, ctx?: CallContext): Promise<ProductPrice> { return this.call(getProductPrice, c, p, ctx) }
  purchaseServices (c: EnomCredentials, p: PurchaseInput, ctx?: CallContext): Promise<PurchaseResult> { return this.call(purchaseServices, c, p, ctx) }
  certGetCerts (c: EnomCredentials, p: CertListInput, ctx?: CallContext): Promise<CertList> { return this.call(certGetCerts, c, p, ctx) }
  certGetCertDetail (c: EnomCredentials, p: CertDetailInput, ctx?: CallContext): Promise<CertDetail> { return this.call(certGetCertDetail, c, p, ctx) }
  certParseCsr (c: EnomCredentials, p: ParseCsrInput, ctx?: CallContext): Promise<CsrData> { return this.call(certParseCsr, c, p, ctx) }
  certConfigureCert (c: EnomCredentials, p: ConfigureInput, ctx?: CallContext): Promise<ConfigureResult> { return this.call(certConfigureCert, c, p, ctx) }
  certGetApproverEmail (c: EnomCredentials, p: ApproverInput, ctx?: CallContext): Promise<ApproverList> { return this.call(certGetApproverEmail, c, p, ctx) }
  certPurchaseCert (c: EnomCredentials, p: PurchaseCertInput, ctx?: CallContext): Promise<PurchaseCertResult> { return this.call(certPurchaseCert, c, p, ctx) }
  certModifyOrder (c: EnomCredentials, p: { certId: string }, ctx?: CallContext): Promise<ModifyOrderResult> { return this.call(certModifyOrder, c, p, ctx) }
  certReissueCert (c: EnomCredentials, p: { certId: string, csr: string }, ctx?: CallContext): Promise<ReissueResult> { return this.call(certReissueCert, c, p, ctx) }
  certResendApproverEmail (c: EnomCredentials, p: { certId: string }, ctx?: CallContext): Promise<ApproverEmailResult> { return this.call(certResendApproverEmail, c, p, ctx) }
  certChangeApproverEmail (c: EnomCredentials, p: { certId: string, approverEmail: string }, ctx?: CallContext): Promise<ApproverEmailResult> { return this.call(certChangeApproverEmail, c, p, ctx) }
  certResendFulfillmentEmail (c: EnomCredentials, p: { certId: string }, ctx?: CallContext): Promise<SuccessResult> { return this.call(certResendFulfillmentEmail, c, p, ctx) }

  /** Closes every connection pool; later calls fail with delivery not_sent. */
  /** Stops at once, failing the calls still in flight (shutdown past its grace period). */
  destroy (): Promise<void> {
    return this.transport.destroy()
  }

  close (): Promise<void> {
    return this.transport.close()
  }

  // A module's URL is judged the same way on every call (the allow-list is this client's): the
  // verdicts are kept, a bounded set. Addresses are still checked when each connection is made.
  private readonly verdicts = new Map<string, ReturnType<typeof checkApiUrl>>()

  private urlVerdict (apiUrl: string): ReturnType<typeof checkApiUrl> {
    let verdict = this.verdicts.get(apiUrl)
    if (verdict === undefined) {
      verdict = checkApiUrl(apiUrl, this.allowed)
      if (this.verdicts.size >= 1000) this.verdicts.clear()
      this.verdicts.set(apiUrl, verdict)
    }
    return verdict
  }

  private async call<I, S extends TSchema> (cmd: Command<I, S>, creds: EnomCredentials, input: I, ctx?: CallContext): Promise<Static<S>> {
    const readOnly = cmd.kind === 'read'
    const log = ctx?.log ?? this.log
    const secrets = [creds.pw, creds.uid].filter((s) => typeof s === 'string' && s.length > 0)
    const url = this.urlVerdict(creds.apiUrl)
    if (!url.ok) {
      throw this.report(cmd.name, url.origin, 1, 0, log, readOnly, new EnomError({
        reason: 'url_not_allowed', command: cmd.name, delivery: 'not_sent', message: describeFailure(cmd.name, 'url_not_allowed', url.detail)
      }))
    }
    let query: string
    try {
      if (typeof creds.uid !== 'string' || creds.uid.trim() === '' || typeof creds.pw !== 'string' || creds.pw === '') {
        throw new InputError('uid and pw must be non-empty')
      }
      query = new URLSearchParams([
        ['command', cmd.name], ['uid', creds.uid], ['pw', creds.pw], ['responsetype', 'xml'], ...cmd.params(input)
      ]).toString()
    } catch (e) {
      const detail = e instanceof InputError ? e.message : 'input could not be encoded'
      throw this.report(cmd.name, url.origin, 1, 0, log, readOnly, new EnomError({
        reason: 'validation', command: cmd.name, delivery: 'not_sent', message: describeFailure(cmd.name, 'validation', `refused before sending: ${detail}`)
      }))
    }
    const post = cmd.post(input)
    const maxAttempts = readOnly ? this.retry.attempts : 1
    for (let attempt = 1; ; attempt++) {
      const started = performance.now()
      try {
        const body = await this.transport.request({
          origin: url.origin,
          allowPrivate: url.allowPrivate,
          method: post ? 'POST' : 'GET',
          path: post ? ENOM_PATH : `${ENOM_PATH}?${query}`,
          ...(post ? { body: query } : {}),
          timeoutMs: cmd.kind === 'money' ? this.purchaseTimeoutMs : this.timeoutMs,
          idempotent: readOnly,
          ...(ctx?.signal !== undefined ? { signal: ctx.signal } : {})
        })
        const result = readAnswer(cmd, body, input, { maxBytes: this.maxResponseBytes, secrets })
        this.report(cmd.name, url.origin, attempt, performance.now() - started, log, readOnly)
        return result
      } catch (e) {
        const err = toEnomError(cmd.name, e, readOnly)
        this.report(cmd.name, url.origin, attempt, performance.now() - started, log, readOnly, err)
        if (attempt >= maxAttempts || !err.retryable || isAborted(ctx?.signal)) throw err
        const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1))
        await sleep(Math.random() * ceiling, ctx?.signal)
        if (isAborted(ctx?.signal)) throw err
      }
    }
  }

  /** One log line and one CallEvent per attempt; returns the error for `throw`. */
  private report (command: string, origin: string, attempt: number, elapsed: number, log: EnomLogger | undefined, readOnly: boolean): void
  private report (command: string, origin: string, attempt: number, elapsed: number, log: EnomLogger | undefined, readOnly: boolean, err: EnomError): EnomError
  private report (command: string, origin: string, attempt: number, elapsed: number, log: EnomLogger | undefined, readOnly: boolean, err?: EnomError): EnomError | undefined {
    const durationMs = Math.round(elapsed * 10) / 10
    const responseNumber = err?.responseNumbers[0]
    const event: CallEvent = {
      command,
      origin,
      durationMs,
      outcome: err === undefined ? 'ok' : err.reason,
      attempt,
      ...(responseNumber !== undefined ? { responseNumber } : {})
    }
    if (log !== undefined) {
      const line = {
        enomCommand: command,
        enomOrigin: origin,
        durationMs,
        outcome: event.outcome,
        attempt,
        ...(responseNumber !== undefined ? { responseNumber } : {}),
        ...(err !== undefined ? { code: err.code, delivery: err.delivery } : {}),
        ...(err?.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
        ...(err?.transportCode !== undefined ? { transportCode: err.transportCode } : {})
      }
      if (err === undefined && readOnly) log.debug(line, 'eNom call')
      else log.info(line, 'eNom call')
    }
    try {
      this.onCall?.(event)
    } catch {
      // A failing metrics hook must not turn a finished eNom call into a failure.
    }
    return err
  }
}
