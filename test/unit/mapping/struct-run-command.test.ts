import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMapping, validateMappings, watchMapping } from '../../../src/cli/mappings.ts';
import { mappingText } from './helpers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'struct-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'm.yaml');
writeFileSync(
  file,
  mappingText(
    [
      'explode: $.r',
      'let:',
      '  unused: 1',
      'fields:',
      '  topic: $meta.topic',
      '  key: $meta.key',
      '  n: { expr: to_number($.n), on_error: drop_row }',
    ].join('\n'),
  ),
);

async function run(payload: string, meta: string[] = [], json = false): Promise<[number, string[]]> {
  const lines: string[] = [];
  const code = await runMapping(file, { payload, meta, json }, (l) => lines.push(l));
  return [code, lines];
}

describe('iot-hub mappings run', () => {
  it('prints the rows with their elements, and what was flagged', async () => {
    const [code, lines] = await run('{"r":[{"n":"1"},{"n":"x"}]}', ['topic=t', 'key=dev-1']);
    expect(code).toBe(0);
    expect(lines).toEqual([
      `${file}  test-mapping v3`,
      'rows (1):',
      '  [element 0] {"topic":"t","key":"dev-1","n":1,"mapping_id":"test-mapping","mapping_version":3}',
      'flagged (1):',
      `  drop_row: NOT_A_NUMBER: ${file}:13:14: field 'n' (element 1): "x" is not a number`,
    ]);
  });

  it('reads the payload from a file, and exits 1 on a dead letter', async () => {
    const payloadFile = path.join(dir, 'p.json');
    writeFileSync(payloadFile, '{"r": "none"}');
    const [code, lines] = await run(`@${payloadFile}`, [], true);
    expect(code).toBe(1);
    expect(JSON.parse(lines.join('\n'))).toMatchObject({
      routed: true,
      rows: [],
      deadLetter: { code: 'EXPLODE_NOT_ARRAY' },
    });
  });

  it('says what is wrong with the arguments, with exit code 2', async () => {
    expect(await run('{bad')).toEqual([
      2,
      [
        `✗ --payload: not JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2)); pass a JSON text in quotes or @file.json`,
      ],
    ]);
    const [code, lines] = await run('{}', ['topik=x']);
    expect(code).toBe(2);
    expect(lines[0]).toMatch(
      /^✗ --meta topik=x: unknown key 'topik' \(did you mean 'topic'\?\); keys: topic, partition/,
    );
    expect((await run('{}', ['partition=one']))[1]).toEqual([
      '✗ --meta partition=one: partition must be a number',
    ]);
  });

  it('prints the mapping file problems with file:line:col', async () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, mappingText('fields:\n  a: to_numbr($.n)'));
    const lines: string[] = [];
    expect(await runMapping(broken, { payload: '{}' }, (l) => lines.push(l))).toBe(2);
    expect(lines[0]).toMatch(
      new RegExp(`^✗ ${broken}:8:6: UNKNOWN_FUNCTION: unknown function to_numbr\\(\\)`),
    );
  });

  it('--watch runs again when the mapping file is saved', async () => {
    const watched = path.join(dir, 'w.yaml');
    writeFileSync(watched, mappingText('fields:\n  a: 1'));
    const lines: string[] = [];
    const stop = new AbortController();
    let saved = false;
    const done = watchMapping(
      watched,
      { payload: '{}' },
      (l) => {
        lines.push(l);
        if (!saved && l.startsWith('rows (1)')) {
          saved = true;
          writeFileSync(watched, mappingText('fields:\n  a: 2'));
        }
        if (l.includes('"a":2')) stop.abort();
      },
      stop.signal,
    );
    await done;
    expect(lines.filter((l) => l.startsWith('  {'))).toEqual([
      '  {"a":1,"mapping_id":"test-mapping","mapping_version":3}',
      '  {"a":2,"mapping_id":"test-mapping","mapping_version":3}',
    ]);
  });

  it('validate prints warnings under the mapping they belong to', () => {
    const lines: string[] = [];
    expect(validateMappings([file], false, (l) => lines.push(l))).toBe(0);
    expect(lines[1]).toBe(
      `  ⚠ ${file}:9:3: UNUSED_LET: let 'unused' is never read (by a field, another let, where or explode); remove it or use it as $unused`,
    );
  });
});
