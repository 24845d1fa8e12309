import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, seen } from './helpers.ts';

describe('mapping files: YAML and structure errors point at file:line:col', () => {
  it('reports broken YAML with the line, the column and a hint', () => {
    const errors = compileErrors(mappingText('fields:\n  ts: to_timestamp($.t, format: "epoch_ms")'));
    expect(seen(errors)).toEqual([
      [
        'YAML_SYNTAX',
        'test.yaml:8:7: invalid YAML: Nested mappings are not allowed in compact mappings; an expression containing \': \' (a named argument such as format: "epoch_ms") must be quoted with \'...\' or written as a block scalar (>-), or write the argument as format="epoch_ms"',
      ],
    ]);
  });

  it('reports an unclosed flow sequence', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: $.x\nexplode: [1, 2\n')))).toEqual([
      [
        'YAML_SYNTAX',
        'test.yaml:10:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ]);
  });

  it('reports duplicate keys', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: $.x\n  a: $.y')))).toEqual([
      ['YAML_SYNTAX', 'test.yaml:9:3: invalid YAML: Map keys must be unique'],
    ]);
  });

  it('rejects an unknown top-level key, suggests the right one and lists the allowed keys', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: $.x\nlokups: {}')))).toEqual([
      [
        'UNKNOWN_KEY',
        "test.yaml:9:1: unknown key 'lokups' in the mapping (did you mean 'lookups'?); allowed here: apiVersion, kind, id, version, description, source, units, jsonata, target, explode, where, let, fields, lookups, late_data, on_error, tests",
      ],
    ]);
  });

  it('rejects an unknown key inside a field', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: { expr: $.x, on_eror: drop_row }')))).toEqual([
      [
        'UNKNOWN_KEY',
        "test.yaml:8:19: unknown key 'on_eror' in 'fields.a' (did you mean 'on_error'?); allowed here: expr, const, match, cases, default, on_error, flag, description",
      ],
    ]);
  });

  it('rejects an unknown key in a nested section', () => {
    expect(
      seen(compileErrors(mappingText('fields:\n  a: $.x\nlate_data: { max_lateness: 7d, future: 5m }'))),
    ).toEqual([
      [
        'UNKNOWN_KEY',
        "test.yaml:9:32: unknown key 'future' in 'late_data' (did you mean 'future_skew'?); allowed here: future_skew, max_lateness",
      ],
    ]);
  });

  it('names the allowed values of an enum', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: { expr: $.x, on_error: ignore }')))).toEqual([
      [
        'INVALID_MAPPING',
        'test.yaml:8:29: \'fields.a.on_error\' must be one of "null_and_flag", "drop_row", "dead_letter", "fail_batch", "default"',
      ],
    ]);
  });

  it('says which required key is missing', () => {
    const text = [
      'apiVersion: hub.mapping/v1',
      'kind: FactMapping',
      'id: x',
      'source: {}',
      'target: {}',
      'fields: { a: $.x }',
    ].join('\n');
    expect(seen(compileErrors(text))).toEqual([
      ['INVALID_MAPPING', "test.yaml:1:1: the mapping is missing required key 'version'"],
    ]);
  });

  it('rejects field names that are not identifiers', () => {
    expect(seen(compileErrors(mappingText('fields:\n  "bad name": $.x')))).toEqual([
      [
        'INVALID_MAPPING',
        "test.yaml:8:3: 'bad name' in 'fields' is not a valid name: use letters, digits and _, not starting with a digit",
      ],
    ]);
  });

  it('checks that a field has exactly one of expr, const and match', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: { expr: $.x, const: 1 }')))).toEqual([
      ['INVALID_MAPPING', "test.yaml:8:6: field 'a' has expr and const; use exactly one"],
    ]);
  });

  it('checks on_error: default has a default and flag goes with null_and_flag', () => {
    expect(
      seen(
        compileErrors(
          mappingText('fields:\n  a: { expr: $.x, on_error: default }\n  b: { expr: $.y, flag: { a: 4 } }'),
        ),
      ),
    ).toEqual([
      [
        'INVALID_MAPPING',
        "test.yaml:8:29: field 'a' has on_error: default but no default value; add default: <value>",
      ],
      ['INVALID_MAPPING', "test.yaml:9:25: field 'b' has flag but on_error is not null_and_flag"],
    ]);
  });

  it('checks that lookups and target keys name fields the mapping produces', () => {
    const body = [
      'fields:',
      '  device_id: $.d',
      '  ts: $.t',
      'lookups:',
      '  device: { dimension: dim_device, natural_key: { device_nk: device }, as_of: tss }',
    ].join('\n');
    expect(seen(compileErrors(mappingText(body)))).toEqual([
      [
        'UNKNOWN_FIELD_REF',
        "test.yaml:11:62: lookup 'device' natural_key.device_nk names field 'device', which the mapping does not produce (did you mean 'device_id'?); fields: device_id, ts",
      ],
      [
        'UNKNOWN_FIELD_REF',
        "test.yaml:11:79: lookup 'device' as_of names field 'tss', which the mapping does not produce (did you mean 'ts'?); fields: device_id, ts",
      ],
    ]);
  });

  it('refuses the lineage columns as fields', () => {
    expect(seen(compileErrors(mappingText('fields:\n  mapping_id: $.x')))).toEqual([
      ['INVALID_MAPPING', "test.yaml:8:15: field 'mapping_id' is added to every row by the hub; remove it"],
    ]);
  });

  it('reports every problem of a file at once', () => {
    const errors = compileErrors(mappingText('fields:\n  a: nope($.x)\n  b: $.constructor\n  c: $tss'));
    expect(errors.map((e) => [e.code, e.line, e.col])).toEqual([
      ['UNKNOWN_FUNCTION', 8, 6],
      ['FORBIDDEN_PROPERTY', 9, 8],
      ['UNKNOWN_VARIABLE', 10, 6],
    ]);
  });
});
