// After-sale commands, all keyed on CertID and all state-changing, so sent exactly once
// (enom-api.md §3.9): CertModifyOrder, CertReissueCert, CertResendApproverEmail,
// CertChangeApproverEmail, CertResendFulfillmentEmail. Reissue and resend-fulfillment examples
// lost their wrapper element in the docs copy, so each answer is read from its block when there
// is one and from the root otherwise.
import { Type, type Static } from 'typebox'
import { blockOf, CERT_ID, compact, defineCommand, Fields, requireText } from './define.js'
import { csrParam, EMAIL } from './params.js'

export interface CertIdInput { certId: string }

const certIdParam = (p: CertIdInput): Array<[string, string]> => [['CertID', requireText(p.certId, 'certId', CERT_ID)]]

export const ModifyOrderResultSchema = Type.Object({ certId: Type.String({ pattern: '^\\d+$' }) }, { additionalProperties: false })
export type ModifyOrderResult = Static<typeof ModifyOrderResultSchema>

export const certModifyOrder = defineCommand({
  name: 'CertModifyOrder',
  kind: 'write',
  params: certIdParam,
  output: ModifyOrderResultSchema,
  map: (root, input: CertIdInput) => ({ certId: new Fields(blockOf(root, 'CertModifyOrder')).str('CertID') ?? input.certId })
})

export const ReissueResultSchema = Type.Object({
  success: Type.Boolean(),
  message: Type.Optional(Type.String())
}, { additionalProperties: false })
export type ReissueResult = Static<typeof ReissueResultSchema>

export interface ReissueInput { certId: string, csr: string }

export const certReissueCert = defineCommand({
  name: 'CertReissueCert',
  kind: 'write',
  post: true,
  params: (p: ReissueInput) => [...certIdParam(p), ['CSR', csrParam(p.csr)]],
  output: ReissueResultSchema,
  map: (root) => {
    const f = new Fields(blockOf(root, 'CertReissueCert'))
    return compact({ success: f.bool('Success'), message: f.str('Message') })
  }
})

export const ApproverEmailResultSchema = Type.Object({
  success: Type.Boolean(),
  approverEmail: Type.Optional(Type.String())
}, { additionalProperties: false })
export type ApproverEmailResult = Static<typeof ApproverEmailResultSchema>

export const certResendApproverEmail = defineCommand({
  name: 'CertResendApproverEmail',
  kind: 'write',
  params: certIdParam,
  output: ApproverEmailResultSchema,
  map: (root) => {
    const f = new Fields(blockOf(root, 'CertResendApproverEmail'))
    return compact({ success: f.bool('Success'), approverEmail: f.str('ApproverEmail') })
  }
})

export interface ChangeApproverInput { certId: string, approverEmail: string }

export const certChangeApproverEmail = defineCommand({
  name: 'CertChangeApproverEmail',
  kind: 'write',
  params: (p: ChangeApproverInput) => [...certIdParam(p), ['ApproverEmail', requireText(p.approverEmail, 'approverEmail', EMAIL)]],
  output: ApproverEmailResultSchema,
  map: (root) => {
    const f = new Fields(blockOf(root, 'CertChangeApproverEmail'))
    return compact({ success: f.bool('Success'), approverEmail: f.str('ApproverEmail') })
  }
})

export const SuccessResultSchema = Type.Object({ success: Type.Boolean() }, { additionalProperties: false })
export type SuccessResult = Static<typeof SuccessResultSchema>

export const certResendFulfillmentEmail = defineCommand({
  name: 'CertResendFulfillmentEmail',
  kind: 'write',
  params: certIdParam,
  output: SuccessResultSchema,
  map: (root) => compact({ success: new Fields(blockOf(root, 'CertResendFulfillmentEmail')).bool('Success') })
})
