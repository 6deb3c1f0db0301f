// Everything the simulated eNom knows: accounts, certificate orders, fault rules, the ledger and
// the CA. The public methods mirror the control API (/_sim/...); the rest serve the commands.
import { randomInt } from 'node:crypto'
import { CERT_STATUS, CERT_STATUS_TEXT, type Product } from '../enom/families.js'
import {
  SimulatorInputError, createAccount, patchAccount, viewAccount,
  type Account, type AccountInput, type AccountPatch, type AccountView
} from './accounts.js'
import { SimulatorCa, type CaPems } from './ca.js'
import { advance, dnsNamesOf, type CertRecord } from './certs.js'
import { viewCert, type CertView } from './cert-view.js'
import { FaultStore, type Fault, type FaultInput } from './faults.js'
import { Ledger, type LedgerEntry, type LedgerFilter } from './ledger.js'

export interface StateOptions {
  accounts: readonly AccountInput[]
  defaultIssueDelayMs: number
}

export class SimulatorState {
  readonly defaultIssueDelayMs: number
  readonly #initialAccounts: readonly AccountInput[]
  readonly #accounts = new Map<string, Account>()
  readonly #certs = new Map<number, CertRecord>()
  /** The same orders per account (uid as created), so that listing one account costs its own orders only. */
  readonly #certsByAccount = new Map<string, CertRecord[]>()
  readonly #faults = new FaultStore()
  readonly #ledger = new Ledger()
  readonly #ca = new SimulatorCa()
  // eNom's ids are large, increasing integers; random bases keep tests from hard-coding them.
  #nextCertId = randomInt(100_000, 800_000)
  #nextOrderId = randomInt(160_000_000, 170_000_000)

  constructor (options: StateOptions) {
    this.defaultIssueDelayMs = options.defaultIssueDelayMs
    this.#initialAccounts = options.accounts
    this.reset()
    this.#ca.warmUp()
  }

  // ---- control surface -------------------------------------------------------------------

  addAccount (input: AccountInput): AccountView {
    if (this.#accounts.has(input.uid.toLowerCase())) throw new SimulatorInputError(`account ${input.uid} exists`, 409)
    const account = createAccount(input, this.defaultIssueDelayMs)
    this.#accounts.set(account.uid.toLowerCase(), account)
    return viewAccount(account)
  }

  updateAccount (uid: string, patch: AccountPatch): AccountView {
    const account = this.findAccount(uid)
    if (!account) throw new SimulatorInputError(`no account ${uid}`, 404)
    patchAccount(account, patch)
    return viewAccount(account)
  }

  account (uid: string): AccountView | undefined {
    const account = this.findAccount(uid)
    return account && viewAccount(account)
  }

  accounts (): AccountView[] {
    return [...this.#accounts.values()].map(viewAccount)
  }

  addFault (input: FaultInput): Fault {
    return this.#faults.add(input)
  }

  faults (): Fault[] {
    return this.#faults.list()
  }

  removeFault (id: number): boolean {
    return this.#faults.remove(id)
  }

  clearFaults (): void {
    this.#faults.clear()
  }

  ledger (filter?: LedgerFilter): LedgerEntry[] {
    return this.#ledger.list(filter)
  }

  clearLedger (): void {
    this.#ledger.clear()
  }

  /** Orders (of one account, or all), brought up to date, oldest first. */
  async certs (uid?: string): Promise<CertView[]> {
    const list = [...this.#certs.values()].filter((c) => uid === undefined || c.uid.toLowerCase() === uid.toLowerCase())
    await Promise.all(list.map((c) => this.refresh(c)))
    return list.map(viewCert)
  }

  async cert (certId: number): Promise<CertView | undefined> {
    const cert = this.#certs.get(certId)
    return cert && viewCert(await this.refresh(cert))
  }

  /**
   * Puts an order in a status and keeps it there (no further automatic progress) until the client
   * acts on it again. Status 4 issues the certificate at once, which needs a configured CSR.
   */
  async setCertStatus (certId: number, statusId: number): Promise<CertView> {
    const cert = this.#certs.get(certId)
    if (!cert) throw new SimulatorInputError(`no certificate ${certId}`, 404)
    if (!(statusId in CERT_STATUS_TEXT)) throw new SimulatorInputError(`unknown status id ${statusId}`)
    await this.refresh(cert)
    if (statusId === CERT_STATUS.ISSUED && !cert.config) {
      throw new SimulatorInputError(`certificate ${certId} has no CSR yet; configure it before issuing`, 409)
    }
    cert.statusId = statusId
    cert.frozen = true
    return viewCert(await this.refresh(cert))
  }

  ca (): Promise<CaPems> {
    return this.#ca.pems()
  }

  /** Back to the start-up accounts; no orders, faults or ledger entries. The CA is kept. */
  reset (): void {
    this.#accounts.clear()
    this.#certs.clear()
    this.#certsByAccount.clear()
    this.#faults.clear()
    this.#ledger.clear()
    for (const input of this.#initialAccounts) this.addAccount(input)
  }

  // ---- used by the interface route and the commands ---------------------------------------

  /** eNom login ids are not case-sensitive. */
  findAccount (uid: string): Account | undefined {
    return this.#accounts.get(uid.toLowerCase())
  }

  takeFault (uid: string, commands: readonly string[]): Fault | undefined {
    return this.#faults.take(uid, commands)
  }

  record (entry: Omit<LedgerEntry, 'seq'>): LedgerEntry {
    return this.#ledger.record(entry)
  }

  chainPem (): Promise<string> {
    return this.#ca.chainPem()
  }

  createCert (account: Account, product: Product, years: number, amountCents: bigint): CertRecord {
    const cert: CertRecord = {
      certId: this.#nextCertId++,
      orderId: (this.#nextOrderId += randomInt(1, 8)),
      orderDetailId: randomInt(180_000_000, 190_000_000),
      uid: account.uid,
      product,
      years,
      amountCents,
      orderedAt: new Date(),
      statusId: CERT_STATUS.AWAITING_CONFIGURATION,
      frozen: false,
      issueDelayMs: account.issueDelayMs
    }
    this.#certs.set(cert.certId, cert)
    const own = this.#certsByAccount.get(cert.uid)
    if (own) own.push(cert)
    else this.#certsByAccount.set(cert.uid, [cert])
    return cert
  }

  /** The account's order, up to date; undefined for unknown ids and other accounts' orders. */
  async certOf (account: Account, certId: number): Promise<CertRecord | undefined> {
    const cert = this.#certs.get(certId)
    if (!cert || cert.uid !== account.uid) return undefined
    return this.refresh(cert)
  }

  async certsOf (account: Account): Promise<CertRecord[]> {
    const list = [...(this.#certsByAccount.get(account.uid) ?? [])]
    // Most orders have nothing due: only those with work (an issuance, say) are waited for.
    const now = Date.now()
    const due = list.filter((c) => c.issuing !== undefined || advance(c, now) !== undefined)
    if (due.length > 0) await Promise.all(due.map((c) => this.refresh(c)))
    return list
  }

  /** Applies due status changes and waits for any issuance they call for. */
  async refresh (cert: CertRecord): Promise<CertRecord> {
    for (;;) {
      if (cert.issuing) {
        await cert.issuing
        continue
      }
      const work = advance(cert, Date.now())
      if (!work) return cert
      const job = work === 'issue' ? this.#issue(cert) : this.#reissue(cert)
      cert.issuing = job.finally(() => { cert.issuing = undefined })
    }
  }

  async #issue (cert: CertRecord): Promise<void> {
    const csr = cert.config?.csr
    if (!csr) return
    const at = cert.submission?.issueAt ?? Date.now()
    cert.issued = await this.#ca.issue({
      publicKey: csr.publicKey,
      commonName: csr.commonName,
      dnsNames: dnsNamesOf(cert, csr),
      organization: cert.product.validation === 'DV' ? undefined : csr.organization || undefined,
      notBefore: new Date(Math.min(at, Date.now())),
      days: cert.years * 365
    })
  }

  async #reissue (cert: CertRecord): Promise<void> {
    const request = cert.reissue
    if (!request || !cert.config) return
    const csr = request.csr
    const issued = await this.#ca.issue({
      publicKey: csr.publicKey,
      commonName: csr.commonName,
      dnsNames: dnsNamesOf(cert, csr),
      organization: cert.product.validation === 'DV' ? undefined : csr.organization || undefined,
      notBefore: new Date(Math.min(request.readyAt, Date.now())),
      days: cert.years * 365
    })
    cert.config.csr = csr
    cert.issued = issued
    request.done = true
  }
}
