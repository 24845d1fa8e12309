import { describe, expect, it } from 'vitest';
import { testMappings, validateMappings } from '../../../src/cli/mappings.ts';
import { runMappingTests } from '../../../src/mapping/index.ts';
import { mappingWith } from './helpers.ts';

const failing = [
  'explode: $.r',
  'fields:',
  '  v: { expr: to_number($.v), on_error: null_and_flag }',
  'tests:',
  '  - name: wrong value and a missing error',
  '    input: { payload: { r: [{ v: 1.5 }, { v: "x" }] } }',
  '    expected:',
  '      rows: [{ v: { approx: 1.4, tol: 0.01 } }]',
  '      errors: [{ code: NOT_A_NUMBER, field: w }]',
  '  - name: expects a dead letter that does not happen',
  '    input: { payload: { r: [] } }',
  '    expected:',
  '      dead_letter: { code: SOURCE_INVALID }',
].join('\n');

describe('inline tests can fail, and say why', () => {
  it('reports differences and a row diff', async () => {
    const report = await runMappingTests(mappingWith(failing));
    expect([report.passed, report.failed]).toEqual([0, 2]);
    const [first, second] = report.results;
    expect(first!.location).toEqual({ file: 'test.yaml', line: 11, col: 5 });
    expect(first!.problems).toEqual([
      'errors[0].field: expected "w", got "v"',
      'expected 1 row(s), got 2',
      'row 0: v expected ≈1.4 (±0.01), got 1.5',
    ]);
    expect(first!.diff).toEqual(['- {"v":{"approx":1.4,"tol":0.01}}', '+ {"v":1.5}', '+ {"v":null}']);
    expect(second!.problems).toEqual([
      'expected a dead letter with SOURCE_INVALID, but the record was mapped',
    ]);
  });

  it('shows the row diff', async () => {
    const mapping = mappingWith(
      'fields:\n  v: $.v\ntests:\n  - name: t\n    input: { payload: { v: 2 } }\n    expected: { rows: [{ v: 1 }] }',
    );
    const report = await runMappingTests(mapping);
    expect(report.results[0]!.problems).toEqual(['row 0: v expected 1, got 2']);
    expect(report.results[0]!.diff).toEqual(['- {"v":1}', '+ {"v":2}']);
  });
});

describe('iot-hub mappings validate|test', () => {
  it('test prints each result and exits 0 on the samples', async () => {
    const lines: string[] = [];
    const code = await testMappings(['mappings/telemetry-acme-v2.yaml'], false, (l) => lines.push(l));
    expect(code).toBe(0);
    expect(lines[0]).toBe('mappings/telemetry-acme-v2.yaml (telemetry-acme v2)');
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('validate exits 1 and prints file:line:col for a broken file', () => {
    const lines: string[] = [];
    const code = validateMappings(['test/unit/mapping/no-such-file.yaml'], false, (l) => lines.push(l));
    expect(code).toBe(1);
    expect(lines[0]).toMatch(
      /^✗ FILE_UNREADABLE: test\/unit\/mapping\/no-such-file\.yaml: cannot read the mapping file \(ENOENT/,
    );
  });

  it('test --json is machine-readable', async () => {
    const lines: string[] = [];
    await testMappings(['mappings/mdm-device-v1.yaml'], true, (l) => lines.push(l));
    const report = JSON.parse(lines.join('\n'));
    expect([report.failed, report.reports[0].mappingId]).toEqual([0, 'mdm-device']);
  });
});
