// The commands the simulator answers, found by any spelling (eNom's command values are
// case-insensitive: `certgetcerts`, `CertGetcerts`, ...).
import { checkLogin, getBalance } from './account.js'
import {
  certChangeApproverEmail, certModifyOrder, certReissueCert, certResendApproverEmail, certResendFulfillmentEmail
} from './after-sale.js'
import { getCerts, getProductPrice, purchaseServices } from './catalogue.js'
import { certConfigureCert } from './configure.js'
import type { Command } from './context.js'
import { certGetApproverEmail, certParseCsr } from './csr-commands.js'
import { certGetCertDetail } from './detail.js'
import { certGetCerts } from './list.js'
import { certPurchaseCert } from './purchase.js'

const COMMANDS: readonly Command[] = [
  getBalance, checkLogin, getCerts, getProductPrice, purchaseServices,
  certGetCerts, certGetCertDetail, certParseCsr, certConfigureCert, certGetApproverEmail,
  certPurchaseCert, certModifyOrder, certReissueCert, certResendApproverEmail,
  certChangeApproverEmail, certResendFulfillmentEmail
]

const BY_NAME = new Map(COMMANDS.map((c) => [c.name.toLowerCase(), c]))

export function findCommand (name: string): Command | undefined {
  return BY_NAME.get(name.trim().toLowerCase())
}

/** eNom's spelling of every command the simulator answers. */
export const COMMAND_NAMES = COMMANDS.map((c) => c.name)
