import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

describe('where runs before the lets it does not read', () => {
  // The CSV case: an empty column would fail to_number and dead-letter the whole message.
  const csv = mappingWith(
    [
      'explode: $.cols',
      'let:',
      '  raw: trim($.v)',
      '  value: to_number($raw)',
      '  stamp: to_timestamp($$.ts)',
      'where: $raw != ""',
      'fields:',
      '  metric: $.m',
      '  value: $value',
      '  ts: $stamp',
    ].join('\n'),
  );

  it('skips a row before evaluating lets only kept rows need', () => {
    const result = csv.map({
      ts: '2026-08-20T10:00:00Z',
      cols: [
        { m: 'a', v: '1.5' },
        { m: 'b', v: ' ' },
      ],
    });
    expect(result.deadLetter).toBeNull();
    expect(result.errors).toEqual([]);
    expect(result.rows.map((r) => [r.metric, r.value, r.ts])).toEqual([
      ['a', 1.5, '2026-08-20T10:00:00.000Z'],
    ]);
  });

  it('evaluates message lets where does not read only when a row is kept', () => {
    // A bad ts would dead-letter the message; with every row skipped, nothing reads it.
    const skipped = csv.map({ ts: 'not a time', cols: [{ m: 'b', v: '' }] });
    expect([skipped.rows, skipped.deadLetter]).toEqual([[], null]);
    const kept = csv.map({ ts: 'not a time', cols: [{ m: 'a', v: '1' }] });
    expect(kept.deadLetter?.code).toBe('NOT_A_TIMESTAMP');
  });

  it('keeps lets where reads before it, without explode too', () => {
    const mapping = mappingWith(
      'let:\n  kind: lower($.kind)\n  n: to_number($.n)\nwhere: $kind == "data"\nfields:\n  n: $n',
    );
    expect(mapping.map({ kind: 'HEARTBEAT', n: 'x' })).toMatchObject({ rows: [], deadLetter: null });
    expect(mapping.map({ kind: 'DATA', n: '7' }).rows.map((r) => r.n)).toEqual([7]);
  });
});

describe('the asynchronous path (JSONata fields) keeps the same order', () => {
  it('skips rows before deferred lets, and binds $parent and $row like the synchronous path', async () => {
    const mapping = mappingWith(
      [
        'explode: $.sensors[*].readings[*]',
        'let:',
        '  stamp: to_timestamp($$.ts)',
        'where: $.v != null',
        'fields:',
        '  sensor: { expr: { jsonata: "$parent.id" } }',
        '  v: $.v',
        '  doubled: $row.v * 2',
        '  ts: $stamp',
      ].join('\n'),
    );
    expect(mapping.async).toBe(true);
    const skipped = await mapping.mapAsync({ ts: 'bad', sensors: [{ id: 'a', readings: [{ v: null }] }] });
    expect([skipped.rows, skipped.deadLetter]).toEqual([[], null]);
    const result = await mapping.mapAsync({
      ts: '2026-08-20T10:00:00Z',
      sensors: [
        { id: 'a', readings: [{ v: 1 }, { v: null }] },
        { id: 'b', readings: [{ v: 3 }] },
      ],
    });
    expect(result.rows.map((r) => [r.sensor, r.v, r.doubled, r.ts])).toEqual([
      ['a', 1, 2, '2026-08-20T10:00:00.000Z'],
      ['b', 3, 6, '2026-08-20T10:00:00.000Z'],
    ]);
    expect(result.rowElements).toEqual([0, 2]);
  });
});

describe('fields read other fields as $row.<field>', () => {
  it('reads the value another field computed, in any declaration order', () => {
    const mapping = mappingWith(
      [
        'fields:',
        "  quality: 'match { $row.value == null: 9, $row.value > 100: 3, _: 1 }'",
        '  value: to_number($.v)',
        '  label: format("{0} ({1})", $row.value, $row.quality)',
      ].join('\n'),
    );
    const rows = [{ v: '5' }, { v: '500' }, { v: null }].map((p) => mapping.map(p).rows[0]);
    expect(rows.map((r) => [r?.value, r?.quality])).toEqual([
      [5, 1],
      [500, 3],
      [null, 9],
    ]);
    // The row keeps the declared column order.
    expect(Object.keys(rows[0]!)).toEqual(['quality', 'value', 'label', 'mapping_id', 'mapping_version']);
    expect(rows[0]?.label).toBe('5 (1)');
  });

  it('refuses cycles, unknown fields, and $row outside fields', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: $row.b + 1\n  b: $row.a\n  c: 1')))).toEqual([
      [
        'FIELD_CYCLE',
        'test.yaml:8:6: fields read each other in a cycle: a → b → a; one of them must compute its value from the input instead',
      ],
    ]);
    expect(seen(compileErrors(mappingText('fields:\n  a: $row.a')))).toEqual([
      ['FIELD_CYCLE', "test.yaml:8:6: field 'a' reads itself ($row.a); a field can read only other fields"],
    ]);
    expect(seen(compileErrors(mappingText('fields:\n  value: 1\n  b: $row.valeu')))).toEqual([
      [
        'UNKNOWN_FIELD_REF',
        "test.yaml:9:11: field 'b' reads $row.valeu, which the mapping does not produce (did you mean 'value'?); fields: value, b",
      ],
    ]);
    expect(seen(compileErrors(mappingText('let:\n  x: $row.a\nfields:\n  a: $x')))).toEqual([
      [
        'UNKNOWN_VARIABLE',
        'test.yaml:8:11: let cannot read $row: only fields read other fields ($row.<field>), and let is evaluated before them',
      ],
    ]);
    expect(seen(compileErrors(mappingText('where: $row.a\nfields:\n  a: 1')))[0]?.[0]).toBe(
      'UNKNOWN_VARIABLE',
    );
    expect(seen(compileErrors(mappingText('fields:\n  a: $row')))[0]).toEqual([
      'UNKNOWN_VARIABLE',
      'test.yaml:8:6: $row is the row being built: name the field to read, as $row.<field>',
    ]);
  });

  it('refuses lets named parent or row', () => {
    expect(seen(compileErrors(mappingText('let:\n  row: 1\n  parent: 2\nfields:\n  a: 1')))).toEqual([
      [
        'INVALID_MAPPING',
        "test.yaml:8:8: let 'row' is reserved: $parent is the element one explode level up and $row the row being built; rename the let",
      ],
      [
        'INVALID_MAPPING',
        "test.yaml:9:11: let 'parent' is reserved: $parent is the element one explode level up and $row the row being built; rename the let",
      ],
    ]);
  });
});
