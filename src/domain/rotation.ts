// Key rotation: every stored secret (module passwords, Encryption Everywhere private keys,
// webhook secrets) re-encrypted with the active key — the first of SECRETS_KEY — so that an old
// key can then be dropped. A row changed meanwhile is left for the next run, never overwritten.
import type { Prisma as PrismaClient } from '../db/database.js'
import { passwordAad } from './modules.js'
import { privateKeyAad } from './orders/sync.js'
import { SecretBox } from './secrets.js'
import { webhookSecretAad } from './webhooks.js'

export interface RotationReport {
  activeKeyId: string
  moduleSecrets: number
  orderPrivateKeys: number
  webhookSecrets: number
  alreadyCurrent: number
}

export async function rotateSecrets (prisma: PrismaClient, box: SecretBox): Promise<RotationReport> {
  const report: RotationReport = { activeKeyId: box.activeKeyId, moduleSecrets: 0, orderPrivateKeys: 0, webhookSecrets: 0, alreadyCurrent: 0 }
  const stale = (envelope: string) => {
    const current = SecretBox.keyIdOf(envelope) === box.activeKeyId
    if (current) report.alreadyCurrent++
    return !current
  }

  for (const m of await prisma.processingModule.findMany({ select: { id: true, passwordEnc: true } })) {
    if (!stale(m.passwordEnc)) continue
    const fresh = box.encrypt(box.decrypt(m.passwordEnc, passwordAad(m.id)), passwordAad(m.id))
    const { count } = await prisma.processingModule.updateMany({ where: { id: m.id, passwordEnc: m.passwordEnc }, data: { passwordEnc: fresh } })
    report.moduleSecrets += count
  }
  for (const o of await prisma.certificateOrder.findMany({ where: { privateKeyEnc: { not: null } }, select: { id: true, privateKeyEnc: true } })) {
    const old = o.privateKeyEnc as string
    if (!stale(old)) continue
    const fresh = box.encrypt(box.decrypt(old, privateKeyAad(o.id)), privateKeyAad(o.id))
    const { count } = await prisma.certificateOrder.updateMany({ where: { id: o.id, privateKeyEnc: old }, data: { privateKeyEnc: fresh } })
    report.orderPrivateKeys += count
  }
  for (const w of await prisma.webhookSubscription.findMany({ select: { id: true, secretEnc: true } })) {
    if (!stale(w.secretEnc)) continue
    const fresh = box.encrypt(box.decrypt(w.secretEnc, webhookSecretAad(w.id)), webhookSecretAad(w.id))
    const { count } = await prisma.webhookSubscription.updateMany({ where: { id: w.id, secretEnc: w.secretEnc }, data: { secretEnc: fresh } })
    report.webhookSecrets += count
  }
  return report
}
