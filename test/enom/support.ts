// Helpers for the eNom client tests: fixtures, a collecting logger, and a tiny local HTTP server
// (real sockets, not the simulator) that records what it received.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { EnomLogger } from '../../src/enom/client.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/enom/', import.meta.url))

export function fixture (name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8')
}

export interface LogLine { level: 'debug' | 'info' | 'warn', obj: object, msg?: string }

export function collectingLogger (): EnomLogger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  return {
    lines,
    debug: (obj, msg) => { lines.push({ level: 'debug', obj, ...(msg !== undefined ? { msg } : {}) }) },
    info: (obj, msg) => { lines.push({ level: 'info', obj, ...(msg !== undefined ? { msg } : {}) }) },
    warn: (obj, msg) => { lines.push({ level: 'warn', obj, ...(msg !== undefined ? { msg } : {}) }) }
  }
}

export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  /** Parameters from the query string (GET) or the form body (POST). */
  params: URLSearchParams
}

export type Handler = (req: Received, res: ServerResponse, socket: Socket) => void

export interface TestServer {
  origin: string
  port: number
  received: Received[]
  /** Connections accepted, whether or not a request arrived on them. */
  connections: number
  close: () => Promise<void>
}

/** Starts an HTTP server on 127.0.0.1 with `handler`; it records every request it reads. */
export async function startServer (handler: Handler, opts: { server?: Server | HttpsServer, scheme?: 'http' | 'https' } = {}): Promise<TestServer> {
  const server = opts.server ?? createServer()
  const received: Received[] = []
  const sockets = new Set<Socket>()
  const state = { connections: 0 }
  server.on('connection', (s: Socket) => {
    state.connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const url = req.url ?? ''
      const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
      const r: Received = { method: req.method ?? '', url, headers: req.headers, body, params: new URLSearchParams(req.method === 'POST' ? body : query) }
      received.push(r)
      handler(r, res, req.socket)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const scheme = opts.scheme ?? 'http'
  return {
    origin: `${scheme}://127.0.0.1:${port}`,
    port,
    received,
    get connections () { return state.connections },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Answers every request with `body` as XML. */
export function xml (body: string): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' })
    res.end(body)
  }
}
