// The eNom account a module reaches. Purchases are judged per account: several modules (a live
// and a test one, say) may share it, and a certificate bought through one is seen by all.
import { createHash } from 'node:crypto'

/** The eNom account a module's credentials reach: the same origin and login id are the same account. */
export function accountKey (apiUrl: string, username: string): string {
  let origin = apiUrl
  try {
    origin = new URL(apiUrl).origin
  } catch { /* keep the text */ }
  return createHash('sha256').update(`${origin.toLowerCase()}\n${username.toLowerCase()}`).digest('hex').slice(0, 40)
}
