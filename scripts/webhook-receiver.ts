// A webhook receiver for the offline demo: prints each event it gets, after checking its
// signature with the typed client's helper.
//   npx tsx scripts/webhook-receiver.ts [port] [secret]      (secret: from POST /webhooks)
import { createServer } from 'node:http'
import { verifyWebhook } from '../clients/typescript/src/index.js'

const port = Number(process.argv[2] ?? 9090)
const secret = process.argv[3] ?? process.env.WEBHOOK_SECRET ?? ''
createServer((req, res) => {
  let body = ''
  req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
  req.on('end', () => {
    try {
      const event = secret ? verifyWebhook(secret, req.headers['x-enom-ssl-signature'] as string | undefined, body) : JSON.parse(body)
      process.stdout.write(`${secret ? 'verified' : 'unverified (no secret given)'} ${event.type} ${event.id} ${JSON.stringify(event.data)}\n`)
      res.statusCode = 204
    } catch (err) {
      process.stdout.write(`refused a delivery: ${(err as Error).message}\n`)
      res.statusCode = 400
    }
    res.end()
  })
}).listen(port, '127.0.0.1', () => process.stdout.write(`webhook receiver on http://127.0.0.1:${port}/hook\n`))
