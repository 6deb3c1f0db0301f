import { describe, expect, it } from 'vitest'
import { formatUsDate, normalisePem, parseBoolean, parseInteger, parseMoney, parseUsDate } from '../../src/enom/values.js'

describe('parseMoney', () => {
  it.each([
    ['3,709.20', '3709.20'],
    ['3,669.40', '3669.40'],
    ['2,261.65', '2261.65'],
    ['-1,832.23', '-1832.23'],
    ['6,193.37', '6193.37'],
    ['$9.95', '9.95'],
    ['$19.95', '19.95'],
    ['-$9.95', '-9.95'],
    ['$-9.95', '-9.95'],
    ['15.6', '15.60'],
    ['8', '8.00'],
    ['0.1015625', '0.1015625'],
    ['1,234,567.891', '1234567.891'],
    ['007.5', '7.50'],
    ['-0.00', '0.00'],
    [' 4.50 ', '4.50']
  ])('%s -> %s', (text, expected) => {
    expect(parseMoney(text)).toBe(expected)
  })

  it.each(['', 'abc', '1.2.3', '12,34.00', '1,2345.00', '--1', '-$-1', '1e3', '.5', '$', 'NaN'])('refuses %j', (text) => {
    expect(parseMoney(text)).toBeUndefined()
  })

  it('keeps digits a float would lose', () => {
    expect(parseMoney('12,345,678,901,234,567.89')).toBe('12345678901234567.89')
  })
})

describe('parseBoolean', () => {
  it.each([['True', true], ['true', true], ['TRUE', true], ['1', true], ['False', false], ['false', false], ['0', false]])('%s', (text, expected) => {
    expect(parseBoolean(text)).toBe(expected)
  })
  it.each(['', 'yes', 'no', '2', 'T'])('refuses %j', (text) => {
    expect(parseBoolean(text)).toBeUndefined()
  })
})

describe('parseInteger', () => {
  it('reads whole numbers', () => {
    expect(parseInteger('74')).toBe(74)
    expect(parseInteger(' 12 ')).toBe(12)
    expect(parseInteger('-3')).toBe(-3)
  })
  it.each(['1.0', '1e3', '', 'x', '0x10', '99999999999999999999'])('refuses %j', (text) => {
    expect(parseInteger(text)).toBeUndefined()
  })
})

describe('US dates', () => {
  it('formats MM/DD/YYYY from the UTC calendar date', () => {
    expect(formatUsDate(new Date(Date.UTC(2016, 11, 5)))).toBe('12/05/2016')
    expect(formatUsDate(new Date(Date.UTC(2015, 5, 2, 23, 59)))).toBe('06/02/2015')
  })
  it('reads eNom date-times as wall-clock UTC', () => {
    expect(parseUsDate('12/15/2016 5:13:02 PM')?.toISOString()).toBe('2016-12-15T17:13:02.000Z')
    expect(parseUsDate('12/16/2016 11:22:32 AM')?.toISOString()).toBe('2016-12-16T11:22:32.000Z')
    expect(parseUsDate('12/16/2016 12:05:00 AM')?.toISOString()).toBe('2016-12-16T00:05:00.000Z')
    expect(parseUsDate('12/16/2016 12:05:00 PM')?.toISOString()).toBe('2016-12-16T12:05:00.000Z')
    expect(parseUsDate('6/2/2015')?.toISOString()).toBe('2015-06-02T00:00:00.000Z')
  })
  it('refuses impossible and foreign dates', () => {
    expect(parseUsDate('2/30/2016')).toBeUndefined()
    expect(parseUsDate('2016-06-02')).toBeUndefined()
    expect(parseUsDate('13/1/2016')).toBeUndefined()
    expect(parseUsDate('1/1/2016 13:00:00 PM')).toBeUndefined()
  })
})

describe('normalisePem', () => {
  it('trims the indentation eNom leaves inside CDATA', () => {
    expect(normalisePem('-----BEGIN CERTIFICATE-----\n MIIB\n  AAA=\n -----END CERTIFICATE-----\n '))
      .toBe('-----BEGIN CERTIFICATE-----\nMIIB\nAAA=\n-----END CERTIFICATE-----')
  })
  it('is undefined for whitespace only', () => {
    expect(normalisePem(' \n ')).toBeUndefined()
  })
})
