import { describe, expect, it } from 'vitest';
import { mappingWith } from './helpers.ts';

/** Evaluates one expression against `input` and returns the value, or the error code it raised. */
function evaluate(expr: string, input: unknown = {}, body = ''): unknown {
  const result = mappingWith(`${body}fields:\n  out: '${expr}'`).map(input);
  return result.deadLetter ? `!${result.deadLetter.code}` : result.rows[0]!.out;
}

describe('to_timestamp', () => {
  it.each([
    [
      'canonical UTC text passes through',
      'to_timestamp($.t)',
      '2026-08-20T10:15:30.123Z',
      '2026-08-20T10:15:30.123Z',
    ],
    [
      'an offset is normalised to UTC',
      'to_timestamp($.t)',
      '2026-08-20T12:15:30+02:00',
      '2026-08-20T10:15:30.000Z',
    ],
    ['a compact offset', 'to_timestamp($.t)', '2026-08-20T12:15:30.5+0200', '2026-08-20T10:15:30.500Z'],
    [
      'microseconds are truncated to milliseconds',
      'to_timestamp($.t)',
      '2026-08-20T10:15:30.123456Z',
      '2026-08-20T10:15:30.123Z',
    ],
    ['epoch milliseconds', 'to_timestamp($.t)', 1787220930123, '2026-08-20T10:15:30.123Z'],
    ['epoch seconds', 'to_timestamp($.t, format: "epoch_s")', 1787220930, '2026-08-20T10:15:30.000Z'],
    [
      'epoch milliseconds as text',
      'to_timestamp($.t, format: "epoch_ms")',
      '1787220930123',
      '2026-08-20T10:15:30.123Z',
    ],
    [
      'naive text in a fixed offset',
      'to_timestamp($.t, tz: "-05:00")',
      '2026-08-20T05:15:30',
      '2026-08-20T10:15:30.000Z',
    ],
    [
      'naive text in an IANA zone, summer',
      'to_timestamp($.t, tz: "Europe/Berlin")',
      '2026-08-20T12:15:30',
      '2026-08-20T10:15:30.000Z',
    ],
    [
      'naive text in an IANA zone, winter',
      'to_timestamp($.t, tz: "Europe/Berlin")',
      '2026-01-20T12:15:30',
      '2026-01-20T11:15:30.000Z',
    ],
    [
      'DST overlap takes the earlier instant',
      'to_timestamp($.t, tz: "Europe/Berlin")',
      '2026-10-25T02:30:00',
      '2026-10-25T00:30:00.000Z',
    ],
    [
      'DST gap moves forward',
      'to_timestamp($.t, tz: "Europe/Berlin")',
      '2026-03-29T02:30:00',
      '2026-03-29T01:30:00.000Z',
    ],
    [
      'a pattern',
      'to_timestamp($.t, format: "dd.MM.yyyy HH:mm:ss", tz: "UTC")',
      '20.08.2026 10:15:30',
      '2026-08-20T10:15:30.000Z',
    ],
    [
      'a pattern with milliseconds',
      'to_timestamp($.t, format: "yyyyMMddHHmmssSSS", tz: "UTC")',
      '20260820101530123',
      '2026-08-20T10:15:30.123Z',
    ],
    ['null stays null', 'to_timestamp($.t)', null, null],
    ['February 30 is refused', 'to_timestamp($.t)', '2026-02-30T00:00:00Z', '!NOT_A_TIMESTAMP'],
    ['a leap day is fine', 'to_timestamp($.t)', '2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['naive text without tz is refused', 'to_timestamp($.t)', '2026-08-20T10:15:30', '!NAIVE_TIMESTAMP'],
    ['a boolean is not a timestamp', 'to_timestamp($.t)', true, '!NOT_A_TIMESTAMP'],
    ['a number is not ISO text', 'to_timestamp($.t, format: "iso8601")', 5, '!NOT_A_TIMESTAMP'],
    ['an epoch beyond year 9999', 'to_timestamp($.t)', 1e15, '!NOT_A_TIMESTAMP'],
    [
      'a pattern mismatch',
      'to_timestamp($.t, format: "dd.MM.yyyy", tz: "UTC")',
      '2026-08-20',
      '!NOT_A_TIMESTAMP',
    ],
  ])('%s', (_name, expr, t, expected) => {
    expect(evaluate(expr, { t })).toBe(expected);
  });

  it('checks a zone read from the message at run time', () => {
    expect(evaluate('to_timestamp($.t, tz: $.z)', { t: '2026-08-20T12:00:00', z: 'Asia/Tokyo' })).toBe(
      '2026-08-20T03:00:00.000Z',
    );
    expect(evaluate('to_timestamp($.t, tz: $.z)', { t: '2026-08-20T12:00:00', z: 'Mars/Base' })).toBe(
      '!UNKNOWN_TIME_ZONE',
    );
  });
});

describe('calendar keys', () => {
  it.each([
    ['date_key($.t)', '2026-08-20T23:59:59.999Z', 20260820],
    ['date_key($.t, tz: "Europe/Berlin")', '2026-08-20T23:30:00.000Z', 20260821],
    ['date_key($.t)', '2026-08-21T01:30:00+02:00', 20260820],
    ['date_key($.t)', 1787220930123, 20260820],
    ['minute_of_day($.t)', '2026-08-20T10:15:30.123Z', 615],
    ['minute_of_day($.t, tz: "America/New_York")', '2026-08-20T10:15:30.123Z', 375],
    ['minute_of_day($.t)', '2026-08-20T00:00:00.000Z', 0],
    ['minute_of_day($.t)', '2026-08-20T23:59:00.000Z', 1439],
    ['date_key($.t)', null, null],
    ['date_key($.t)', 'yesterday', '!NOT_A_TIMESTAMP'],
  ])('%s of %j', (expr, t, expected) => {
    expect(evaluate(expr, { t })).toBe(expected);
  });

  it.each([
    [20089, '2025-01-01'],
    ['2026-08-20', '2026-08-20'],
    ['2026-08-20T23:00:00Z', '2026-08-20'],
    [null, null],
    ['2026-02-30', '!NOT_A_TIMESTAMP'],
    [1.5, '!NOT_A_TIMESTAMP'],
  ])('to_date(%j)', (d, expected) => {
    expect(evaluate('to_date($.d)', { d })).toBe(expected);
  });
});

describe('numbers and units', () => {
  it.each([
    ['to_number($.v)', 3.5, 3.5],
    ['to_number($.v)', ' 42 ', 42],
    ['to_number($.v)', '-1.5e3', -1500],
    ['to_number($.v)', '0x10', '!NOT_A_NUMBER'],
    ['to_number($.v)', '1,5', '!NOT_A_NUMBER'],
    ['to_number($.v)', '', '!NOT_A_NUMBER'],
    ['to_number($.v)', true, '!NOT_A_NUMBER'],
    ['to_number($.v)', null, null],
    ['round($.v)', 2.5, 3],
    ['round($.v)', -2.5, -3],
    ['round($.v, 2)', 1.005, 1.01],
    ['round($.v, digits: 1)', 42.25, 42.3],
    ['$.v * 2 + 1', 3, 7],
    ['$.v % 3', 7, 1],
    ['-$.v', 3, -3],
    ['$.v + 1', null, null],
    ['$.v ?? 0', null, 0],
    ['$.missing ?? $.v ?? 9', null, 9],
  ])('%s with %j', (expr, v, expected) => {
    expect(evaluate(expr, { v })).toBe(expected);
  });

  it.each([
    ['"[degF]"', 'Cel', 212, 100],
    ['"[degF]"', 'Cel', -40, -40],
    ['"Cel"', '[degF]', 37, 98.6],
    ['"K"', 'Cel', 0, -273.15],
    ['"[psi]"', 'kPa', 14.5037738, 100],
    ['"[in_i]/s"', 'mm/s', 1, 25.4],
    ['"W"', 'kW', 1520, 1.52],
    ['"[gal_us]/min"', 'm3/h', 10, 2.27124707],
    ['"bar"', 'kPa', 1, 100],
    ['"[mi_i]/h"', 'km/h', 60, 96.56064],
    ['"kW.h"', 'J', 1, 3.6e6],
    ['"%"', '%', 55, 55],
  ])('convert_unit from %s to %s', (from, to, v, expected) => {
    const got = evaluate(`convert_unit($.v, ${from}, "${to}")`, { v });
    expect(got).toBeCloseTo(expected, 6);
  });

  it('uses the aliases the mapping declares, for units read from the message too', () => {
    const body = 'units:\n  aliases: { degF: "[degF]", psi: "[psi]" }\n';
    expect(evaluate('convert_unit($.v, $.u, "Cel")', { v: 32, u: 'degF' }, body)).toBeCloseTo(0, 9);
    expect(evaluate('convert_unit($.v, "psi", "kPa")', { v: 1 }, body)).toBeCloseTo(6.894757, 6);
  });

  it('refuses logarithmic units rather than converting them linearly', () => {
    expect(evaluate('convert_unit($.v, $.u, "B")', { v: 1, u: 'dB' })).toBe('!INCOMPATIBLE_UNITS');
  });
});

describe('text, logic and match', () => {
  it.each([
    ['lower($.s)', { s: 'TEMP' }, 'temp'],
    ['upper($.s)', { s: 'temp' }, 'TEMP'],
    ['trim($.s)', { s: '  x ' }, 'x'],
    ['to_string($.n)', { n: 1.5 }, '1.5'],
    ['to_string($.n)', { n: [1] }, '[1]'],
    ['$.a + $.b', { a: 'x', b: 'y' }, 'xy'],
    ['format("{0}-{1}:{k}", $.a, $.b, k: $.c)', { a: 1, b: 'two', c: null }, '1-two:'],
    ['coalesce($.a, $.b, "z")', { a: null }, 'z'],
    ['coalesce($.a, $.b)', { b: 0 }, 0],
    ['hash($.a)', { a: 'abc' }, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['hash($.a, algorithm: "md5", length: 8)', { a: 'abc' }, '90015098'],
    ['hash($.a, $.b) == hash($.b, $.a)', { a: 'x', b: 'y' }, false],
    ['$.a == null', {}, true],
    ['$.a != 1', { a: '1' }, true],
    ['$.a > 2 && $.b < 2', { a: 3, b: 1 }, true],
    ['!($.a || $.b)', { a: false, b: null }, true],
    ['$.a < 2', {}, null],
    ['match $.q { good: 1, "un certain": 3, 5: "five", null: 9, _: 2 }', { q: 'un certain' }, 3],
    ['match $.q { good: 1, "un certain": 3, 5: "five", null: 9, _: 2 }', { q: 5 }, 'five'],
    ['match $.q { good: 1, "un certain": 3, 5: "five", null: 9, _: 2 }', {}, 9],
    ['match $.q { good: 1, "un certain": 3, 5: "five", null: 9, _: 2 }', { q: 'bad' }, 2],
    ['match { $.v > 10: "high", $.v > 5: "mid", _: "low" }', { v: 7 }, 'mid'],
    ['match { $.v > 10: "high" }', { v: 1 }, '!NO_MATCHING_CASE'],
    ['[1, $.a, { k: $.b }]', { a: 'x' }, undefined],
    ['$.list[-1]', { list: [1, 2, 3] }, 3],
    ['$.list[5]', { list: [1] }, null],
    ['$."odd key".x', { 'odd key': { x: 1 } }, 1],
  ])('%s on %j', (expr, input, expected) => {
    const got = evaluate(expr, input);
    if (expected === undefined) expect(got).toEqual([1, 'x', { k: null }]);
    else expect(got).toBe(expected);
  });
});
