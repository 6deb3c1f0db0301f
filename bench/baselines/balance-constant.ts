// Baseline of scenario 3: GET /modules/:id/balance on the service's stack (bench/baselines/stack.ts)
// whose handler returns a constant: the balance view the service answers from its cache, made
// once at start-up. Env: API_TOKENS, PORT, HOST, LOG_LEVEL.
import { Type } from 'typebox'
import type { BalanceView } from '../../src/domain/balance.js'
import { IdParamsSchema } from '../../src/schemas/common.js'
import { RefreshQuerySchema } from '../../src/schemas/enom.js'
import { listen } from './common.js'
import { buildStack } from './stack.js'

const constant: BalanceView = {
  moduleId: '01970000-0000-7000-8000-000000000000',
  moduleName: 'bench-balance',
  environment: 'live',
  balance: '100000000.00',
  availableBalance: '100000000.00',
  currency: 'USD',
  minimalBalance: null,
  belowMinimal: false,
  fetchedAt: new Date().toISOString(),
  source: 'cache',
  stale: false,
  ageSeconds: 0
}

const { app, logger } = await buildStack()
app.get('/modules/:id/balance', {
  config: { permission: 'balance.read' },
  schema: { params: IdParamsSchema, querystring: RefreshQuerySchema, response: { 200: Type.Ref('Balance') } }
}, async () => constant)

await listen(app, logger)
