// The service's pino logger. Credentials must never reach a log line: eNom's uid/pw travel in
// request bodies and query strings, so the eNom client never logs a URL or parameters (it logs
// command, duration and outcome); the paths below are a second line of defence.
import pino, { type DestinationStream, type Logger } from 'pino'
import type { LogLevelName } from './config.js'

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'pw',
  '*.pw',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'body.password',
  'body.csr',
  'databaseUrl'
]

export function createLogger (level: LogLevelName, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'enom-ssl-service' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) }
  }, destination)
}
