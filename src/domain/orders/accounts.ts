// The eNom account a module reaches. Purchases are judged per account: several modules (a live
// and a test one, say) may share it, and a certificate bought through one is seen by all.
import { hash } from 'node:crypto'

/** The eNom account a module's credentials reach: the same origin and login id are the same account. */
export function accountKey (apiUrl: string, username: string): string {
  const memo = `${apiUrl}\n${username}`
  let key = known.get(memo)
  if (key === undefined) {
    key = keyOf(apiUrl, username)
    // A bounded set in practice (one per module); the cap only guards against a runaway caller.
    if (known.size >= 10_000) known.clear()
    known.set(memo, key)
  }
  return key
}

const known = new Map<string, string>()

function keyOf (apiUrl: string, username: string): string {
  let origin = apiUrl
  try {
    origin = new URL(apiUrl).origin
  } catch { /* keep the text */ }
  return hash('sha256', `${origin.toLowerCase()}\n${username.toLowerCase()}`, 'hex').slice(0, 40)
}
