// Looking for secrets where they must never be: in each text, every secret raw, URL-encoded and
// base64-encoded (standard and URL alphabets, at each of the three alignments, so that a secret
// inside a longer base64 text is found too).
export interface Finding {
  secret: string
  form: string
  where: string
}

function base64Forms (secret: string): string[] {
  const forms = new Set<string>()
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.from('\0'.repeat(pad) + secret, 'utf8').toString('base64')
    // Drop the characters that depend on the padding bytes or on what follows the secret.
    const start = Math.ceil((pad * 4) / 3)
    const core = encoded.slice(start, Math.max(start, encoded.length - 4))
    if (core.length >= 8) {
      forms.add(core)
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'))
    }
  }
  return [...forms]
}

export function scanForSecrets (secrets: Record<string, string>, corpora: Record<string, string>): Finding[] {
  const findings: Finding[] = []
  for (const [name, secret] of Object.entries(secrets)) {
    if (secret.length < 6) throw new Error(`secret ${name} is too short to scan for reliably`)
    const forms: Array<[string, string]> = [['raw', secret], ['url-encoded', encodeURIComponent(secret)], ...base64Forms(secret).map((f): [string, string] => ['base64', f])]
    for (const [where, text] of Object.entries(corpora)) {
      for (const [form, value] of forms) {
        if (text.includes(value)) findings.push({ secret: name, form, where })
      }
    }
  }
  return findings
}
