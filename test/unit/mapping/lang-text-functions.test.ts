import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

/** Evaluates one expression against `input`: the value, or `!CODE` when the record was dead-lettered. */
function evaluate(expr: string, input: unknown = {}): unknown {
  const result = mappingWith(`fields:\n  out: '${expr}'`).map(input);
  return result.deadLetter ? `!${result.deadLetter.code}` : result.rows[0]!.out;
}

/** [code, message] of compiling `fields: a: '<expr>'`; the expression starts at column 7 of line 8. */
function errorsOf(expr: string): Array<[string, string]> {
  return seen(compileErrors(mappingText(`fields:\n  a: '${expr}'`)));
}

describe('text functions', () => {
  it.each([
    ['split($.s, ",")', { s: 'a,b,,c' }, ['a', 'b', '', 'c']],
    ['split($.s, "")', { s: 'a😀b' }, ['a', '😀', 'b']],
    ['split($.s, ",")', { s: null }, null],
    ['split($.s, $.sep)', { s: 'a-b' }, null],
    ['replace($.s, ".", ",")', { s: '1.234.5' }, '1,234,5'],
    ['replace($.s, "x", "$&$1")', { s: 'axb' }, 'a$&$1b'],
    ['replace($.s, "", "-")', { s: 'ab' }, 'ab'],
    ['substring($.s, 1)', { s: 'abc' }, 'bc'],
    ['substring($.s, -2, 1)', { s: 'abc' }, 'b'],
    ['substring($.s, 5)', { s: 'abc' }, ''],
    ['substring($.s, -9, 2)', { s: 'abc' }, 'ab'],
    ['substring($.s, 1, 1)', { s: '😀x😀' }, 'x'],
    ['substring($.s, $.i)', { s: 'abc', i: null }, null],
    ['contains($.s, "P-1")', { s: 'pump P-101' }, true],
    ['contains($.s, "p-1")', { s: 'pump P-101' }, false],
    ['starts_with($.s, "HAM")', { s: 'HAM-1' }, true],
    ['ends_with($.s, "1")', { s: 'HAM-2' }, false],
    ['contains($.s, "x")', {}, null],
    ['length($.s)', { s: 'a😀' }, 2],
    ['length($.s)', { s: [1, 2] }, 2],
    ['length($.s)', {}, null],
    ['trim(lower($.s))', { s: '  ABC ' }, 'abc'],
  ])('%s on %j', (expr, input, expected) => {
    expect(evaluate(expr, input)).toEqual(expected);
  });

  it.each([
    ['contains($.s, "a")', { s: 5 }, 'contains() needs text, got 5; use to_string() first', 9],
    ['length($.s)', { s: 5 }, 'length() needs text or an array, got 5', 9],
    ['substring($.s, $.i)', { s: 'abc', i: 1.5 }, "substring() 'start' must be a whole number, got 1.5", 24],
    [
      'substring($.s, 0, $.n)',
      { s: 'abc', n: -1 },
      "substring() 'length' must be a whole number of at least 0, got -1",
      27,
    ],
  ])('%s on %j fails the value: %s', (expr, input, detail, col) => {
    const result = mappingWith(`fields:\n  out: '${expr}'`).map(input);
    expect(result.deadLetter?.message).toBe(`test.yaml:8:${col}: field 'out': ${detail}`);
  });

  it('refuses a literal position that is not a whole number when the mapping loads', () => {
    expect(errorsOf('substring($.s, 1.5)')).toEqual([
      ['BAD_ARGUMENTS', "test.yaml:8:22: substring() 'start' must be a whole number, got 1.5"],
    ]);
  });
});

describe('regex functions', () => {
  it.each([
    ['regex_match($.s, "^P-\\\\d+$")', { s: 'P-101' }, true],
    ['regex_match($.s, "^P-\\\\d+$")', { s: 'P-101a' }, false],
    ['regex_match($.s, "(?i)^p-")', { s: 'P-1' }, true],
    ['regex_match($.s, "x")', {}, null],
    ['regex_extract($.s, "id=(\\\\w+)")', { s: 'dev id=ab12 rest' }, 'ab12'],
    ['regex_extract($.s, "\\\\d+")', { s: 'fan 42 rpm' }, '42'],
    ['regex_extract($.s, "(a)|(b)", group: 2)', { s: 'a' }, null],
    ['regex_extract($.s, "id=(\\\\w+)")', { s: 'none' }, null],
    ['regex_replace($.s, "(\\\\w+)@(\\\\w+)", "$2:$1")', { s: 'fan@HAM' }, 'HAM:fan'],
  ])('%s on %j', (expr, input, expected) => {
    expect(evaluate(expr, input)).toEqual(expected);
  });

  it('stays linear on input that makes a backtracking engine take exponential time', () => {
    const hostile = `${'a'.repeat(50_000)}!`;
    const started = performance.now();
    expect(evaluate('regex_match($.s, "^(a+)+$")', { s: hostile })).toBe(false);
    // A backtracking engine needs about 2^50,000 steps here; RE2 does one pass.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it.each([
    [
      'regex_match($.s, "(a)\\\\1")',
      17,
      'BAD_ARGUMENTS',
      'regex_match() pattern "(a)\\\\1" is not valid: error parsing regexp: invalid escape sequence: `\\1` (patterns are RE2 syntax, which has no backreferences or lookaround so matching stays linear-time)',
    ],
    [
      'regex_match($.s, $.p)',
      17,
      'BAD_ARGUMENTS',
      'regex_match() needs a literal for \'pattern\'; usage: regex_match(text, "<RE2 pattern>")',
    ],
    [
      'regex_extract($.s, "(a)", group: 2)',
      33,
      'BAD_ARGUMENTS',
      'regex_extract() group must be a whole number from 0 to 1 (the pattern has 1 group), got 2',
    ],
    [
      'regex_match($.s, "\\d")',
      18,
      'PARSE_ERROR',
      'unknown escape \'\\d\' in string; use \\n, \\t, \\r, \\\\, \\" or \\uXXXX (a regex needs its backslashes doubled: "\\\\d+")',
    ],
  ])('%s is refused when the mapping loads', (expr, offset, code, detail) => {
    expect(errorsOf(expr)).toEqual([[code, `test.yaml:8:${7 + offset}: ${detail}`]]);
  });
});

describe('type tests', () => {
  it.each([
    [null, 'null', { null: true, boolean: false, number: false, string: false, array: false, object: false }],
    [
      true,
      'boolean',
      { null: false, boolean: true, number: false, string: false, array: false, object: false },
    ],
    [
      4.2,
      'number',
      { null: false, boolean: false, number: true, string: false, array: false, object: false },
    ],
    [
      '4.2',
      'string',
      { null: false, boolean: false, number: false, string: true, array: false, object: false },
    ],
    [[1], 'array', { null: false, boolean: false, number: false, string: false, array: true, object: false }],
    [
      { a: 1 },
      'object',
      { null: false, boolean: false, number: false, string: false, array: false, object: true },
    ],
  ])('%j is a %s', (v, type, tests) => {
    expect(evaluate('type_of($.v)', { v })).toBe(type);
    for (const [name, expected] of Object.entries(tests)) {
      expect(evaluate(`is_${name}($.v)`, { v })).toBe(expected);
    }
  });

  it('a missing path is null', () => {
    expect(evaluate('type_of($.nothing)')).toBe('null');
    expect(evaluate('is_null($.nothing)')).toBe(true);
  });

  it('handles a field a vendor sends as a number or as text', () => {
    const expr = 'match type_of($.v) { number: $.v, string: to_number($.v, decimal: \\",\\"), _: null }';
    const m = mappingWith(`fields:\n  out: "${expr}"`);
    expect([{ v: 2.5 }, { v: '2,5' }, { v: true }].map((p) => m.map(p).rows[0]!.out)).toEqual([
      2.5,
      2.5,
      null,
    ]);
  });
});

describe('to_number with a decimal comma', () => {
  it.each([
    ['1,5', 1.5],
    ['-1,5', -1.5],
    [' 1.234,5 ', 1234.5],
    ['1.234.567', 1234567],
    [',5', 0.5],
    ['1,5e3', 1500],
    ['7', 7],
    [7.5, 7.5],
    [null, null],
    ['1.5', '!NOT_A_NUMBER'],
    ['1.23,4', '!NOT_A_NUMBER'],
    [',', '!NOT_A_NUMBER'],
    ['1,2,3', '!NOT_A_NUMBER'],
  ])('to_number(%j, decimal: ",")', (v, expected) => {
    expect(evaluate('to_number($.v, decimal: ",")', { v })).toBe(expected);
  });

  it('the default decimal point still refuses a comma, and says how to read it', () => {
    const result = mappingWith("fields:\n  out: 'to_number($.v)'").map({ v: '1,5' });
    expect(result.deadLetter?.message).toBe(
      `test.yaml:8:9: field 'out': "1,5" is not a number; for a decimal comma pass decimal: ","`,
    );
  });

  it('refuses any other decimal mark when the mapping loads', () => {
    expect(errorsOf('to_number($.v, decimal: ";")')).toEqual([
      ['BAD_ARGUMENTS', 'test.yaml:8:31: to_number() decimal must be "." or ",", got ";"'],
    ]);
  });
});
