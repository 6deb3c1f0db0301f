// The simulator's own XML writer. It is deliberately independent of the eNom client's parser, so a
// shared mistake cannot make the two agree on something eNom never sends. Answers are built as a
// small tree first because the same tree is also rendered in eNom's Text response format.

export interface XmlNode {
  name: string
  attrs?: Readonly<Record<string, string>>
  /** Text content; undefined with no children renders a self-closing element. */
  text?: string
  /** eNom wraps some values (domain names, PEM blocks, contact fields) in CDATA. */
  cdata?: boolean
  children?: readonly XmlNode[]
}

export type XmlValue = string | number | bigint | boolean | null | undefined

// XML 1.0 forbids most C0 control characters even when escaped; user input (contact fields, CSR
// text) may carry them, and one stray byte would make the whole answer unparsable.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

function asText (value: XmlValue): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  return String(value).replace(FORBIDDEN, '')
}

export function escapeText (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function escapeAttr (text: string): string {
  return escapeText(text).replace(/"/g, '&quot;')
}

/** A CDATA section; a literal `]]>` in the value is split across two sections. */
export function cdataSection (text: string): string {
  return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`
}

/** An element holding text; null/undefined gives an empty element. */
export function el (name: string, value?: XmlValue): XmlNode {
  return { name, text: asText(value) ?? '' }
}

/** An element with no content at all, written `<Name/>` as eNom does for unset flags. */
export function empty (name: string): XmlNode {
  return { name }
}

export function cdata (name: string, value?: XmlValue): XmlNode {
  return { name, text: asText(value) ?? '', cdata: true }
}

export function node (name: string, children: readonly XmlNode[], attrs?: Record<string, string>): XmlNode {
  return attrs ? { name, children, attrs } : { name, children }
}

function renderAttrs (attrs: Readonly<Record<string, string>> | undefined): string {
  if (!attrs) return ''
  return Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('')
}

function renderNode (n: XmlNode, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth)
  const open = `${n.name}${renderAttrs(n.attrs)}`
  if (n.children && n.children.length > 0) {
    out.push(`${pad}<${open}>`)
    for (const child of n.children) renderNode(child, depth + 1, out)
    out.push(`${pad}</${n.name}>`)
  } else if (n.text === undefined && !n.children) {
    out.push(`${pad}<${open}/>`)
  } else {
    const body = n.cdata ? cdataSection(n.text ?? '') : escapeText(n.text ?? '')
    out.push(`${pad}<${open}>${body}</${n.name}>`)
  }
}

/** Renders nodes one per line, indented, the way eNom's pretty-printed answers look. */
export function renderNodes (nodes: readonly XmlNode[], depth = 0): string {
  const out: string[] = []
  for (const n of nodes) renderNode(n, depth, out)
  return out.join('\n')
}

/**
 * eNom's Text format: one `Name=value` line per leaf. Nested blocks are flattened; a name that
 * repeats gets a running number, as eNom numbers repeated values in that format.
 */
export function renderTextLines (nodes: readonly XmlNode[]): string[] {
  const leaves: Array<[string, string]> = []
  const walk = (list: readonly XmlNode[]) => {
    for (const n of list) {
      if (n.children && n.children.length > 0) walk(n.children)
      else leaves.push([n.name, (n.text ?? '').replace(/\r?\n/g, ' ')])
    }
  }
  walk(nodes)
  const counts = new Map<string, number>()
  for (const [name] of leaves) counts.set(name, (counts.get(name) ?? 0) + 1)
  const seen = new Map<string, number>()
  return leaves.map(([name, value]) => {
    if ((counts.get(name) ?? 0) < 2) return `${name}=${value}`
    const n = (seen.get(name) ?? 0) + 1
    seen.set(name, n)
    return `${name}${n}=${value}`
  })
}
