import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

describe('the JSONata escape hatch', () => {
  const body = [
    'explode: $.readings',
    'let:',
    '  device: $$.id',
    'fields:',
    '  device_id: $device',
    '  label:',
    "    expr: { jsonata: \"$uppercase(m) & '@' & $device & '/' & $root.site\" }",
    '  n: $.v',
  ].join('\n');

  it('compiles once, sees the element as input and $root, $meta and lets as bindings', async () => {
    const mapping = mappingWith(body);
    expect(mapping.async).toBe(true);
    const result = await mapping.mapAsync({
      id: 'd1',
      site: 'HAM',
      readings: [
        { m: 'temp', v: 1 },
        { m: 'vib', v: 2 },
      ],
    });
    expect(result.rows).toEqual([
      { device_id: 'd1', label: 'TEMP@d1/HAM', n: 1, mapping_id: 'test-mapping', mapping_version: 3 },
      { device_id: 'd1', label: 'VIB@d1/HAM', n: 2, mapping_id: 'test-mapping', mapping_version: 3 },
    ]);
  });

  it('makes map() refuse with ASYNC_MAPPING, and mapBatch works', async () => {
    const mapping = mappingWith(body);
    expect(() => mapping.map({})).toThrow(
      'mapping test-mapping v3 uses JSONata, which is asynchronous; call mapAsync() or mapBatch()',
    );
    const batch = await mapping.mapBatch([{ payload: { id: 'x', site: 's', readings: [{ m: 'a', v: 0 }] } }]);
    expect(batch.rows.map((r) => r.label)).toEqual(['A@x/s']);
  });

  it('cannot reach process, constructors or globals', async () => {
    const mapping = mappingWith(
      'fields:\n  a: { expr: { jsonata: "$process" } }\n  b: { expr: { jsonata: "$.constructor.constructor(\'return process\')()" }, on_error: null_and_flag }',
    );
    const result = await mapping.mapAsync({ x: 1 });
    expect(result.rows[0]!.a).toBeNull();
    expect(result.rows[0]!.b).toBeNull();
  });

  it('stops a runaway expression with the time limit and reports JSONATA_LIMIT', async () => {
    const mapping = mappingWith(
      'jsonata: { timeout_ms: 30, stack: 100 }\nfields:\n  a:\n    expr: { jsonata: "($f := function($n){ $n > 0 ? $f($n - 1) : 0 }; $f(100000))" }\n    on_error: null_and_flag',
    );
    const result = await mapping.mapAsync({});
    expect(result.rows[0]!.a).toBeNull();
    expect(result.errors.map((e) => [e.code, e.field, e.policy])).toEqual([
      ['JSONATA_LIMIT', 'a', 'null_and_flag'],
    ]);
    expect(result.errors[0]!.detail).toMatch(
      /^field 'a': JSONata D101[12]: .*\(limits: timeout_ms 30, stack 100, sequence 10000\)$/,
    );
  });

  it('reports a JSONata syntax error at its place in the file', () => {
    const errors = compileErrors(mappingText('fields:\n  a: { expr: { jsonata: "$.a +" } }'));
    expect(seen(errors)).toEqual([
      ['JSONATA_SYNTAX', 'test.yaml:8:30: JSONata S0207: Unexpected end of expression'],
    ]);
  });
});
