// eNom's response envelope (enom-api.md §2, §7): the command block, then the trailer every answer
// carries. Success and error answers share it; errors add `errors` and `responses`.
import { randomUUID } from 'node:crypto'
import type { EnomErr } from './errors.js'
import { usDateTime } from './format.js'
import { el, empty, node, renderNodes, renderTextLines, type XmlNode } from './xml.js'

/** How a command's answer starts; eNom's backends differ (some examples have no declaration). */
export interface ResponseStyle {
  declaration: 'utf8' | 'bare' | 'none'
  apiType: 'API' | 'API.NET'
}

export interface EnvelopeInput {
  /** The command as the caller sent it; echoed upper-case. */
  command: string
  body: readonly XmlNode[]
  errors: readonly EnomErr[]
  style: ResponseStyle
  execSeconds: number
  now: Date
}

const SERVER = 'ENOMSIM01'

function trailer (input: EnvelopeInput): XmlNode[] {
  const { errors, style } = input
  const nodes: XmlNode[] = [
    el('Command', input.command.toUpperCase()),
    el('APIType', style.apiType),
    el('Language', 'eng'),
    el('ErrCount', errors.length)
  ]
  if (errors.length > 0) nodes.push(node('errors', errors.map((e, i) => el(`Err${i + 1}`, e.text))))
  nodes.push(el('ResponseCount', errors.length))
  if (errors.length > 0) {
    nodes.push(node('responses', errors.map((e) => node('response', [
      el('ResponseNumber', e.number),
      el('ResponseString', e.string)
    ]))))
  }
  nodes.push(
    style.apiType === 'API.NET' ? el('MinPeriod', 1) : empty('MinPeriod'),
    el('MaxPeriod', 10),
    el('Server', SERVER),
    el('Site', 'eNom'),
    empty('IsLockable'),
    empty('IsRealTimeTLD'),
    el('TimeDifference', '+0.00'),
    el('ExecTime', input.execSeconds.toFixed(3)),
    el('Done', 'true'),
    el('TrackingKey', randomUUID()),
    el('RequestDateTime', usDateTime(input.now))
  )
  return nodes
}

const DECLARATIONS: Record<ResponseStyle['declaration'], string> = {
  utf8: '<?xml version="1.0" encoding="utf-8"?>\n',
  bare: '<?xml version="1.0" ?>\n',
  none: ''
}

export function renderXmlResponse (input: EnvelopeInput): string {
  const body = input.errors.length > 0 ? [] : input.body
  return `${DECLARATIONS[input.style.declaration]}<interface-response>\n` +
    `${renderNodes([...body, ...trailer(input)], 1)}\n</interface-response>\n`
}

/** eNom's default response type: `Name=value` lines (enom-api.md §2, F3/F4 text mode). */
export function renderTextResponse (input: EnvelopeInput): string {
  const lines = [';URL Interface', ';Encoding Type is utf-8']
  const { errors } = input
  if (errors.length === 0) lines.push(...renderTextLines(input.body))
  lines.push(`Command=${input.command.toUpperCase()}`, `ErrCount=${errors.length}`)
  errors.forEach((e, i) => lines.push(`Err${i + 1}=${e.text}`))
  lines.push(`ResponseCount=${errors.length}`)
  errors.forEach((e, i) => lines.push(`ResponseNumber${i + 1}=${e.number}`, `ResponseString${i + 1}=${e.string}`))
  lines.push(`Server=${SERVER}`, 'Site=eNom', `ExecTime=${input.execSeconds.toFixed(3)}`, 'Done=true')
  return lines.join('\r\n') + '\r\n'
}
