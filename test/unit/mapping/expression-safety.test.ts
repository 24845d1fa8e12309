import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

// An expression can reach nothing but its input: no globals, no process, no prototype chain
// (mappings/README.md, "Expressions").
describe('hostile expressions are rejected at compile time', () => {
  const forbidden =
    'is not allowed: expressions cannot reach prototypes (__proto__, constructor, prototype are rejected)';
  // The expression sits in a single-quoted scalar starting at column 7, so column = 7 + offset.
  it.each([
    ['$.constructor', 2, 'constructor'],
    ['$.a.constructor.constructor', 4, 'constructor'],
    ['$$.__proto__', 3, '__proto__'],
    ['$["__proto__"]', 2, '__proto__'],
    ['$.x.prototype', 4, 'prototype'],
    ['$meta.constructor', 6, 'constructor'],
    ['{ __proto__: 1 }', 2, '__proto__'],
    ['format("{constructor}", constructor: 1)', 24, 'constructor'],
  ])('%s', (expr, offset, key) => {
    expect(seen(compileErrors(mappingText(`fields:\n  a: '${expr}'`)))).toEqual([
      ['FORBIDDEN_PROPERTY', `test.yaml:8:${7 + offset}: '${key}' ${forbidden}`],
    ]);
  });

  it('has no globals: a bare name is an error, not a lookup', () => {
    const hint = (name: string) =>
      `unknown name '${name}'; an expression reads only $ (the element), $$ (the message), $meta and $name variables, and calls functions as name(...); write a string as "${name}"`;
    expect(seen(compileErrors(mappingText('fields:\n  a: process.env\n  b: this\n  c: globalThis')))).toEqual(
      [
        ['UNKNOWN_IDENTIFIER', `test.yaml:8:6: ${hint('process')}`],
        ['UNKNOWN_IDENTIFIER', `test.yaml:9:6: ${hint('this')}`],
        ['UNKNOWN_IDENTIFIER', `test.yaml:10:6: ${hint('globalThis')}`],
      ],
    );
  });

  it('calls only whitelisted functions, so constructor() and eval() do not exist', () => {
    const errors = compileErrors(
      mappingText('fields:\n  a: constructor()\n  b: \'eval("1")\'\n  c: to_nubmer($.x)'),
    );
    expect(errors.map((e) => e.code)).toEqual(['UNKNOWN_FUNCTION', 'UNKNOWN_FUNCTION', 'UNKNOWN_FUNCTION']);
    expect(errors[2]!.message).toBe(
      "test.yaml:10:6: unknown function to_nubmer() (did you mean 'to_number'?); available: coalesce, contains, convert_unit, correlation_id, date_key, ends_with, format, hash, is_array, is_boolean, is_null, is_number, is_object, is_string, length, lower, minute_of_day, regex_extract, regex_match, regex_replace, replace, round, split, starts_with, substring, to_date, to_number, to_string, to_timestamp, trim, try, type_of, upper (docs/mapping-functions.md); " +
        'for anything else write the field in JSONata: expr: { jsonata: "..." } (mappings/README.md, Expressions)',
    );
  });

  it('never reaches a prototype at run time, even when the payload has a __proto__ key', () => {
    const m = mappingWith(
      'fields:\n  a: $.toString\n  b: $.hasOwnProperty\n  c: $.x.length\n  d: $.s.length',
    );
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "x": [1, 2], "s": "abc"}');
    const result = m.map(payload);
    expect(result.rows).toEqual([
      { a: null, b: null, c: null, d: null, mapping_id: 'test-mapping', mapping_version: 3 },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects quoted forbidden keys in object literals too', () => {
    expect(
      seen(compileErrors(mappingText('fields:\n  a: "{ a: 1 }"\n  b: "{ \\"constructor\\": 1 }"'))),
    ).toEqual([['FORBIDDEN_PROPERTY', `test.yaml:9:9: 'constructor' ${forbidden}`]]);
  });
});

describe('expression compile errors', () => {
  it.each([
    [
      '$.a +',
      5,
      'PARSE_ERROR',
      'unexpected end of expression; expected a value, a path ($, $$, $name) or a function call',
    ],
    ['lower($.a', 9, 'PARSE_ERROR', "unexpected end of expression; expected ',' or ')'"],
    ['$.a $.b', 4, 'PARSE_ERROR', "unexpected '$'; expected an operator or the end of the expression"],
    ['"abc', 0, 'PARSE_ERROR', 'string is not closed; add "'],
    ['$.a ; 1', 4, 'PARSE_ERROR', "unexpected character ';'"],
    ['$.a[*]', 3, 'PARSE_ERROR', '[*] is only allowed at the end of explode; use [0] or ["key"] here'],
    [
      'round($.a, $.b)',
      11,
      'BAD_ARGUMENTS',
      "round() needs a literal for 'digits'; usage: round(value, digits: 0)",
    ],
    [
      'round($.a, 1, 2)',
      14,
      'BAD_ARGUMENTS',
      'round() takes at most 2 arguments; usage: round(value, digits: 0)',
    ],
    [
      'round($.a, digitz: 1)',
      11,
      'BAD_ARGUMENTS',
      "round() has no argument 'digitz' (did you mean 'digits'?); usage: round(value, digits: 0)",
    ],
    [
      '$meta.tpoic',
      6,
      'UNKNOWN_META_KEY',
      "unknown metadata key $meta.tpoic (did you mean 'topic'?); known: topic, partition, offset, key, timestamp, headers, op, lsn, commit_lsn, source_ts_ms, table, batch_id",
    ],
    [
      'format("{a}-{b}", a: 1)',
      7,
      'UNKNOWN_PLACEHOLDER',
      'format() placeholder {b} has no argument; given: a',
    ],
    [
      'to_timestamp($.t, format: "dd.MM")',
      26,
      'BAD_ARGUMENTS',
      'format "dd.MM" is neither auto, iso8601, epoch_ms, epoch_s nor a readable pattern: it has no year (use yyyy, MM and dd)',
    ],
    [
      'hash($.a, algorithm: "crc32")',
      21,
      'BAD_ARGUMENTS',
      'hash() algorithm must be one of sha256, sha1, md5',
    ],
  ])('%s', (expr, offset, code, detail) => {
    expect(seen(compileErrors(mappingText(`fields:\n  a: '${expr}'`)))).toEqual([
      [code, `test.yaml:8:${7 + offset}: ${detail}`],
    ]);
  });

  it('names the variables defined so far for an unknown one', () => {
    expect(seen(compileErrors(mappingText('let:\n  ts: $.t\nfields:\n  a: $tss')))).toEqual([
      [
        'UNKNOWN_VARIABLE',
        "test.yaml:10:6: unknown variable $tss (did you mean '$ts'?); defined so far: $ts, $row",
      ],
    ]);
  });

  it('rejects an unknown literal unit at compile time and says how to alias it', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: \'convert_unit($.v, "degF", "Cel")\'')))).toEqual([
      [
        'UNKNOWN_UNIT',
        'test.yaml:8:25: unknown unit \'degF\': not a UCUM code (UCUM suggests [degF]); add it to units.aliases, e.g. "degF": "[degF]"',
      ],
    ]);
  });

  it('rejects a literal unit pair that measures different things', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: \'convert_unit($.v, "Cel", "kPa")\'')))).toEqual([
      [
        'INCOMPATIBLE_UNITS',
        'test.yaml:8:7: cannot convert Cel to kPa: the units measure different quantities',
      ],
    ]);
  });

  it('rejects an alias to something that is not UCUM', () => {
    expect(
      seen(compileErrors(mappingText('units:\n  aliases: { degF: "degF" }\nfields:\n  a: $.v'))),
    ).toEqual([
      ['UNKNOWN_UNIT', expect.stringMatching(/^test\.yaml:8:20: unknown unit 'degF': not a UCUM code/)],
    ]);
  });

  it('rejects an unknown literal time zone', () => {
    expect(
      seen(compileErrors(mappingText('fields:\n  a: \'to_timestamp($.t, tz: "Europe/Hamburg")\''))),
    ).toEqual([
      [
        'UNKNOWN_TIME_ZONE',
        'test.yaml:8:29: unknown time zone "Europe/Hamburg"; use "UTC", an offset like "+02:00", or an IANA zone like "Europe/Berlin"',
      ],
    ]);
  });

  it('points into block scalars', () => {
    const errors = compileErrors(
      mappingText('fields:\n  a: >-\n    format("x{y}",\n           y: nope($.a))'),
    );
    expect(seen(errors)).toEqual([
      ['UNKNOWN_FUNCTION', expect.stringMatching(/^test\.yaml:10:15: unknown function nope\(\)/)],
    ]);
  });
});
