// Fault injection: rules that make the next matching request(s) fail the way networks and eNom's
// front end do. A rule matches by account uid and/or command; the first matching rule wins and
// counts down its `times`. Each rule has one kind (latency may accompany any kind).
import { SimulatorInputError } from './accounts.js'

export const FAULT_KINDS = [
  'httpStatus', 'redirect', 'truncate', 'resetBeforeProcessing', 'resetAfterProcessing',
  'malformedXml', 'htmlPage', 'slowBodyMs'
] as const

export type FaultKind = typeof FAULT_KINDS[number] | 'latencyMs'

export interface FaultInput {
  /** Only requests with this uid (case-insensitive); any when absent. */
  uid?: string
  /** Only this command (any spelling, case-insensitive); any when absent. */
  command?: string
  /** How many matching requests to affect; unlimited when absent. */
  times?: number
  /** Delay the answer by this much. */
  latencyMs?: number
  /**
   * `before`: the fault happens before the command runs (nothing processed);
   * `after`: the command runs (a purchase is debited), then the fault replaces the answer.
   * Defaults: `after` for latencyMs, `before` for httpStatus, redirect and htmlPage. The other
   * kinds have a fixed phase.
   */
  phase?: 'before' | 'after'
  /** Answer with this HTTP status (e.g. 500, 503) and an HTML error page. */
  httpStatus?: number
  /** Answer 302 with this Location. */
  redirect?: string
  /** A complete HTTP response whose XML stops half-way (no Done, no closing root). */
  truncate?: boolean
  /** Destroy the socket on arrival; nothing processed. */
  resetBeforeProcessing?: boolean
  /** Process the command, then destroy the socket without answering. */
  resetAfterProcessing?: boolean
  /** HTTP 200 with XML that is not well-formed. */
  malformedXml?: boolean
  /** HTTP 200 with an HTML error page instead of XML. */
  htmlPage?: boolean
  /** Send headers, then the body in small chunks with this pause between them. */
  slowBodyMs?: number
  /** Chunk size for slowBodyMs (default 64 bytes). */
  chunkBytes?: number
}

export interface Fault extends FaultInput {
  id: number
  kind: FaultKind
  phase: 'before' | 'after'
  /** Matching requests still to affect; null = unlimited. */
  remaining: number | null
  hits: number
}

const FIXED_PHASE: Partial<Record<FaultKind, 'before' | 'after'>> = {
  resetBeforeProcessing: 'before',
  resetAfterProcessing: 'after',
  truncate: 'after',
  malformedXml: 'after',
  slowBodyMs: 'after'
}

function positiveInt (value: number | undefined, field: string, min = 1): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new SimulatorInputError(`${field} must be an integer >= ${min}`)
  }
}

function kindOf (input: FaultInput): FaultKind {
  const kinds = FAULT_KINDS.filter((k) => input[k] !== undefined && input[k] !== false)
  if (kinds.length > 1) throw new SimulatorInputError(`a fault has one kind; got ${kinds.join(', ')}`)
  const kind = kinds[0] ?? (input.latencyMs !== undefined ? 'latencyMs' : undefined)
  if (!kind) throw new SimulatorInputError(`a fault needs one of latencyMs, ${FAULT_KINDS.join(', ')}`)
  return kind
}

export function validateFault (input: FaultInput): { kind: FaultKind, phase: 'before' | 'after' } {
  positiveInt(input.times, 'times')
  positiveInt(input.latencyMs, 'latencyMs', 0)
  positiveInt(input.slowBodyMs, 'slowBodyMs')
  positiveInt(input.chunkBytes, 'chunkBytes')
  if (input.httpStatus !== undefined && (!Number.isInteger(input.httpStatus) || input.httpStatus < 400 || input.httpStatus > 599)) {
    throw new SimulatorInputError('httpStatus must be 400-599')
  }
  if (input.redirect !== undefined && !input.redirect) throw new SimulatorInputError('redirect needs a Location')
  const kind = kindOf(input)
  const fixed = FIXED_PHASE[kind]
  if (fixed && input.phase && input.phase !== fixed) throw new SimulatorInputError(`${kind} always happens ${fixed} processing`)
  const phase = fixed ?? input.phase ?? (kind === 'latencyMs' ? 'after' : 'before')
  return { kind, phase }
}

export class FaultStore {
  #faults: Fault[] = []
  #nextId = 1

  add (input: FaultInput): Fault {
    const { kind, phase } = validateFault(input)
    const fault: Fault = { ...input, id: this.#nextId++, kind, phase, remaining: input.times ?? null, hits: 0 }
    this.#faults.push(fault)
    return { ...fault }
  }

  list (): Fault[] {
    return this.#faults.map((f) => ({ ...f }))
  }

  remove (id: number): boolean {
    const before = this.#faults.length
    this.#faults = this.#faults.filter((f) => f.id !== id)
    return this.#faults.length !== before
  }

  clear (): void {
    this.#faults = []
  }

  /** The first rule matching this request, counted as used. */
  take (uid: string, commands: readonly string[]): Fault | undefined {
    const u = uid.toLowerCase()
    const names = commands.map((c) => c.toLowerCase())
    const fault = this.#faults.find((f) =>
      (f.uid === undefined || f.uid.toLowerCase() === u) &&
      (f.command === undefined || names.includes(f.command.toLowerCase())))
    if (!fault) return undefined
    fault.hits++
    if (fault.remaining !== null) {
      fault.remaining--
      if (fault.remaining <= 0) this.remove(fault.id)
    }
    return { ...fault }
  }
}
