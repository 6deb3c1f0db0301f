// Ids are UUIDs made by the service. Version 7 (RFC 9562) puts the creation time first, so ids
// sort in creation order, which keeps "sort, then creation order" cheap and index-friendly.
import { randomBytes } from 'node:crypto'

let lastMs = 0
let counter = 0

// Random bytes are drawn 4 KiB at a time: each draw from OpenSSL asks the kernel for the
// process id (its fork check), and an order makes about ten ids. Every id still gets 16 fresh
// bytes of its own; none is handed out twice.
const POOL_BYTES = 4096
let pool = Buffer.alloc(0)
let offset = POOL_BYTES

function sixteenRandomBytes (): Buffer {
  if (offset + 16 > pool.length) {
    pool = randomBytes(POOL_BYTES)
    offset = 0
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + 16))
  offset += 16
  return bytes
}

/** A UUIDv7; ids made by one process within the same millisecond still increase. */
export function newId (now: number = Date.now()): string {
  const bytes = sixteenRandomBytes()
  let ms = now
  if (ms <= lastMs) {
    ms = lastMs
    counter = (counter + 1) & 0xfff
    if (counter === 0) ms = ++lastMs
  } else {
    lastMs = ms
    counter = bytes.readUInt16BE(6) & 0x3ff
  }
  bytes.writeUIntBE(ms, 0, 6)
  bytes[6] = 0x70 | (counter >> 8)
  bytes[7] = counter & 0xff
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid (value: string): boolean {
  return UUID.test(value)
}
