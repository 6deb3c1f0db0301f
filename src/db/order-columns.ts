// How orders and attempts are read and written with plain SQL (db/sql.ts), so that their rows come
// back as Prisma's model types. test/db/order-repository.test.ts holds the rows equal to Prisma's.
import type { CertificateOrder, OrderAttempt } from '../generated/prisma/client.js'
import { selectList, shapeOf, toModel, type Columns } from './sql.js'

// Each field's column, cast where pg and Prisma return different types, and the type a value
// written to it is cast to. test/db/order-repository.test.ts holds the rows equal to Prisma's.
export const ORDER_COLUMNS: Columns<CertificateOrder> = {
  id: ['id::text', 'uuid'],
  moduleId: ['module_id::text', 'uuid'],
  caller: ['caller', 'text'],
  serviceId: ['service_id', 'text'],
  environment: ['environment::text', '"ModuleEnvironment"'],
  productCode: ['product_code', 'text'],
  prodType: ['prod_type', 'int'],
  family: ['family', 'text'],
  years: ['years', 'int'],
  domain: ['domain', 'text'],
  sans: ['sans', 'text[]'],
  status: ['status::text', '"OrderStatus"'],
  enomStatusId: ['enom_status_id', 'int'],
  enomStatusText: ['enom_status_text', 'text'],
  enomStatusUnknown: ['enom_status_unknown', 'boolean'],
  reissueStatus: ['reissue_status', 'text'],
  enomCertId: ['enom_cert_id', 'text'],
  enomOrderId: ['enom_order_id', 'text'],
  amount: ['amount::text', 'numeric'],
  csr: ['csr', 'text'],
  webServerType: ['web_server_type', 'int'],
  approverEmail: ['approver_email', 'text'],
  dcvMethod: ['dcv_method', 'text'],
  dcv: ['dcv', 'jsonb'],
  contacts: ['contacts', 'jsonb'],
  approvers: ['approvers', 'text[]'],
  certificate: ['certificate', 'text'],
  chain: ['chain', 'text'],
  serialNumber: ['serial_number', 'text'],
  issuedAt: ['issued_at', 'timestamptz'],
  expiresAt: ['expires_at', 'timestamptz'],
  privateKeyEnc: ['private_key_enc', 'text'],
  renewalOfId: ['renewal_of_id::text', 'uuid'],
  errorCode: ['error_code', 'text'],
  errorDetail: ['error_detail', 'text'],
  closedAt: ['closed_at', 'timestamptz'],
  version: ['version', 'int'],
  createdAt: ['created_at', 'timestamptz'],
  updatedAt: ['updated_at', 'timestamptz']
}

export const ATTEMPT_COLUMNS: Columns<OrderAttempt> = {
  id: ['id::text', 'uuid'],
  orderId: ['order_id::text', 'uuid'],
  accountKey: ['account_key', 'text'],
  command: ['command', 'text'],
  state: ['state::text', '"AttemptState"'],
  snapshot: ['snapshot', 'jsonb'],
  result: ['result', 'jsonb'],
  errorCode: ['error_code', 'text'],
  errorDetail: ['error_detail', 'text'],
  caller: ['caller', 'text'],
  requestId: ['request_id', 'text'],
  startedAt: ['started_at', 'timestamptz'],
  finishedAt: ['finished_at', 'timestamptz']
}

export const ORDER_SHAPE = shapeOf<CertificateOrder>(ORDER_COLUMNS, ['amount'], ['sans', 'approvers'])
export const ATTEMPT_SHAPE = shapeOf<OrderAttempt>(ATTEMPT_COLUMNS, [])
export const ORDER_FIELDS = selectList(ORDER_SHAPE)
export const ATTEMPT_FIELDS = selectList(ATTEMPT_SHAPE)

export const toOrder = (row: Record<string, unknown>) => toModel(ORDER_SHAPE, row)
export const toAttempt = (row: Record<string, unknown>) => toModel(ATTEMPT_SHAPE, row)
