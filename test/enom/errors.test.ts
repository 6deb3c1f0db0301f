import { describe, expect, it } from 'vitest'
import { classifyEnvelope, EnomError, errorFromEnvelope } from '../../src/enom/errors.js'

describe('classifyEnvelope (enom-api.md §6)', () => {
  it.each([
    [['304155'], ['Bad User name or Password'], 'auth'],
    [['304156'], [], 'auth'],
    [[], ['bad user name or password for this account'], 'auth'],
    [['713254'], ['User not permitted from this IP address - 203.0.113.7'], 'ip_not_allowed'],
    [[], ['User not permitted from this IP address: 198.51.100.9'], 'ip_not_allowed'],
    [['324181'], ['Insufficient funds'], 'insufficient_funds'],
    [['519181'], ['Payment failed'], 'insufficient_funds'],
    [['620397'], ['500 - Unable to parse CSR.', 'Unable to retrieve CSR information'], 'csr'],
    [['304397'], ['Invalid CSR'], 'csr'],
    [['316154'], ['Domain name not active'], 'validation'],
    [['304145'], ['Invalid Registrant information'], 'validation'],
    [['607150'], ['Connection failed'], 'transient'],
    [['618999'], ['Down for maintenance'], 'transient'],
    [['000000'], ['Something'], 'unknown'],
    [['199999'], [], 'unknown'],
    [[], ['Something odd'], 'unknown'],
    [['abc'], [], 'unknown']
  ] as const)('%j %j -> %s', (numbers, messages, reason) => {
    expect(classifyEnvelope(numbers, messages).reason).toBe(reason)
  })

  it('extracts the IP after " - " or ": ", IPv6 included', () => {
    expect(classifyEnvelope(['713254'], ['User not permitted from this IP address - 203.0.113.7']).ip).toBe('203.0.113.7')
    expect(classifyEnvelope([], ['User not permitted from this IP address: 198.51.100.9.']).ip).toBe('198.51.100.9')
    expect(classifyEnvelope([], ['User not permitted from this IP address - 2001:db8::1']).ip).toBe('2001:db8::1')
    expect(classifyEnvelope(['713254'], ['User not permitted from this IP address']).ip).toBeUndefined()
  })

  it('puts auth and IP before funds, and funds before validation', () => {
    expect(classifyEnvelope(['324181', '304155'], []).reason).toBe('auth')
    expect(classifyEnvelope(['324181', '713254'], []).reason).toBe('ip_not_allowed')
    expect(classifyEnvelope(['316154', '324181'], []).reason).toBe('insufficient_funds')
  })
})

describe('EnomError', () => {
  it('carries a stable code, the delivery and eNom numbers', () => {
    const err = errorFromEnvelope('GetBalance', ['713254'], ['User not permitted from this IP address - 203.0.113.7'], true)
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({
      name: 'EnomError',
      code: 'ENOM_ERR_IP_NOT_ALLOWED',
      reason: 'ip_not_allowed',
      command: 'GetBalance',
      delivery: 'processed',
      retryable: false,
      ip: '203.0.113.7'
    })
    expect(err.message).toContain('allow-list')
    expect(err.message).toContain('203.0.113.7')
  })

  it('marks an eNom system error retryable for read-only commands only', () => {
    expect(errorFromEnvelope('GetBalance', ['607150'], ['x'], true).retryable).toBe(true)
    expect(errorFromEnvelope('CertPurchaseCert', ['607150'], ['x'], false).retryable).toBe(false)
  })

  it('serialises every property, message included', () => {
    const err = new EnomError({ reason: 'http_status', command: 'GetCerts', delivery: 'unknown', message: 'm', httpStatus: 502, transportCode: 'HTTP_502' })
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'EnomError',
      code: 'ENOM_ERR_HTTP_STATUS',
      reason: 'http_status',
      command: 'GetCerts',
      delivery: 'unknown',
      retryable: false,
      message: 'm',
      responseNumbers: [],
      enomMessages: [],
      httpStatus: 502,
      transportCode: 'HTTP_502'
    })
  })

  it.each([
    'dns', 'connect', 'tls', 'timeout', 'reset', 'http_status', 'malformed_response', 'auth', 'ip_not_allowed',
    'insufficient_funds', 'validation', 'csr', 'transient', 'unknown', 'url_not_allowed'
  ] as const)('code for %s', (reason) => {
    expect(new EnomError({ reason, command: 'C', delivery: 'unknown', message: 'm' }).code).toBe(`ENOM_ERR_${reason.toUpperCase()}`)
  })
})
