import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

/** to_timestamp($.t, <args>) on one record: the value, or `!CODE: detail` when it failed. */
function read(args: string, t: unknown): unknown {
  const result = mappingWith(`fields:\n  out: to_timestamp($.t, ${args})`).map({ t });
  return result.deadLetter ? `!${result.deadLetter.code}: ${result.deadLetter.detail}` : result.rows[0]!.out;
}

describe('timestamp patterns', () => {
  it.each([
    ['format="M/d/yyyy H:mm"', '8/5/2026 7:05', '2026-08-05T07:05:00.000Z'],
    ['format="M/d/yyyy H:mm"', '12/25/2026 17:05', '2026-12-25T17:05:00.000Z'],
    ['format="d.M.yyyy"', '1.2.2026', '2026-02-01T00:00:00.000Z'],
    ['format="dd.MM.yyyy"', '1.2.2026', '!NOT_A_TIMESTAMP'],
    ['format="M/d/yyyy h:mm a"', '8/20/2026 12:05 AM', '2026-08-20T00:05:00.000Z'],
    ['format="M/d/yyyy h:mm a"', '8/20/2026 12:05 PM', '2026-08-20T12:05:00.000Z'],
    ['format="M/d/yyyy h:mm a"', '8/20/2026 1:05 pm', '2026-08-20T13:05:00.000Z'],
    ['format="M/d/yyyy hh:mm a"', '8/20/2026 09:05 am', '2026-08-20T09:05:00.000Z'],
    ['format="M/d/yyyy h:mm a"', '8/20/2026 13:05 PM', '!NOT_A_TIMESTAMP'],
    ['format="M/d/yyyy h:mm a"', '8/20/2026 0:05 AM', '!NOT_A_TIMESTAMP'],
    ['format="yyyy-MM-dd\'T\'HH:mm:ss.SSS"', '2026-08-20T10:15:30.123', '2026-08-20T10:15:30.123Z'],
    ['format="yyyy-MM-dd\'T\'HH:mm:ss.S"', '2026-08-20T10:15:30.5', '2026-08-20T10:15:30.500Z'],
    ["format=\"HH 'o''clock' dd.MM.yyyy\"", "10 o'clock 20.08.2026", '2026-08-20T10:00:00.000Z'],
    ['format="dd.MM.yyyy HH:mm", tz="Europe/Berlin"', '20.08.2026 12:15', '2026-08-20T10:15:00.000Z'],
  ])('%s reads %j', (args, t, expected) => {
    const got = read(args, t);
    if (typeof expected === 'string' && expected.startsWith('!'))
      expect(String(got)).toMatch(`${expected}: `);
    else expect(got).toBe(expected);
  });

  it('says which value did not fit', () => {
    expect(read('format="dd.MM.yyyy"', '1.2.2026')).toBe(
      '!NOT_A_TIMESTAMP: field \'out\': "1.2.2026" does not match the timestamp format "dd.MM.yyyy"',
    );
  });

  // The format argument starts at column 31 of line 8 in these mappings.
  it.each([
    ['yyyy-MM-dd hh:mm', "h and hh are the 12-hour clock and need 'a' for AM/PM; use HH for 0–23"],
    ['yyyy-MM-dd HH:mm a', "'a' (AM/PM) needs the 12-hour clock h or hh; HH is already 0–23"],
    [
      'yyyy-MM-ddTHH:mm',
      "'T' at character 10 is not a pattern token; known: yyyy, M, MM, d, dd, H, HH, h, hh, a, m, mm, s, ss, S, SS, SSS; put other letters in single quotes ('T')",
    ],
    [
      'yy-MM-dd',
      "'yy' at character 0 is not a pattern token; known: yyyy, M, MM, d, dd, H, HH, h, hh, a, m, mm, s, ss, S, SS, SSS; put other letters in single quotes ('T')",
    ],
    ['yyyy-MM-dd HH:mm:ss.SSSS', expect.stringContaining("'SSSS' at character 20 is not a pattern token")],
    ['dd.MM.yyyy dd', "'dd' at character 11 repeats a field already read"],
    ["yyyy-MM-dd'T", "the quote at character 10 is not closed; write '' for a quote"],
    ['HH:mm', 'it has no year, month, day (use yyyy, MM and dd)'],
  ])('refuses the pattern %j when the mapping loads', (pattern, problem) => {
    const errors = compileErrors(
      mappingText(`fields:\n  a: to_timestamp($.t, format=${JSON.stringify(pattern)})`),
    );
    const prefix = `test.yaml:8:31: format ${JSON.stringify(pattern)} is neither auto, iso8601, epoch_ms, epoch_s nor a readable pattern: `;
    expect(seen(errors)).toEqual([
      ['BAD_ARGUMENTS', typeof problem === 'string' ? prefix + problem : expect.stringContaining(prefix)],
    ]);
    if (typeof problem !== 'string') expect(errors[0]!.message).toEqual(problem);
  });
});

describe('daylight-saving policy', () => {
  // Europe/Berlin: 2026-03-29 02:00–03:00 does not exist; 2026-10-25 02:00–03:00 happens twice.
  const gap = '2026-03-29T02:30:00';
  const overlap = '2026-10-25T02:30:00';

  it.each([
    ['compatible', gap, '2026-03-29T01:30:00.000Z'],
    ['earlier', gap, '2026-03-29T00:30:00.000Z'],
    ['later', gap, '2026-03-29T01:30:00.000Z'],
    ['compatible', overlap, '2026-10-25T00:30:00.000Z'],
    ['earlier', overlap, '2026-10-25T00:30:00.000Z'],
    ['later', overlap, '2026-10-25T01:30:00.000Z'],
    ['reject', '2026-10-25T04:30:00', '2026-10-25T03:30:00.000Z'],
  ])('dst=%s reads %s', (dst, t, expected) => {
    expect(read(`tz="Europe/Berlin", dst="${dst}"`, t)).toBe(expected);
  });

  it('compatible is the default', () => {
    expect(read('tz="Europe/Berlin"', gap)).toBe('2026-03-29T01:30:00.000Z');
    expect(read('tz="Europe/Berlin"', overlap)).toBe('2026-10-25T00:30:00.000Z');
  });

  it('reject faults the value and says why and what to do', () => {
    expect(read('tz="Europe/Berlin", dst="reject"', gap)).toBe(
      `!NOT_A_TIMESTAMP: field 'out': "${gap}" does not exist in Europe/Berlin: the clocks skip it when daylight saving time starts (dst: "reject"); pass dst: "earlier", "later" or "compatible" to read it anyway`,
    );
    expect(read('format="dd.MM.yyyy HH:mm", tz="Europe/Berlin", dst="reject"', '25.10.2026 02:30')).toBe(
      `!NOT_A_TIMESTAMP: field 'out': "25.10.2026 02:30" happens twice in Europe/Berlin: the clocks repeat it when daylight saving time ends (dst: "reject"); pass dst: "earlier" or "later" to pick one`,
    );
  });

  it('never touches a time with an explicit offset', () => {
    expect(read('tz="Europe/Berlin", dst="reject"', '2026-10-25T02:30:00+01:00')).toBe(
      '2026-10-25T01:30:00.000Z',
    );
  });

  it('refuses an unknown policy when the mapping loads', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: to_timestamp($.t, dst="first")')))).toEqual([
      [
        'BAD_ARGUMENTS',
        'test.yaml:8:28: to_timestamp() dst must be one of compatible, earlier, later, reject, got "first"',
      ],
    ]);
  });
});
