import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { ReferenceCache } from '../../src/enrich/index.ts';
import {
  createIngestPool,
  loadFactRouter,
  type RunningIngest,
  readTelemetryConnector,
  replayDeadLetters,
  startIngest,
} from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import {
  createLogger,
  metricsRegistry,
  newTraceparent,
  startTracing,
  stopTracing,
} from '../../src/observability/index.ts';
import { deadLettersSince, seedGroupAtEnd, waitForGroupAtEnd } from '../support/ingest-ledger.ts';

// Every reading accounted for (docs/architecture.md, "Accounting"): a mapping that drops some readings, a
// metric the warehouse does not know, a unit that is not the metric's canonical one. Lineage, dead letters and
// /metrics must reconcile exactly: messages = loaded + dead-lettered, readings = loaded + duplicates + dropped.
describe('ingest accounting', () => {
  const sfx = randomUUID().slice(0, 8);
  const groupId = `test-accounting-${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-accounting' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const start: Record<string, number> = {};
  let ingest: RunningIngest;
  const spans = new InMemorySpanExporter();

  beforeAll(async () => {
    startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    Object.assign(start, await seedGroupAtEnd(kafka, db, groupId));
    ingest = await startIngest(config, {
      logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      groupId,
      topics: ['telemetry.acme'],
    });
  });
  afterAll(async () => {
    await ingest?.stop();
    await db.end();
    await stopTracing();
  });

  it('reconciles messages and readings in lineage, dead letters and metrics', async () => {
    const device = `acct-${sfx}`;
    const ts = (i: number) => new Date(Date.now() - 60_000 + i * 1000).toISOString();
    const msg = (i: number, readings: { m: string; v: number; u: string }[]) =>
      JSON.stringify({ schema: 'acme.telemetry', v: 2, deviceId: device, ts: ts(i), readings });
    const before = await counters();
    const producer = kafka.producer();
    await producer.connect();
    // The sender's trace continues into the hub: every message of this test carries the same traceparent.
    const traceparent = newTraceparent();
    const headers = { traceparent };
    await producer.send('telemetry.acme', [
      // 3 readings, one with a code the mapping does not know (on_error: drop_row): 2 load, 1 dropped
      {
        key: device,
        headers,
        value: msg(0, [
          { m: 'TEMP', v: 20, u: 'degC' },
          { m: 'TORQUE', v: 5, u: 'N.m' },
          { m: 'HUM', v: 40, u: '%' },
        ]),
      },
      // every reading unknown, for one reason: the whole message is one dead letter
      {
        key: device,
        headers,
        value: msg(1, [
          { m: 'TORQUE', v: 5, u: 'N.m' },
          { m: 'SPIN', v: 1, u: '1' },
        ]),
      },
      // a plain message and its exact re-send: 2 loaded, then 2 duplicates
      {
        key: device,
        headers,
        value: msg(2, [
          { m: 'TEMP', v: 21, u: 'degC' },
          { m: 'PRESS', v: 100, u: 'kPa' },
        ]),
      },
      {
        key: device,
        headers,
        value: msg(2, [
          { m: 'TEMP', v: 21, u: 'degC' },
          { m: 'PRESS', v: 100, u: 'kPa' },
        ]),
      },
      // malformed: a whole-message dead letter
      { key: device, headers, value: '{"schema":' },
    ]);
    await producer.disconnect();

    // positive signal: the group's stored offsets reach the end of every partition
    await waitForGroupAtEnd(kafka, db, groupId, 'telemetry.acme');

    // spans: the batch span is in the sender's trace, with one child per stage
    const traceId = traceparent.split('-')[1];
    const mine = spans.getFinishedSpans().filter((sp) => sp.spanContext().traceId === traceId);
    const batchSpan = mine.find((sp) => sp.name === 'ingest batch');
    expect(batchSpan).toBeDefined();
    const children = mine.filter((sp) => sp.parentSpanContext?.spanId === batchSpan!.spanContext().spanId);
    expect(children.map((sp) => sp.name)).toEqual(
      expect.arrayContaining(['ingest.validate', 'ingest.map', 'ingest.enrich', 'ingest.load']),
    );
    expect(mine.some((sp) => sp.name.startsWith('pg.query'))).toBe(true);

    const letters = await deadLettersSince(db, start);
    expect(letters.map((l) => [l.error_code, l.reading_index]).sort()).toEqual(
      [
        ['MALFORMED_PAYLOAD', null],
        ['NO_MATCHING_CASE', 1],
        ['NO_MATCHING_CASE', null],
      ].sort(),
    );
    const reading = letters.find((l) => l.reading_index === 1)!;
    expect(reading.error_message).toMatch(/^reading 1: dropped \(on_error: drop_row\): /);
    expect(reading.stage).toBe('map');

    const { rows: lineage } = await db.query(
      `SELECT sum(messages_in)::int AS messages, sum(messages_dead_letter)::int AS dead, sum(rows_in)::int AS readings,
              sum(rows_out)::int AS loaded, sum(rows_duplicate)::int AS duplicates, sum(rows_dead_letter)::int AS dropped
       FROM hub.lineage WHERE source = 'kafka:telemetry.acme/' || $1 AND (details -> 'offsets' ->> 'from')::bigint >= $2`,
      [letters[0]!.source_partition, start[`telemetry.acme/${letters[0]!.source_partition}`]],
    );
    // 5 messages: 2 dead whole; readings of the 3 loaded messages: 3 + 2 + 2 = 7 = 4 loaded + 2 duplicates + 1 dropped
    expect(lineage[0]).toEqual({ messages: 5, dead: 2, readings: 7, loaded: 4, duplicates: 2, dropped: 1 });
    const { rows: facts } = await db.query(
      'SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk = $1',
      [device],
    );
    expect(facts[0].n).toBe(4);

    const after = await counters();
    expect(after.records - before.records).toBe(5);
    expect(after.messagesDead - before.messagesDead).toBe(2);
    expect(after.readings - before.readings).toBe(7);
    expect(after.rows - before.rows).toBe(4);
    expect(after.duplicates - before.duplicates).toBe(2);
    expect(after.dropped - before.dropped).toBe(1);

    // a reading's letter replays that reading alone: still failing with the same mapping, no second letter
    const pool = createIngestPool(config.database.url, 2, createLogger('silent'));
    try {
      const ctx = { router: loadFactRouter(readTelemetryConnector()), cache: new ReferenceCache(pool) };
      const again = await replayDeadLetters(pool, ctx, { ids: [Number(reading.id)] });
      expect(again.stillFailing.map((f) => f.code)).toEqual(['NO_MATCHING_CASE']);
      expect((await deadLettersSince(db, start)).length).toBe(3);
      expect(
        (
          await db.query(
            'SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk = $1',
            [device],
          )
        ).rows[0].n,
      ).toBe(4);
    } finally {
      await pool.end();
    }
  });

  async function counters() {
    const text = await metricsRegistry.metrics();
    const sum = (name: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) && l.includes('topic="telemetry.acme"'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    return {
      records: sum('iot_hub_ingest_records_total'),
      messagesDead: sum('iot_hub_ingest_messages_dead_lettered_total'),
      readings: sum('iot_hub_ingest_readings_total'),
      rows: sum('iot_hub_ingest_rows_loaded_total'),
      duplicates: sum('iot_hub_ingest_duplicates_total'),
      dropped: sum('iot_hub_ingest_readings_dropped_total'),
    };
  }
});
