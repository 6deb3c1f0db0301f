// Local CSR parsing: the checks configure and reissue apply, available on their own.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { parseCsr } from '../domain/csr.js'
import { problemResponse } from '../plugins/swagger.js'
import { DomainSchema } from '../schemas/orders.js'

const Nullable = Type.Union([Type.String(), Type.Null()])

const csrRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/csr/parse', {
    config: { permission: 'csr.parse' },
    schema: {
      tags: ['CSR'],
      operationId: 'parseCsr',
      summary: 'Parse and check a CSR locally (no eNom call)',
      description: 'Checks the PEM, the signature, the key (RSA ≥ 2048 bits or ECDSA P-256+), and — with domain — that the CN is that domain.',
      body: Type.Object({
        csr: Type.String({ minLength: 1, maxLength: 4500 }),
        domain: Type.Optional(DomainSchema)
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          commonName: Type.String(),
          sans: Type.Array(Type.String()),
          subject: Type.Object({ organization: Nullable, organizationalUnit: Nullable, locality: Nullable, state: Nullable, country: Nullable, email: Nullable }),
          keyType: Type.Enum(['RSA', 'EC']),
          keySize: Type.Integer(),
          signatureAlgorithm: Type.String(),
          signatureValid: Type.Literal(true)
        }),
        400: problemResponse('The CSR is invalid: CSR_MALFORMED, CSR_SIGNATURE_INVALID, CSR_WEAK_KEY, CSR_DOMAIN_MISMATCH, ...')
      }
    }
  }, async (request) => parseCsr(request.body.csr, request.body.domain ? { domain: request.body.domain } : {}))
}

export default csrRoutes
