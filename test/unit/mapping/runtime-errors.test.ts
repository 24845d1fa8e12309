import { describe, expect, it } from 'vitest';
import { MappingError } from '../../../src/mapping/index.ts';
import { mappingWith } from './helpers.ts';

const lineage = { mapping_id: 'test-mapping', mapping_version: 3 };

// One value that cannot be converted, under each on_error policy (mappings/README.md).
function withPolicy(policy: string, extra = ''): string {
  return [
    'explode: $.readings',
    'fields:',
    '  n: $.n',
    '  value:',
    '    expr: to_number($.v)',
    `    on_error: ${policy}`,
    extra,
    '  quality: 1',
  ].join('\n');
}
const payload = {
  readings: [
    { n: 1, v: '20.5' },
    { n: 2, v: 'n/a' },
    { n: 3, v: 7 },
  ],
};
const notANumber = 'test.yaml:11:11: field \'value\' (element 1): "n/a" is not a number';

describe('a runtime conversion error and each on_error policy', () => {
  it('null_and_flag keeps the row with value null, applies flag, and reports the error', () => {
    const result = mappingWith(withPolicy('null_and_flag', '    flag: { quality: 4 }')).map(payload);
    expect(result.rows).toEqual([
      { n: 1, value: 20.5, quality: 1, ...lineage },
      { n: 2, value: null, quality: 4, ...lineage },
      { n: 3, value: 7, quality: 1, ...lineage },
    ]);
    expect(result.deadLetter).toBeNull();
    expect(result.errors.map((e) => [e.code, e.message, e.policy, e.field, e.element])).toEqual([
      ['NOT_A_NUMBER', notANumber, 'null_and_flag', 'value', 1],
    ]);
  });

  it('drop_row skips that row only and reports the error', () => {
    const result = mappingWith(withPolicy('drop_row')).map(payload);
    expect(result.rows.map((r) => r.n)).toEqual([1, 3]);
    expect(result.errors.map((e) => [e.code, e.message, e.policy])).toEqual([
      ['NOT_A_NUMBER', notANumber, 'drop_row'],
    ]);
  });

  it('default uses the default value and reports the error', () => {
    const result = mappingWith(withPolicy('default', '    default: -1')).map(payload);
    expect(result.rows.map((r) => r.value)).toEqual([20.5, -1, 7]);
    expect(result.errors.map((e) => [e.code, e.policy])).toEqual([['NOT_A_NUMBER', 'default']]);
  });

  it('dead_letter sends the whole message to the dead letters, with mapping id, version and location', () => {
    const result = mappingWith(withPolicy('dead_letter')).map(payload);
    expect(result.rows).toEqual([]);
    const dead = result.deadLetter!;
    expect([dead.code, dead.message, dead.mappingId, dead.mappingVersion, dead.at]).toEqual([
      'NOT_A_NUMBER',
      notANumber,
      'test-mapping',
      3,
      'test.yaml:11:11',
    ]);
    expect(dead.retriable).toBe(false);
  });

  it('fail_batch throws, so the whole batch is replayed', () => {
    const mapping = mappingWith(withPolicy('fail_batch'));
    expect(() => mapping.map(payload)).toThrow(MappingError);
    try {
      mapping.map(payload);
    } catch (e) {
      expect([(e as MappingError).code, (e as MappingError).message, (e as MappingError).policy]).toEqual([
        'NOT_A_NUMBER',
        notANumber,
        'fail_batch',
      ]);
    }
  });

  it('the file-level on_error applies to fields without their own', () => {
    const mapping = mappingWith('on_error: drop_row\nexplode: $.readings\nfields:\n  value: to_number($.v)');
    expect(mapping.map(payload).rows.map((r) => r.value)).toEqual([20.5, 7]);
  });

  it('a bad record never stops the others in a batch', async () => {
    const mapping = mappingWith(withPolicy('dead_letter'));
    const good = { readings: [{ n: 9, v: 1 }] };
    const batch = await mapping.mapBatch([{ payload: good }, { payload }, { payload: good }]);
    expect(batch.rows.map((r) => r.n)).toEqual([9, 9]);
    expect(batch.rowInputs).toEqual([0, 2]);
    expect(batch.failed.map((f) => [f.index, f.error.code])).toEqual([[1, 'NOT_A_NUMBER']]);
    expect(batch.flagged).toEqual([]);
  });

  it('a batch under fail_batch rejects', async () => {
    const mapping = mappingWith(withPolicy('fail_batch'));
    await expect(mapping.mapBatch([{ payload }])).rejects.toThrow(notANumber);
  });
});

describe('other runtime errors a person sees', () => {
  it.each([
    [
      "'$.a + 1'",
      { a: 'x' },
      'TYPE_MISMATCH',
      `field 'f': '+' needs two numbers or two strings, got "x" and 1; use format() to build text`,
    ],
    ["'$.a / $.b'", { a: 1, b: 0 }, 'DIVISION_BY_ZERO', "field 'f': division by zero in '/'"],
    [
      "'$.a && true'",
      { a: 1 },
      'NOT_A_BOOLEAN',
      `field 'f': '&&' needs true, false or null, got 1; compare it, e.g. $.x == "yes"`,
    ],
    [
      "'$.a < 2'",
      { a: 'x' },
      'TYPE_MISMATCH',
      "field 'f': '<' compares two numbers or two strings, got \"x\" and 2; convert with to_number()",
    ],
    [
      "'match $.a { x: 1 }'",
      { a: 'y' },
      'NO_MATCHING_CASE',
      `field 'f': no case matches "y"; cases: x; add _: <value> for a fallback`,
    ],
    ["'lower($.a)'", { a: 5 }, 'NOT_A_STRING', "field 'f': lower() needs text, got 5; use to_string() first"],
    [
      "'to_timestamp($.a)'",
      { a: '2026-13-01T00:00:00Z' },
      'NOT_A_TIMESTAMP',
      `field 'f': "2026-13-01T00:00:00Z" is not a valid date and time`,
    ],
    [
      "'to_timestamp($.a)'",
      { a: '20.08.2026' },
      'NOT_A_TIMESTAMP',
      `field 'f': "20.08.2026" is not an ISO-8601 timestamp; expected e.g. 2026-08-20T10:15:30Z or 2026-08-20T12:15:30+02:00`,
    ],
    [
      "'to_timestamp($.a)'",
      { a: '2026-08-20T10:00:00' },
      'NAIVE_TIMESTAMP',
      `field 'f': "2026-08-20T10:00:00" has no time zone; add Z or an offset at the source, or pass tz: "UTC" (or an IANA zone such as "Europe/Berlin")`,
    ],
    [
      '\'convert_unit($.v, $.u, "Cel")\'',
      { v: 1, u: 'furlong' },
      'UNKNOWN_UNIT',
      `field 'f': unknown unit 'furlong': not a UCUM code; add it to units.aliases, e.g. "furlong": "<UCUM code>"`,
    ],
    [
      '\'convert_unit($.v, $.u, "Cel")\'',
      { v: 1, u: 'kPa' },
      'INCOMPATIBLE_UNITS',
      "field 'f': cannot convert kPa to Cel: the units measure different quantities",
    ],
    [
      '\'convert_unit($.v, "K", "Cel")\'',
      { v: 'hot' },
      'NOT_A_NUMBER',
      `field 'f': convert_unit() needs a number, got "hot"; wrap it in to_number()`,
    ],
  ])('%s on %j', (expr, input, code, detail) => {
    const result = mappingWith(`fields:\n  f: ${expr}`).map(input);
    expect([result.deadLetter?.code, result.deadLetter?.detail]).toEqual([code, detail]);
  });

  it('explode accepts a trailing [*], and an empty array maps to no rows', () => {
    const mapping = mappingWith('explode: $.readings[*]\nlet:\n  id: $$.id\nfields:\n  id: $id\n  v: $.v');
    expect(mapping.map({ id: 'd', readings: [{ v: 1 }, { v: 2 }] }).rows.map((r) => [r.id, r.v])).toEqual([
      ['d', 1],
      ['d', 2],
    ]);
    expect(mapping.map({ id: 'd', readings: [] })).toEqual({
      rows: [],
      rowElements: [],
      errors: [],
      deadLetter: null,
    });
  });

  it('explode on something that is neither an array nor an object dead-letters the message', () => {
    const result = mappingWith('explode: $.readings\nfields:\n  a: $.x').map({ readings: 'x=1' });
    expect([result.deadLetter?.code, result.deadLetter?.message]).toEqual([
      'EXPLODE_NOT_ARRAY',
      'test.yaml:7:10: explode: $.readings: expected an array or an object, got "x=1"',
    ]);
  });

  it('where skips rows quietly, and a non-boolean where is an error', () => {
    const mapping = mappingWith('explode: $.r\nwhere: $.keep\nfields:\n  a: $.a');
    expect(
      mapping.map({ r: [{ a: 1, keep: true }, { a: 2, keep: false }, { a: 3 }] }).rows.map((r) => r.a),
    ).toEqual([1]);
    const result = mapping.map({ r: [{ a: 1, keep: 'yes' }] });
    expect([result.deadLetter?.code, result.deadLetter?.detail]).toEqual([
      'NOT_A_BOOLEAN',
      'where (element 0): where must be true or false, got "yes"',
    ]);
  });
});

describe('source contract', () => {
  const contract = [
    'source:',
    '  topic: t',
    '  unknown_fields: UNKNOWN',
    '  schema:',
    '    type: object',
    '    required: [id]',
    '    properties:',
    '      id: { type: string }',
    '      items: { type: array, items: { type: object, properties: { v: { type: number } } } }',
  ].join('\n');
  const text = (policy: string, fields = 'fields:\n  id: $.id') =>
    [
      'apiVersion: hub.mapping/v1',
      'kind: FactMapping',
      'id: c',
      'version: 1',
      'target: { table: x }',
      contract.replace('UNKNOWN', policy),
      fields,
    ].join('\n');

  it('validates before mapping and dead-letters what does not match', async () => {
    const { compileMappingText } = await import('../../../src/mapping/index.ts');
    const result = compileMappingText(text('warn'), 'c.yaml').map({ id: 7 });
    expect([result.deadLetter?.code, result.deadLetter?.message]).toEqual([
      'SOURCE_INVALID',
      'c.yaml:9:3: the record does not match the source schema: $.id must be string',
    ]);
  });

  it.each([
    ['ignore', 1, [], null],
    [
      'warn',
      1,
      [
        [
          'UNKNOWN_FIELD',
          'warn',
          'the record has fields the source schema does not declare: $.extra, $.items[0].w',
        ],
      ],
      null,
    ],
    [
      'fail',
      0,
      [
        [
          'UNKNOWN_FIELD',
          'dead_letter',
          'the record has fields the source schema does not declare: $.extra, $.items[0].w (source.unknown_fields: fail)',
        ],
      ],
      'UNKNOWN_FIELD',
    ],
  ])('unknown_fields: %s', async (policy, rows, errors, dead) => {
    const { compileMappingText } = await import('../../../src/mapping/index.ts');
    const result = compileMappingText(text(policy), 'c.yaml').map({
      id: 'a',
      extra: 1,
      items: [{ v: 1, w: 2 }],
    });
    expect(result.rows.length).toBe(rows);
    expect(result.errors.map((e) => [e.code, e.policy, e.detail])).toEqual(errors);
    expect(result.deadLetter?.code ?? null).toBe(dead);
  });

  it('refuses at compile time a path that can never match the source schema', async () => {
    const { compileMappingText, MappingInvalidError } = await import('../../../src/mapping/index.ts');
    const bad = text('warn', 'fields:\n  id: $.idd\n  v: $.items[0].value\n  w: $.id.x\n  z: $.idd.x');
    try {
      compileMappingText(bad, 'c.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as InstanceType<typeof MappingInvalidError>).errors.map((x) => [x.code, x.message])).toEqual([
        [
          'UNKNOWN_PATH',
          "c.yaml:16:9: $.idd can never match the source schema: $ has no field 'idd' (did you mean 'id'?); it has id, items",
        ],
        [
          'UNKNOWN_PATH',
          "c.yaml:17:17: $.items[0].value can never match the source schema: $.items[0] has no field 'value'; it has v",
        ],
        ['UNKNOWN_PATH', "c.yaml:18:11: $.id is a string in the source schema, so it has no field 'x'"],
        // The offending segment is pointed at, not the end of the path.
        [
          'UNKNOWN_PATH',
          "c.yaml:19:8: $.idd can never match the source schema: $ has no field 'idd' (did you mean 'id'?); it has id, items",
        ],
      ]);
    }
  });
});
