import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileMappingText } from '../../../src/mapping/index.ts';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

// A contract inline in source.schema: a gateway with sensors, each with readings and a settings object.
const contract = JSON.stringify({
  type: 'object',
  properties: {
    gw: { type: 'string' },
    note: { type: 'string' },
    sensors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          readings: { type: 'array', items: { type: 'object', properties: { v: { type: 'number' } } } },
          values: { type: 'object', additionalProperties: { type: 'number' } },
        },
      },
    },
  },
});

function withContract(body: string): string {
  return [
    'apiVersion: hub.mapping/v1',
    'kind: FactMapping',
    'id: test-mapping',
    'version: 1',
    `source: { topic: t, schema: ${contract} }`,
    'target: { table: dw.x }',
    body,
  ].join('\n');
}

describe('explode is checked against the source contract', () => {
  it('refuses a target the contract declares as neither array nor object', () => {
    expect(seen(compileErrors(withContract('explode: $.note\nfields:\n  a: $.x')))).toEqual([
      [
        'EXPLODE_NOT_ARRAY',
        'test.yaml:7:12: explode $.note: the source schema declares $.note as a string; explode reads an array (one row per element) or an object (one row per {key, value} entry)',
      ],
    ]);
    expect(seen(compileErrors(withContract('explode: $.sensors[*].id[*]\nfields:\n  a: 1')))[0]?.[0]).toBe(
      'EXPLODE_NOT_ARRAY',
    );
  });

  it('checks paths in every level and in fields against the innermost element', () => {
    expect(seen(compileErrors(withContract('explode: $.sensors[*].reading[*]\nfields:\n  a: 1')))).toEqual([
      [
        'UNKNOWN_PATH',
        "test.yaml:7:23: $.reading can never match the source schema: $ has no field 'reading' (did you mean 'readings'?); it has id, readings, values",
      ],
    ]);
    expect(
      seen(compileErrors(withContract('explode: $.sensors[*].readings[*]\nfields:\n  a: $.val')))[0]?.[0],
    ).toBe('UNKNOWN_PATH');
    expect(
      seen(compileErrors(withContract('explode: $.sensors[*].readings[*]\nfields:\n  a: $parent.idd'))),
    ).toEqual([
      [
        'UNKNOWN_PATH',
        "test.yaml:9:14: $parent.idd can never match the source schema: $parent has no field 'idd' (did you mean 'id'?); it has id, readings, values",
      ],
    ]);
    expect(
      seen(compileErrors(withContract('explode: $.sensors\nfields:\n  a: $parent.gww')))[0]?.[1],
    ).toContain("$parent.gww can never match the source schema: $parent has no field 'gww'");
    // Object entries are {key, value}.
    expect(
      seen(compileErrors(withContract('explode: $.sensors[*].values\nfields:\n  a: $.name')))[0]?.[0],
    ).toBe('UNKNOWN_PATH');
    expect(() =>
      compileMappingText(
        withContract('explode: $.sensors[*].values\nfields:\n  a: $.key\n  b: $.value'),
        'test.yaml',
      ),
    ).not.toThrow();
  });
});

describe('target columns, unused lets, reserved names', () => {
  const fact = (fields: string, lookups = '') =>
    [
      'apiVersion: hub.mapping/v1',
      'kind: FactMapping',
      'id: test-mapping',
      'version: 1',
      'source: { topic: t }',
      'target: { table: dw.fact_sensor_reading }',
      `fields:\n${fields}`,
      lookups,
    ].join('\n');

  it('a FactMapping must produce what its table needs for required columns', () => {
    expect(seen(compileErrors(fact('  device_id: $.d\n  value: $.v')))).toEqual([
      [
        'MISSING_TARGET_COLUMN',
        "test.yaml:7:1: dw.fact_sensor_reading.metric_sk is required (NOT NULL) and is looked up in dim_metric by field 'metric' (or the field a dim_metric lookup names); add fields.metric",
      ],
      [
        'MISSING_TARGET_COLUMN',
        "test.yaml:7:1: dw.fact_sensor_reading.reading_ts is required (NOT NULL) and comes from field 'ts'; add fields.ts",
      ],
    ]);
    // A lookup naming another field satisfies its column.
    expect(() =>
      compileMappingText(
        fact(
          '  dev: $.d\n  metric: $.m\n  ts: $.t',
          'lookups:\n  device: { dimension: dim_device, natural_key: { device_nk: dev } }',
        ),
        'test.yaml',
      ),
    ).not.toThrow();
  });

  it('warns about lets nothing reads, without refusing the mapping', () => {
    const mapping = mappingWith('let:\n  a: $.a\n  b: $a\n  c: $.c\nfields:\n  x: $c');
    expect(mapping.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'UNUSED_LET',
        "test.yaml:8:3: let 'a' is never read (by a field, another let, where or explode); remove it or use it as $a",
      ],
      [
        'UNUSED_LET',
        "test.yaml:9:3: let 'b' is never read (by a field, another let, where or explode); remove it or use it as $b",
      ],
    ]);
    expect(mappingWith('let:\n  a: $.a\nfields:\n  x: { expr: { jsonata: "$a" } }').warnings).toEqual([]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s as a field or let name', (name) => {
    const reason = `is reserved: as a key it would reach the prototype of every row (__proto__, constructor, prototype are refused); choose another name`;
    expect(seen(compileErrors(mappingText(`fields:\n  ${name}: $.a`)))).toEqual([
      ['INVALID_MAPPING', `test.yaml:8:3: '${name}' in 'fields' ${reason}`],
    ]);
    expect(seen(compileErrors(mappingText(`let:\n  ${name}: $.a\nfields:\n  a: 1`)))).toEqual([
      ['INVALID_MAPPING', `test.yaml:8:3: '${name}' in 'let' ${reason}`],
    ]);
  });
});

describe('source.schema stays inside the mapping folder', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'struct-validation-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'mappings', 'contracts'), { recursive: true });
  writeFileSync(path.join(dir, 'outside.schema.json'), '{"type":"object"}');
  writeFileSync(path.join(dir, 'mappings', 'contracts', 'ok.schema.json'), '{"type":"object"}');
  symlinkSync(
    path.join(dir, 'outside.schema.json'),
    path.join(dir, 'mappings', 'contracts', 'link.schema.json'),
  );
  const file = path.join(dir, 'mappings', 'm.yaml');
  const withSchema = (ref: string) =>
    mappingText('fields:\n  a: $.a').replace('{ topic: t }', `{ topic: t, schema: ${ref} }`);

  it('accepts a contract under the folder', () => {
    expect(() => compileMappingText(withSchema('contracts/ok.schema.json'), file)).not.toThrow();
  });

  it.each(['../outside.schema.json', 'contracts/link.schema.json', path.join(dir, 'outside.schema.json')])(
    'refuses %s',
    (ref) => {
      const [error] = compileErrors(withSchema(ref), file);
      expect(error?.code).toBe('CONTRACT_INVALID');
      expect(error?.message).toContain(`${file}:5:`);
      expect(error?.detail).toContain(`source.schema ${ref} leads outside the mapping's folder`);
    },
  );
});
