import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, timeZoneCacheSizes } from '../../../src/mapping/functions/time-zone.ts';
import { compileMappingText } from '../../../src/mapping/index.ts';
import { mappingText, mappingWith } from './helpers.ts';

// One poison record must cost exactly that record: never its batch, never the process.

function nested(depth: number): unknown {
  let value: unknown = { n: 0 };
  for (let i = 0; i < depth; i++) value = { n: 1, child: value };
  return value;
}

describe('a deeply nested payload', () => {
  const deep = nested(100_000);

  it('fails alone as RECORD_FAILED when the contract check overflows the stack', async () => {
    const mapping = compileMappingText(
      mappingText('fields:\n  n: $.n').replace(
        'source: { topic: t }',
        [
          'source:',
          '  topic: t',
          '  schema:',
          '    $ref: "#/definitions/node"',
          '    definitions:',
          '      node: { type: object, properties: { n: { type: integer }, child: { $ref: "#/definitions/node" } } }',
        ].join('\n'),
      ),
      'test.yaml',
    );
    const result = await mapping.mapBatch([{ payload: { n: 1 } }, { payload: deep }, { payload: { n: 3 } }]);
    expect(result.rows.map((r) => r.n)).toEqual([1, 3]);
    expect(result.rowInputs).toEqual([0, 2]);
    expect(result.failed.map((f) => [f.index, f.error.code, f.error.policy])).toEqual([
      [1, 'RECORD_FAILED', 'dead_letter'],
    ]);
    expect(result.failed[0]!.error.detail).toBe(
      'mapping test-mapping v3 failed on this record: Maximum call stack size exceeded while checking it ' +
        'against source.schema (the payload is probably nested too deeply); the record is dead-lettered, ' +
        'the rest of the batch goes on',
    );
    // map() contains it the same way instead of throwing.
    expect(mapping.map(deep).deadLetter?.code).toBe('RECORD_FAILED');
  });

  it('is VALUE_TOO_DEEP for to_string, handled by the field on_error', async () => {
    const body = (policy: string) =>
      `fields:\n  n: $.n\n  text:\n    expr: to_string($.child)\n    on_error: ${policy}`;
    const batch = [{ payload: { n: 1, child: [1] } }, { payload: deep }, { payload: { n: 3 } }];

    const flagged = await mappingWith(body('null_and_flag')).mapBatch(batch);
    expect(flagged.rows.map((r) => [r.n, r.text])).toEqual([
      [1, '[1]'],
      [1, null],
      [3, null],
    ]);
    expect(flagged.failed).toEqual([]);
    expect(flagged.flagged.map((f) => [f.index, f.error.code])).toEqual([[1, 'VALUE_TOO_DEEP']]);

    const dead = await mappingWith(body('dead_letter')).mapBatch(batch);
    expect(dead.rows.map((r) => r.n)).toEqual([1, 3]);
    expect(dead.failed.map((f) => [f.index, f.error.code])).toEqual([[1, 'VALUE_TOO_DEEP']]);
    expect(dead.failed[0]!.error.detail).toMatch(
      /^field 'text': to_string\(\) cannot turn this value into text: it is nested too deeply/,
    );
  });

  it('is VALUE_TOO_DEEP when handed to JSONata, and the next record still maps', async () => {
    const mapping = mappingWith('fields:\n  n: { expr: { jsonata: "n" } }');
    const result = await mapping.mapBatch([{ payload: deep }, { payload: { n: 2 } }]);
    expect(result.rows.map((r) => r.n)).toEqual([2]);
    expect(result.failed.map((f) => [f.index, f.error.code])).toEqual([[0, 'VALUE_TOO_DEEP']]);
  });
});

describe('JSONata limits', () => {
  it('runs regexes on a linear-time engine: catastrophic backtracking ends at once', async () => {
    // /(a+)+$/ on "aaa…a!" takes a backtracking engine 2^n steps; RE2 answers in linear time.
    const mapping = mappingWith(
      'jsonata: { timeout_ms: 50 }\nfields:\n  n: $.n\n  m: { expr: { jsonata: "$contains(s, /(a+)+$/)" } }',
    );
    const started = performance.now();
    const result = await mapping.mapBatch([
      { payload: { n: 1, s: `${'a'.repeat(5000)}!` } },
      { payload: { n: 2, s: 'aaa' } },
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.failed).toEqual([]);
    expect(result.rows.map((r) => [r.n, r.m])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it('refuses at compile time a regex the linear-time engine cannot run', () => {
    expect(() => mappingWith('fields:\n  m: { expr: { jsonata: "$match(s, /(a)\\\\1/)" } }')).toThrow(
      /JSONATA_SYNTAX|regular expression \/\(a\)\\1\/ is not supported/,
    );
  });

  it('stops a built-in call that outruns timeout_ms by force: one failed record within a second', async () => {
    // $toMillis builds a native regex from the picture; eight [MNn] parts backtrack polynomially, which
    // JSONata's own timeout cannot interrupt (60 letters take ~8 s in-process, 100 far longer).
    const mapping = mappingWith(
      [
        'jsonata: { timeout_ms: 50 }',
        'fields:',
        '  n: $.n',
        '  ms: { expr: { jsonata: "$toMillis(t, \'[MNn][MNn][MNn][MNn][MNn][MNn][MNn][MNn][D]\')" } }',
      ].join('\n'),
    );
    const started = performance.now();
    const result = await mapping.mapBatch([
      { payload: { n: 1, t: `${'a'.repeat(100)}!` } },
      { payload: { n: 2, t: 'x' } },
    ]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000);
    expect(result.rows.map((r) => [r.n, r.ms])).toEqual([[2, null]]);
    expect(result.failed.map((f) => [f.index, f.error.code, f.error.field])).toEqual([
      [0, 'JSONATA_LIMIT', 'ms'],
    ]);
    expect(result.failed[0]!.error.detail).toContain('evaluation was stopped after 150 ms (timeout_ms 50)');
  });

  it('keeps a process capped at 256 MB alive through $pad to 10^8 and a heap-filling expression', async () => {
    const child = fileURLToPath(new URL('./poison-child.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=256', child], {
      timeout: 15_000,
    });
    const report = JSON.parse(stdout) as { rows: unknown[]; failed: unknown[][]; maxRssMb: number };
    expect(report.rows).toEqual([
      [1, 'x-='],
      [4, 8],
    ]);
    expect(report.failed.map((f) => f.slice(0, 2))).toEqual([
      [1, 'JSONATA_LIMIT'],
      [2, 'JSONATA_LIMIT'],
    ]);
    expect(report.failed[0]![2]).toContain('$pad width 100000000 is over the limit of 1000000 characters');
    expect(report.failed[1]![2]).toContain('needed more than the 64 MB JSONata heap');
    // The doubled string is 268 MB when flattened: the worker dies on it, the process stays well below.
    expect(report.maxRssMb).toBeLessThan(700);
  });
});

describe('time zones from payloads', () => {
  it('keeps the zone caches bounded through 40,000 spellings of one zone', () => {
    const mapping = mappingWith("fields:\n  day: 'date_key($.ts, tz: $.tz)'");
    const zone = 'America/Argentina/Buenos_Aires';
    const letters = [...zone].flatMap((c, i) => (/[a-z]/i.test(c) ? [i] : []));
    const days = new Set<unknown>();
    for (let variant = 0; variant < 40_000; variant++) {
      const chars = [...zone.toLowerCase()];
      letters.forEach((at, bit) => {
        if ((variant >> bit) & 1) chars[at] = chars[at]!.toUpperCase();
      });
      const result = mapping.map({ ts: '2026-08-20T01:30:00Z', tz: chars.join('') });
      days.add(result.rows[0]?.day);
    }
    expect([...days]).toEqual([20260819]);
    const sizes = timeZoneCacheSizes();
    expect(sizes.names).toBeLessThanOrEqual(256);
    expect(sizes.aliases).toBeLessThanOrEqual(256);
    expect(sizes.formatters).toBeLessThanOrEqual(64);
    // An alias: ICU names its canonical zone, so every spelling shares one formatter.
    expect(canonicalTimeZone('aMeRiCa/aRgEnTiNa/bUeNoS_aIrEs')).toBe('America/Buenos_Aires');
    expect(canonicalTimeZone('EUROPE/BERLIN')).toBe('Europe/Berlin');
  });

  it('refuses out-of-range offsets and names that are no zone, saying why', () => {
    const mapping = mappingWith(
      'fields:\n  ts:\n    expr: \'to_timestamp($.t, format: "dd.MM.yyyy HH:mm", tz: $.tz)\'\n    on_error: null_and_flag',
    );
    const problem = (tz: unknown) => mapping.map({ t: '20.08.2026 10:00', tz }).errors.map((e) => e.detail);
    expect(problem('+25:00')).toEqual([
      'field \'ts\': unknown time zone "+25:00" (offset +25:00 is outside -12:00..+14:00); use "UTC", an offset like "+02:00", or an IANA zone like "Europe/Berlin"',
    ]);
    expect(problem('+14:61')[0]).toContain('(offset +14:61 has more than 59 minutes)');
    expect(problem('x'.repeat(100))[0]).toContain('(not a time zone name: at most 64 letters');
    expect(problem('Mars/Olympus_Mons')[0]).toContain('unknown time zone "Mars/Olympus_Mons";');
    expect(mapping.map({ t: '20.08.2026 10:00', tz: '+14:00' }).rows[0]!.ts).toBe('2026-08-19T20:00:00.000Z');
    expect(mapping.map({ t: '20.08.2026 10:00', tz: '-12:00' }).rows[0]!.ts).toBe('2026-08-20T22:00:00.000Z');
    expect(mapping.map({ t: '20.08.2026 10:00', tz: 'europe/berlin' }).rows[0]!.ts).toBe(
      '2026-08-20T08:00:00.000Z',
    );
  });

  it('refuses timestamps whose offset is out of range', () => {
    const mapping = mappingWith('fields:\n  ts: { expr: to_timestamp($.t), on_error: null_and_flag }');
    const seen = (t: string) => {
      const result = mapping.map({ t });
      return [result.rows[0]!.ts, ...result.errors.map((e) => [e.code, e.detail])];
    };
    expect(seen('2026-08-20T10:00:00+25:00')).toEqual([
      null,
      [
        'NOT_A_TIMESTAMP',
        'field \'ts\': "2026-08-20T10:00:00+25:00" has the offset +25:00, which is not valid; offsets run from -12:00 to +14:00 with minutes 00–59',
      ],
    ]);
    expect(seen('2026-08-20T10:00:00+14:61')[1]).toEqual(expect.arrayContaining(['NOT_A_TIMESTAMP']));
    expect(seen('2026-08-20T10:00:00-12:30')[1]).toEqual(expect.arrayContaining(['NOT_A_TIMESTAMP']));
    expect(seen('2026-08-20T10:00:00+14:00')).toEqual(['2026-08-19T20:00:00.000Z']);
    expect(seen('2026-08-20T10:00:00-1200')).toEqual(['2026-08-20T22:00:00.000Z']);
  });
});

describe('non-finite numbers at field output', () => {
  const body = (policy: string) =>
    `fields:\n  n: $.n\n  value:\n    expr: to_number($.v) * $.k\n    on_error: ${policy}\n${
      policy === 'null_and_flag' ? '    flag: { quality: 4 }\n' : ''
    }  quality: 1`;

  it('is NOT_FINITE, handled by the field on_error: flagged, defaulted or dead-lettered', async () => {
    const batch = [
      { payload: { n: 1, v: '2', k: 3 } },
      { payload: { n: 2, v: '1e999', k: 1 } },
      { payload: { n: 3, v: '1e300', k: 1e300 } },
    ];
    const flagged = await mappingWith(body('null_and_flag')).mapBatch(batch);
    expect(flagged.rows.map((r) => [r.n, r.value, r.quality])).toEqual([
      [1, 6, 1],
      [2, null, 4],
      [3, null, 4],
    ]);
    expect(flagged.flagged.map((f) => [f.index, f.error.code, f.error.detail])).toEqual([
      [
        1,
        'NOT_FINITE',
        'field \'value\': the value is Infinity, which cannot be stored; NaN and ±Infinity come from overflow or invalid arithmetic (e.g. to_number("1e999"))',
      ],
      [2, 'NOT_FINITE', expect.stringContaining('the value is Infinity')],
    ]);

    const dead = await mappingWith(body('dead_letter')).mapBatch(batch);
    expect(dead.rows.map((r) => r.n)).toEqual([1]);
    expect(dead.failed.map((f) => [f.index, f.error.code])).toEqual([
      [1, 'NOT_FINITE'],
      [2, 'NOT_FINITE'],
    ]);
  });

  it('catches NaN from JSONata-free arithmetic too', () => {
    const mapping = mappingWith('fields:\n  v: { expr: $.a - $.b, on_error: default, default: -1 }');
    expect(mapping.map({ a: Number.POSITIVE_INFINITY, b: Number.POSITIVE_INFINITY }).rows[0]!.v).toBe(-1);
    expect(mapping.map({ a: Number.NaN, b: 0 }).errors.map((e) => e.code)).toEqual(['NOT_FINITE']);
  });
});

describe('fail_batch', () => {
  it('still throws, so the whole batch is replayed', async () => {
    const mapping = mappingWith('fields:\n  v: { expr: to_number($.v), on_error: fail_batch }');
    await expect(mapping.mapBatch([{ payload: { v: 1 } }, { payload: { v: 'x' } }])).rejects.toMatchObject({
      code: 'NOT_A_NUMBER',
      policy: 'fail_batch',
    });
  });
});
