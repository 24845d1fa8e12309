import { describe, expect, it } from 'vitest';
import { MAX_EXPRESSION_DEPTH } from '../../../src/mapping/expression/parser.ts';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

const lineage = { mapping_id: 'test-mapping', mapping_version: 3 };

/** The single field `out` of one record, or `!CODE` when the record was dead-lettered. */
function evaluate(fieldYaml: string, input: unknown = {}): unknown {
  const result = mappingWith(`fields:\n  out: ${fieldYaml}`).map(input);
  return result.deadLetter ? `!${result.deadLetter.code}` : result.rows[0]!.out;
}

/** [code, message] of compiling `fields: a: '<expr>'`; the expression starts at column 7 of line 8. */
function errorsOf(expr: string): Array<[string, string]> {
  return seen(compileErrors(mappingText(`fields:\n  a: '${expr}'`)));
}

describe('named arguments', () => {
  it('name=value needs no YAML quoting, and means the same as name: value', () => {
    const plain = 'to_timestamp($.t, format="epoch_s", tz="UTC")';
    const quoted = '\'to_timestamp($.t, format: "epoch_s", tz: "UTC")\'';
    expect(evaluate(plain, { t: 1787220930 })).toBe('2026-08-20T10:15:30.000Z');
    expect(evaluate(quoted, { t: 1787220930 })).toBe('2026-08-20T10:15:30.000Z');
    expect(evaluate('round($.v, digits = 1)', { v: 2.25 })).toBe(2.3);
  });

  it('== inside an argument is still a comparison', () => {
    expect(evaluate('coalesce($.a == 1, false)', { a: 1 })).toBe(true);
  });
});

describe('hints for operators from other languages', () => {
  it.each([
    ['$.a = 1', 4, "'=' does not compare; use == (name=value is only for a function's named arguments)"],
    [
      '$.a > 1 and $.b',
      8,
      "'and' is not an operator here; write && (operators: && || ! == != < <= > >= + - * / % ??)",
    ],
    [
      '$.a or $.b',
      4,
      "'or' is not an operator here; write || (operators: && || ! == != < <= > >= + - * / % ??)",
    ],
    [
      'not $.a',
      0,
      "'not' is not an operator here; write ! (operators: && || ! == != < <= > >= + - * / % ??)",
    ],
  ])('%s', (expr, offset, detail) => {
    expect(errorsOf(expr)).toEqual([['PARSE_ERROR', `test.yaml:8:${7 + offset}: ${detail}`]]);
  });
});

describe('expression indexes', () => {
  it.each([
    ['$.list[$.i]', { list: ['a', 'b', 'c'], i: 1 }, 'b'],
    ['$.list[$.i - 1]', { list: ['a', 'b', 'c'], i: 3 }, 'c'],
    ['$.list[-$.i]', { list: ['a', 'b', 'c'], i: 1 }, 'c'],
    ['$.list[$.i]', { list: ['a'], i: 7 }, null],
    ['$.list[$.i]', { list: ['a'] }, null],
    ['$.byName[$.k].v', { byName: { temp: { v: 21 } }, k: 'temp' }, 21],
    ['$$.readings[$.i]', { readings: [5, 6], i: 0 }, 5],
    ['split($.path, "/")[$.depth]', { path: 'HAM/L1/P-101', depth: 2 }, 'P-101'],
  ])('%s on %j', (expr, input, expected) => {
    expect(evaluate(`'${expr}'`, input)).toBe(expected);
  });

  it('an index that is not a whole number or a key fails the value, with its position', () => {
    const result = mappingWith("fields:\n  out: '$.list[$.i]'").map({ list: [1], i: 0.5 });
    expect(result.deadLetter?.code).toBe('TYPE_MISMATCH');
    expect(result.deadLetter?.message).toBe(
      "test.yaml:8:16: field 'out': an index must be a whole number or a key text, got 0.5; use round() or to_string()",
    );
  });

  it('a key computed to a prototype name finds nothing, and a constant one is refused', () => {
    expect(evaluate("'$[$.k]'", { k: 'constructor' })).toBeNull();
    expect(errorsOf('$[("con" + "structor")]')).toEqual([
      [
        'FORBIDDEN_PROPERTY',
        "test.yaml:8:9: 'constructor' is not allowed: expressions cannot reach prototypes (__proto__, constructor, prototype are rejected)",
      ],
    ]);
  });

  it('a constant index that is not a whole number is refused when the mapping loads', () => {
    expect(errorsOf('$.list[1.5]')).toEqual([
      [
        'TYPE_MISMATCH',
        'test.yaml:8:14: an index must be a whole number or a key text, got 1.5; use round() or to_string()',
      ],
    ]);
  });

  it('an empty subscript says what belongs there', () => {
    expect(errorsOf('$.a[]')).toEqual([
      [
        'PARSE_ERROR',
        'test.yaml:8:11: unexpected \']\'; expected an index (0, -1, $.i), a key ("name") or * inside [ ]',
      ],
    ]);
  });
});

describe('expression depth', () => {
  const limit = `expression is nested more than ${MAX_EXPRESSION_DEPTH} levels deep; split it into let variables`;

  it.each([
    ['parentheses', `${'('.repeat(10_000)}1${')'.repeat(10_000)}`, MAX_EXPRESSION_DEPTH],
    // 1 + 1 + ... nests to the left: the right operand of the 200th '+' from the end is level 201.
    ['a chain of operators', Array(10_000).fill('1').join(' + '), 4 * (10_000 - MAX_EXPRESSION_DEPTH)],
    ['unary minus', `${'-'.repeat(10_000)}1`, MAX_EXPRESSION_DEPTH],
    ['nested calls', `${'lower('.repeat(10_000)}"a"${')'.repeat(10_000)}`, 6 * MAX_EXPRESSION_DEPTH],
  ])(
    'a 10,000-deep expression (%s) is refused at its position, without a stack overflow',
    (_kind, expr, offset) => {
      expect(errorsOf(expr)).toEqual([['PARSE_ERROR', `test.yaml:8:${7 + offset}: ${limit}`]]);
    },
  );

  it('points into a block scalar at the right line', () => {
    const deep = `${'('.repeat(300)}1${')'.repeat(300)}`;
    const errors = compileErrors(mappingText(`fields:\n  a: >-\n    $.x +\n    ${deep}`));
    expect(seen(errors)).toEqual([['PARSE_ERROR', `test.yaml:10:${5 + MAX_EXPRESSION_DEPTH - 1}: ${limit}`]]);
  });

  it(`${MAX_EXPRESSION_DEPTH} levels are fine`, () => {
    const expr = `${'('.repeat(MAX_EXPRESSION_DEPTH - 1)}$.v${')'.repeat(MAX_EXPRESSION_DEPTH - 1)}`;
    expect(evaluate(`'${expr}'`, { v: 4 })).toBe(4);
  });
});

describe('constant parts that always fail are refused when the mapping loads', () => {
  it.each([
    [
      '1 + "a"',
      2,
      'TYPE_MISMATCH',
      `'+' needs two numbers or two strings, got 1 and "a"; use format() to build text (its inputs are constant, so it fails for every record)`,
    ],
    [
      '$.x / 0',
      4,
      'DIVISION_BY_ZERO',
      "division by zero in '/': the divisor is the constant 0, so it never gives a number",
    ],
    [
      '$.x % (2 - 2)',
      4,
      'DIVISION_BY_ZERO',
      "division by zero in '%': the divisor is the constant 0, so it never gives a number",
    ],
    [
      'to_number("n/a") * $.x',
      0,
      'NOT_A_NUMBER',
      '"n/a" is not a number (its inputs are constant, so it fails for every record)',
    ],
    [
      '!"yes"',
      0,
      'NOT_A_BOOLEAN',
      `'!' needs true, false or null, got "yes"; compare it, e.g. $.x == "yes" (its inputs are constant, so it fails for every record)`,
    ],
  ])('%s', (expr, offset, code, detail) => {
    expect(errorsOf(expr)).toEqual([[code, `test.yaml:8:${7 + offset}: ${detail}`]]);
  });

  it('folds constant parts that succeed into one value', () => {
    expect(evaluate("'$.v * (60 * 60) + round(1.25, digits: 1)'", { v: 2 })).toBe(7201.3);
    expect(evaluate("'round($.v, 1 + 1)'", { v: 1.234 })).toBe(1.23);
  });

  it('inside try, an always-failing constant is the point, so it is allowed', () => {
    expect(evaluate("'try(1 / 0, -1)'")).toBe(-1);
    expect(evaluate('\'try(to_number("n/a"), $.v)\'', { v: 3 })).toBe(3);
  });
});

describe('try(value, fallback)', () => {
  const payload = { readings: [{ v: '20.5' }, { v: 'n/a' }] };

  it('uses the fallback when value fails, and reports nothing', () => {
    const result = mappingWith("explode: $.readings\nfields:\n  value: 'try(to_number($.v), -1)'").map(
      payload,
    );
    expect(result.rows).toEqual([
      { value: 20.5, ...lineage },
      { value: -1, ...lineage },
    ]);
    expect(result.errors).toEqual([]);
    expect(result.deadLetter).toBeNull();
  });

  it('where on_error: default reports each fallback as an error', () => {
    const result = mappingWith(
      'explode: $.readings\nfields:\n  value:\n    expr: to_number($.v)\n    on_error: default\n    default: -1',
    ).map(payload);
    expect(result.rows.map((r) => r.value)).toEqual([20.5, -1]);
    expect(result.errors.map((e) => [e.code, e.policy])).toEqual([['NOT_A_NUMBER', 'default']]);
  });

  it('evaluates the fallback only when value fails', () => {
    // The fallback would fail too (a number is not text); it is never reached when value succeeds.
    expect(evaluate("'try($.a, lower($.n))'", { a: 'x', n: 5 })).toBe('x');
    expect(evaluate("'try(lower($.n), $.a)'", { a: 'x', n: 5 })).toBe('x');
  });

  it('a fallback that fails too fails the field with its own error', () => {
    const result = mappingWith("fields:\n  out: 'try(lower($.n), upper($.n))'").map({ n: 5 });
    expect(result.deadLetter?.message).toBe(
      "test.yaml:8:25: field 'out': upper() needs text, got 5; use to_string() first",
    );
  });

  it('null is a value, not a failure', () => {
    expect(evaluate("'try($.missing, 1)'")).toBeNull();
  });
});

describe('unknown functions', () => {
  const jsonata =
    'for anything else write the field in JSONata: expr: { jsonata: "..." } (mappings/README.md, Expressions)';

  it.each([
    ['subtring($.s, 1)', 'substring'],
    ['to_nubmer($.s)', 'to_number'],
    ['regex_mach($.s, "a")', 'regex_match'],
    ['startswith($.s, "a")', 'starts_with'],
    ['typeof($.s)', 'type_of'],
  ])('%s suggests %s and mentions the JSONata escape hatch', (expr, meant) => {
    const [error] = compileErrors(mappingText(`fields:\n  a: '${expr}'`));
    expect(error!.code).toBe('UNKNOWN_FUNCTION');
    expect(error!.message).toContain(`(did you mean '${meant}'?); available: coalesce, contains,`);
    expect(error!.message).toMatch(
      new RegExp(`\\(docs/mapping-functions\\.md\\); ${jsonata.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it('substring is a function now, not a typo of to_string', () => {
    expect(evaluate("'substring($.s, 0, 3)'", { s: 'HAM-L1' })).toBe('HAM');
  });
});
