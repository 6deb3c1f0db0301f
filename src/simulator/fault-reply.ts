// How each fault kind reaches the client: broken sockets, wrong statuses, pages that are not XML,
// bodies cut short or sent slowly. Written against the raw socket where HTTP itself must misbehave.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Fault } from './faults.js'
import { escapeAttr } from './xml.js'

/** The answer the command produced, for faults that mangle it. */
export interface RenderedAnswer {
  body: string
  contentType: string
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function htmlPage (status: number, title: string): string {
  return '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n' +
    `<html xmlns="http://www.w3.org/1999/xhtml"><head><title>${status} - ${title}</title></head>\n` +
    `<body><div id="header"><h1>Server Error</h1></div><div id="content"><h2>${status} - ${title}</h2>\n` +
    '<h3>The page cannot be displayed because an internal server error has occurred.</h3></div></body></html>\n'
}

const STATUS_TITLES: Record<number, string> = {
  500: 'Internal server error.',
  502: 'Web server received an invalid response while acting as a gateway or proxy server.',
  503: 'Service Unavailable',
  504: 'Gateway Timeout'
}

/** Cut before `<Done>` (or `Done=`) and the closing root, so a client cannot take it as complete. */
export function truncateBody (body: string): string {
  const markers = ['<Done>', 'Done=', '</interface-response>'].map((m) => body.indexOf(m)).filter((i) => i >= 0)
  return body.slice(0, Math.min(Math.floor(body.length / 2), ...markers))
}

/** Still has `<Done>`, but a strict parser must refuse it: a mismatched tag and a bare `&`. */
export function malformBody (body: string): string {
  if (!body.includes('</Command>')) return '<interface-response><ErrCount>0</ErrCount><Done>true</Done & </interface-response>'
  return body.replace('</Command>', '</Comand>').replace('<ErrCount>', '<ErrCount>&')
}

function reset (request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack()
  const socket = request.raw.socket
  // An RST (not a FIN) is what a crashed proxy or a dropped connection looks like to the client.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
  else socket.destroy()
}

async function dribble (reply: FastifyReply, answer: RenderedAnswer, pauseMs: number, chunkBytes: number): Promise<void> {
  reply.hijack()
  const res = reply.raw
  const bytes = Buffer.from(answer.body, 'utf8')
  res.writeHead(200, { 'content-type': answer.contentType, 'content-length': bytes.length })
  res.flushHeaders()
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
    await sleep(pauseMs)
    if (res.destroyed) return
    res.write(bytes.subarray(offset, offset + chunkBytes))
  }
  res.end()
}

/** Delivers a fault. `answer` is absent for faults that happen before processing. */
export async function sendFault (request: FastifyRequest, reply: FastifyReply, fault: Fault, answer?: RenderedAnswer): Promise<void> {
  switch (fault.kind) {
    case 'resetBeforeProcessing':
    case 'resetAfterProcessing':
      reset(request, reply)
      return
    case 'httpStatus': {
      const status = fault.httpStatus ?? 500
      reply.code(status).type('text/html; charset=utf-8').send(htmlPage(status, STATUS_TITLES[status] ?? 'Error'))
      return
    }
    case 'redirect': {
      const location = fault.redirect ?? '/'
      reply.code(302).header('location', location).type('text/html; charset=utf-8')
        .send(`<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="${escapeAttr(location)}">here</a>.</h2></body></html>\n`)
      return
    }
    case 'htmlPage':
      reply.code(200).type('text/html; charset=utf-8').send(htmlPage(503, 'Service Unavailable'))
      return
    case 'truncate':
      reply.code(200).type(answer?.contentType ?? 'text/xml').send(truncateBody(answer?.body ?? ''))
      return
    case 'malformedXml':
      reply.code(200).type(answer?.contentType ?? 'text/xml').send(malformBody(answer?.body ?? ''))
      return
    case 'slowBodyMs':
      await dribble(reply, answer ?? { body: '', contentType: 'text/xml' }, fault.slowBodyMs ?? 100, fault.chunkBytes ?? 64)
      return
    case 'latencyMs':
      if (answer) reply.code(200).type(answer.contentType).send(answer.body)
  }
}
