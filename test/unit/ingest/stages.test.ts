import { describe, expect, it } from 'vitest';
import { BatchLedger } from '../../../src/ingest/stages/batch-ledger.ts';
import { mapRecords } from '../../../src/ingest/stages/map.ts';
import { nestingDepth, validateRecords } from '../../../src/ingest/stages/validate.ts';
import type { HubMessage } from '../../../src/kafka/index.ts';
import { compileMappingText, createMappingRouter } from '../../../src/mapping/index.ts';

const mappingYaml = `
apiVersion: hub.mapping/v1
kind: FactMapping
id: unit-explode
version: 1
source: { kind: telemetry, topic: t }
target: { table: dw.fact_sensor_reading }
explode: $.readings
let:
  metric:
    expr: 'match $.m { T: "temperature", P: "pressure" }'
    on_error: drop_row
fields:
  device_id: $$.d
  metric: $metric
  ts: to_timestamp($$.ts)
  value: $.v
`;

const record = (offset: number, value: string | null): HubMessage => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: null,
  value: value === null ? null : Buffer.from(value),
  headers: {},
  timestamp: 0,
});

const payload = (readings: { m: string; v: number }[]) =>
  JSON.stringify({ d: 'dev-1', ts: '2026-01-01T00:00:00Z', readings });

describe('ingest stages', () => {
  const mapping = compileMappingText(mappingYaml, 'unit-explode.yaml');
  const router = createMappingRouter([mapping]);
  const limits = { maxMessageBytes: 2000, maxDepth: 8 };

  it('validate: malformed, oversized, too deep and tombstone messages are whole-message letters', () => {
    const records = [
      record(0, payload([{ m: 'T', v: 1 }])),
      record(1, '{"d":'),
      record(2, JSON.stringify({ d: 'x', pad: 'y'.repeat(3000) })),
      record(3, `${'['.repeat(20)}${']'.repeat(20)}`),
      record(4, null),
    ];
    const ledger = new BatchLedger(records.length);
    const groups = validateRecords(records, router, limits, ledger);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.records.map((r) => r.offset)).toEqual(['0']);
    expect(ledger.letters().map((l) => [l.record.offset, l.code])).toEqual([
      ['1', 'MALFORMED_PAYLOAD'],
      ['2', 'MESSAGE_TOO_LARGE'],
      ['3', 'NESTED_TOO_DEEP'],
      ['4', 'MALFORMED_PAYLOAD'],
    ]);
    expect(ledger.counts()).toMatchObject({ messages: 5, messagesDeadLettered: 4 });
  });

  it('nestingDepth skips brackets inside strings and escaped quotes', () => {
    expect(nestingDepth(Buffer.from('{"a":"[[[[\\"[[[","b":[{}]}'), 10)).toBe(3);
    expect(nestingDepth(Buffer.from('[]'), 10)).toBe(1);
    expect(nestingDepth(Buffer.from('[[[[[[[[[[[[[[[['), 3)).toBe(4);
  });

  it('map: a dropped reading is a letter of its own with its index; the ledger reconciles', async () => {
    const records = [
      record(
        0,
        payload([
          { m: 'T', v: 1 },
          { m: 'X', v: 2 },
          { m: 'P', v: 3 },
        ]),
      ),
      record(1, payload([])),
    ];
    const ledger = new BatchLedger(records.length);
    const mapped = await mapRecords(validateRecords(records, router, limits, ledger), ledger);
    expect(mapped.map((m) => [m.record.offset, m.element, m.row.metric])).toEqual([
      ['0', 0, 'temperature'],
      ['0', 2, 'pressure'],
    ]);
    const letters = ledger.letters();
    expect(letters.map((l) => [l.record.offset, l.readingIndex, l.code])).toEqual([
      ['0', 1, 'NO_MATCHING_CASE'],
    ]);
    // readings 3 = 2 kept + 1 dropped; the empty message loaded with no readings
    expect(ledger.counts()).toEqual({
      messages: 2,
      messagesDeadLettered: 0,
      readings: 3,
      readingsDropped: 1,
    });
  });

  it('map: replaying one reading keeps only that element', async () => {
    const records = [
      record(
        0,
        payload([
          { m: 'T', v: 1 },
          { m: 'X', v: 2 },
          { m: 'P', v: 3 },
        ]),
      ),
    ];
    const ledger = new BatchLedger(1);
    const mapped = await mapRecords(validateRecords(records, router, limits, ledger), ledger, 2);
    expect(mapped.map((m) => m.element)).toEqual([2]);
    expect(ledger.letters()).toEqual([]);
    expect(ledger.counts()).toMatchObject({ readings: 1, readingsDropped: 0 });
  });

  it('ledger: a message whose readings all dropped for one reason is one letter', async () => {
    const records = [
      record(
        0,
        payload([
          { m: 'X', v: 1 },
          { m: 'Y', v: 2 },
        ]),
      ),
      record(
        1,
        payload([
          { m: 'T', v: 1 },
          { m: 'X', v: 2 },
        ]),
      ),
    ];
    const ledger = new BatchLedger(2);
    const mapped = await mapRecords(validateRecords(records, router, limits, ledger), ledger);
    const survivors = new Map<HubMessage, number>();
    for (const m of mapped) survivors.set(m.record, (survivors.get(m.record) ?? 0) + 1);
    ledger.collapse((r) => survivors.get(r) ?? 0);
    expect(ledger.letters().map((l) => [l.record.offset, l.readingIndex ?? null, l.code])).toEqual([
      ['0', null, 'NO_MATCHING_CASE'],
      ['1', 1, 'NO_MATCHING_CASE'],
    ]);
    // the collapsed letter states the reason alone; a reading's letter names its reading
    const [whole, single] = ledger.letters();
    expect(whole!.message).toMatch(/^dropped \(on_error: drop_row\): /);
    expect(single!.message).toMatch(/^reading 1: dropped \(on_error: drop_row\): /);
    expect(ledger.counts()).toEqual({
      messages: 2,
      messagesDeadLettered: 1,
      readings: 2,
      readingsDropped: 1,
    });
  });
});
