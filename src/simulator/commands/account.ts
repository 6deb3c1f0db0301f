// GetBalance and CheckLogin (enom-api.md §4, F1/F2/F7): read-only, no parameters. Note the two
// spellings of the Reseller flag, `1` here and `True` in CheckLogin, as eNom sends them.
import { groupedAmount } from '../format.js'
import { el, node } from '../xml.js'
import { API, type Command } from './context.js'

// Domain prices of the reseller's price list; GetBalance lists them although nobody asks.
const DOMAIN_PRICES = [
  ['Price', '8.95'], ['COMPrice', '8.95'], ['NETPrice', '8.95'], ['ORGPrice', '8.95'],
  ['CCPrice', '24.95'], ['TVPrice', '39.95'], ['BZPrice', '24.95'], ['NUPrice', '24.95']
] as const

export const getBalance: Command = {
  name: 'GetBalance',
  style: API,
  run: async ({ account }) => ({
    body: [
      el('Reseller', 1),
      el('Balance', groupedAmount(account.balanceCents)),
      el('AvailableBalance', groupedAmount(account.availableCents)),
      ...DOMAIN_PRICES.map(([name, value]) => el(name, value)),
      el('DomainCount', 0)
    ]
  })
}

export const checkLogin: Command = {
  name: 'CheckLogin',
  style: { declaration: 'none', apiType: 'API' },
  run: async ({ account }) => ({
    body: [
      el('PartyID', account.partyId),
      el('Reseller', 'True'),
      el('ParentAccount', '000-00-0000'),
      el('IsETP', 1),
      el('SEOPartner', 'NA'),
      el('RSA', 'False'),
      el('SiteType', 'E'),
      node('AgreementStatus', [
        node('Agreement', [el('Type', 1), el('Description', 'ResellerAgreement')])
      ]),
      el('Account', account.account),
      el('CartItems', 0)
    ]
  })
}
