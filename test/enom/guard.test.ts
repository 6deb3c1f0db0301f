import type { LookupAddress } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ADDRESS_REFUSED, checkApiUrl, guardedLookup, isPublicUnicast, normaliseAllowedOrigins } from '../../src/enom/guard.js'

const allowed = normaliseAllowedOrigins([
  { origin: 'https://reseller.enom.com', allowPrivate: false },
  { origin: 'https://resellertest.enom.com/', allowPrivate: false },
  { origin: 'http://127.0.0.1:8089', allowPrivate: true },
  { origin: 'https://10.0.0.5', allowPrivate: false }
])

describe('checkApiUrl', () => {
  it('accepts the exact endpoints', () => {
    expect(checkApiUrl('https://reseller.enom.com/interface.asp', allowed)).toMatchObject({ ok: true, origin: 'https://reseller.enom.com', hostname: 'reseller.enom.com', allowPrivate: false })
    expect(checkApiUrl('https://RESELLERTEST.enom.com:443/interface.asp', allowed)).toMatchObject({ ok: true, origin: 'https://resellertest.enom.com' })
    expect(checkApiUrl('http://127.0.0.1:8089/interface.asp', allowed)).toMatchObject({ ok: true, allowPrivate: true })
  })

  it.each([
    ['not a URL', 'reseller.enom.com/interface.asp'],
    ['another host', 'https://evil.example/interface.asp'],
    ['look-alike host', 'https://reseller.enom.com.evil.example/interface.asp'],
    ['http instead of https', 'http://reseller.enom.com/interface.asp'],
    ['another port', 'https://reseller.enom.com:8443/interface.asp'],
    ['userinfo', 'https://user:pw@reseller.enom.com/interface.asp'],
    ['userinfo without password', 'https://user@reseller.enom.com/interface.asp'],
    ['another path', 'https://reseller.enom.com/other.asp'],
    ['path case', 'https://reseller.enom.com/Interface.asp'],
    ['trailing path', 'https://reseller.enom.com/interface.asp/x'],
    ['query', 'https://reseller.enom.com/interface.asp?command=GetBalance'],
    ['empty query', 'https://reseller.enom.com/interface.asp?'],
    ['fragment', 'https://reseller.enom.com/interface.asp#x'],
    ['file scheme', 'file:///etc/passwd'],
    ['private IP literal on a non-private origin', 'https://10.0.0.5/interface.asp'],
    ['loopback spelled in hex', 'http://0x7f.0.0.1:8090/interface.asp']
  ])('refuses %s', (_name, url) => {
    const r = checkApiUrl(url, allowed)
    expect(r.ok).toBe(false)
  })

  it('never repeats userinfo, path or query in its detail', () => {
    for (const url of ['https://u:Secr3t@reseller.enom.com/interface.asp', 'https://evil.example/interface.asp?pw=Secr3t', 'https://reseller.enom.com/Secr3t']) {
      const r = checkApiUrl(url, allowed)
      expect(JSON.stringify(r)).not.toContain('Secr3t')
    }
  })

  it('refuses a malformed allow-list entry', () => {
    expect(() => normaliseAllowedOrigins([{ origin: 'https://reseller.enom.com/interface.asp', allowPrivate: false }])).toThrow(TypeError)
    expect(() => normaliseAllowedOrigins([{ origin: 'ftp://x.example', allowPrivate: false }])).toThrow(TypeError)
  })
})

describe('isPublicUnicast', () => {
  it.each(['8.8.8.8', '1.1.1.1', '151.101.1.69', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (ip) => {
    expect(isPublicUnicast(ip)).toBe(true)
  })

  it.each([
    '127.0.0.1', '127.1.2.3', '::1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', '100.64.0.1', '100.100.100.200', '0.0.0.0', '0.1.2.3', '::',
    '224.0.0.1', 'ff02::1', '255.255.255.255', '::ffff:127.0.0.1', '::ffff:c0a8:101', '::ffff:169.254.169.254',
    '::127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1', '192.0.2.1', '198.18.0.1', 'not-an-ip', ''
  ])('refuses %s', (ip) => {
    expect(isPublicUnicast(ip)).toBe(false)
  })
})

function fakeLookup (answer: LookupAddress[] | NodeJS.ErrnoException): LookupFunction & { calls: number } {
  const fn = ((_host: string, options: { all?: boolean }, cb: (err: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) => {
    fn.calls++
    if (answer instanceof Error) { cb(answer, '', 0); return }
    if (options.all === true) cb(null, answer)
    else cb(null, answer[0]?.address ?? '', answer[0]?.family ?? 4)
  }) as LookupFunction & { calls: number }
  fn.calls = 0
  return fn
}

function run (lookup: LookupFunction, all: boolean): Promise<{ err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number }> {
  return new Promise((resolve) => lookup('host.example', { all }, (err, address, family) => resolve({ err, address, ...(family !== undefined ? { family } : {}) })))
}

describe('guardedLookup', () => {
  const pub = { address: '8.8.8.8', family: 4 }
  const loop = { address: '127.0.0.1', family: 4 }

  it('passes public answers through in both shapes', async () => {
    expect(await run(guardedLookup(fakeLookup([pub]), false), true)).toEqual({ err: null, address: [pub] })
    expect(await run(guardedLookup(fakeLookup([pub]), false), false)).toEqual({ err: null, address: '8.8.8.8', family: 4 })
  })

  it('refuses when any returned address is not public, whichever shape is asked for', async () => {
    expect((await run(guardedLookup(fakeLookup([pub, loop]), false), true)).err?.code).toBe(ADDRESS_REFUSED)
    expect((await run(guardedLookup(fakeLookup([loop, pub]), false), false)).err?.code).toBe(ADDRESS_REFUSED)
    expect((await run(guardedLookup(fakeLookup([{ address: '::ffff:10.0.0.1', family: 6 }]), false), true)).err?.code).toBe(ADDRESS_REFUSED)
  })

  it('lets a private answer through when the origin allows it', async () => {
    expect(await run(guardedLookup(fakeLookup([loop]), true), true)).toEqual({ err: null, address: [loop] })
  })

  it('passes DNS errors through and treats an empty answer as not found', async () => {
    const notFound: NodeJS.ErrnoException = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })
    expect((await run(guardedLookup(fakeLookup(notFound), false), true)).err?.code).toBe('ENOTFOUND')
    expect((await run(guardedLookup(fakeLookup([]), false), true)).err?.code).toBe('ENOTFOUND')
  })
})
