import { describe, expect, it } from 'vitest';
import {
  ChangeEventError,
  changePosition,
  decodeDebeziumRecords,
  parseChangeEvent,
} from '../../../src/cdc/index.ts';

const source = {
  version: '3.5.0.Final',
  connector: 'postgresql',
  name: 'mdm',
  ts_ms: 1787220930130,
  snapshot: 'false',
  db: 'mdm',
  sequence: '["24023119","24023128"]',
  ts_us: 1787220930130412,
  ts_ns: 1787220930130412000,
  schema: 'public',
  table: 'device',
  txId: 756,
  lsn: 24023128,
  xmin: null,
  origin: null,
  origin_lsn: null,
};
const insert = {
  before: null,
  after: { id: 'd1', firmware: '1.20' },
  source,
  op: 'c',
  ts_ms: 1787220930141,
  ts_us: 1787220930141337,
  // biome-ignore lint/correctness/noPrecisionLoss: as above.
  ts_ns: 1787220930141337512,
  transaction: null,
};

describe('Debezium change events', () => {
  it('parses an insert with its key and source position', () => {
    const e = parseChangeEvent(Buffer.from('{"id":"d1"}'), Buffer.from(JSON.stringify(insert)));
    expect(e).toMatchObject({
      kind: 'change',
      op: 'c',
      key: { id: 'd1' },
      after: { firmware: '1.20' },
      before: null,
    });
    if (e.kind !== 'change') throw new Error('expected a change');
    expect(changePosition(e)).toEqual([24023119n, 24023128n]);
  });

  it('parses a tombstone (null value) as its own kind', () => {
    expect(parseChangeEvent('{"id":"d1"}', null)).toEqual({ kind: 'tombstone', key: { id: 'd1' } });
  });

  it.each([
    ['{"op":', 'not a Debezium change event: value is not JSON'],
    ['[1,2]', 'not a Debezium change event: value is not a JSON object'],
    [
      JSON.stringify({ ...insert, op: 'x' }),
      'not a Debezium change event: op "x" is not one of c, u, d, r, t, m',
    ],
    [
      JSON.stringify({ ...insert, source: undefined }),
      'not a Debezium change event: source block is missing',
    ],
    [JSON.stringify({ ...insert, after: null }), 'not a Debezium change event: op c has no after row'],
    [
      JSON.stringify({ ...insert, op: 'd', after: null }),
      'not a Debezium change event: delete has no before row',
    ],
  ])('rejects %s with a message that says what is wrong', (value, message) => {
    let error: unknown;
    try {
      parseChangeEvent(null, value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ChangeEventError);
    expect((error as ChangeEventError).code).toBe('INVALID_CHANGE_EVENT');
    expect((error as Error).message.startsWith(message)).toBe(true);
  });
});

describe('decoding a batch of Debezium records', () => {
  const record = (offset: number, key: string | null, value: unknown) => ({
    topic: 'mdm.public.device',
    partition: 0,
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(JSON.stringify(value)),
    headers: {},
    timestamp: '0',
  });

  it('keeps changes with their position, counts truncates and tombstones apart, and letters what it cannot parse', () => {
    const truncate = { before: null, after: null, source, op: 't', ts_ms: 1787220930141, transaction: null };
    const decoded = decodeDebeziumRecords([
      record(0, '{"id":"d1"}', insert),
      record(1, null, truncate),
      record(2, '{"id":"d1"}', null),
      { ...record(3, '{"id":"d2"}', null), value: Buffer.from('{"op":') },
    ] as never);
    expect(decoded.changes).toHaveLength(1);
    expect(decoded.changes[0]!.meta).toMatchObject({ op: 'c', commit_lsn: 24023119, lsn: 24023128 });
    expect(decoded.changes[0]!.payload).toEqual({ id: 'd1', firmware: '1.20' });
    expect(decoded).toMatchObject({ truncates: 1, skipped: 1 });
    expect(decoded.letters).toHaveLength(1);
    expect(decoded.letters[0]!.record.offset).toBe('3');
  });
});
