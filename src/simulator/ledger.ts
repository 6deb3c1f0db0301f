// The ledger: every request to /interface.asp, in arrival order, with what became of it. Tests use
// it to tell "eNom never saw the purchase" from "eNom charged, but the answer was lost". Passwords
// are never part of an entry.
import type { FaultKind } from './faults.js'

export interface LedgerEntry {
  seq: number
  /** ISO time the request arrived. */
  at: string
  method: string
  /** eNom's spelling (e.g. `PurchaseServices`), or the raw value for an unknown command. */
  command: string
  uid: string
  ip: string
  outcome: 'ok' | 'error' | 'fault'
  /** ResponseNumber of the first error, when the command answered (or would have) with one. */
  errorNumber?: number
  fault?: FaultKind
  /** Whether the command ran against the account's state (read or change). */
  processed: boolean
  certId?: number
  orderId?: number
  /** Amount debited, decimal string. */
  amount?: string
}

export interface LedgerFilter {
  uid?: string
  command?: string
  /** Only entries after this sequence number. */
  sinceSeq?: number
}

export class Ledger {
  #entries: LedgerEntry[] = []
  #seq = 0

  record (entry: Omit<LedgerEntry, 'seq'>): LedgerEntry {
    const full = { seq: ++this.#seq, ...entry }
    this.#entries.push(full)
    return full
  }

  list (filter: LedgerFilter = {}): LedgerEntry[] {
    const uid = filter.uid?.toLowerCase()
    const command = filter.command?.toLowerCase()
    return this.#entries
      .filter((e) => (uid === undefined || e.uid.toLowerCase() === uid) &&
        (command === undefined || e.command.toLowerCase() === command) &&
        (filter.sinceSeq === undefined || e.seq > filter.sinceSeq))
      .map((e) => ({ ...e }))
  }

  /** Empties the ledger; sequence numbers keep counting so `sinceSeq` cursors stay valid. */
  clear (): void {
    this.#entries = []
  }
}
