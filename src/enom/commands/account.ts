// GetBalance and CheckLogin (enom-api.md §4): read-only, no parameters, flat answers.
import { Type, type Static } from 'typebox'
import { compact, defineCommand, Fields } from './define.js'
import { Money } from './common.js'

export const BalanceSchema = Type.Object({
  /** Balance; may be negative while availableBalance is positive. */
  balance: Money,
  /** What may be spent now; compare prices against this one. */
  availableBalance: Money,
  reseller: Type.Boolean(),
  domainCount: Type.Optional(Type.Integer({ minimum: 0 }))
}, { additionalProperties: false })
export type Balance = Static<typeof BalanceSchema>

export const getBalance = defineCommand({
  name: 'GetBalance',
  kind: 'read',
  params: (_input: void) => [],
  output: BalanceSchema,
  map: (root) => {
    const f = new Fields(root)
    return compact({
      balance: f.money('Balance'),
      availableBalance: f.money('AvailableBalance'),
      reseller: f.bool('Reseller'),
      domainCount: f.int('DomainCount')
    })
  }
})

export const LoginInfoSchema = Type.Object({
  partyId: Type.String({ minLength: 1 }),
  account: Type.String({ minLength: 1 }),
  reseller: Type.Boolean(),
  /** `000-00-0000` for a direct eNom account. */
  parentAccount: Type.Optional(Type.String())
}, { additionalProperties: false })
export type LoginInfo = Static<typeof LoginInfoSchema>

export const checkLogin = defineCommand({
  name: 'CheckLogin',
  kind: 'read',
  params: (_input: void) => [],
  output: LoginInfoSchema,
  map: (root) => {
    const f = new Fields(root)
    return compact({
      partyId: f.str('PartyID'),
      account: f.str('Account'),
      reseller: f.bool('Reseller'),
      parentAccount: f.str('ParentAccount')
    })
  }
})
