import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { ReferenceCache } from '../../src/enrich/index.ts';
import {
  loadFactRouter,
  type RunningIngest,
  readTelemetryConnector,
  replayDeadLetters,
  startIngest,
} from '../../src/ingest/index.ts';
import { createKafka, type OutgoingMessage } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { deadLettersSince, seedGroupAtEnd } from '../support/ingest-ledger.ts';

// The telemetry pipeline end to end against the real broker and database, with an exact ledger:
// fact rows = unique valid readings, dead letters = invalid records, nothing else.
describe('telemetry ingest', () => {
  const sfx = randomUUID().slice(0, 8);
  const groupId = `test-ingest-${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-ingest' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const start: Record<string, number> = {};
  let ingest: RunningIngest;

  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const acme = (device: string, ms: number, readings: { m: string; v: unknown; u: string; q?: string }[]) =>
    JSON.stringify({ schema: 'acme.telemetry', v: 2, deviceId: device, ts: iso(ms), readings });
  const three = (device: string, ms: number) =>
    acme(device, ms, [
      { m: 'TEMP', v: 70 + (ms % 7), u: 'degF', q: 'good' },
      { m: 'VIB', v: 0.1, u: 'in/s' },
      { m: 'PRESS', v: 14.7, u: 'psi' },
    ]);

  beforeAll(async () => {
    // Store this group's offsets at the topics' current end: earlier runs' messages are not part of this ledger.
    Object.assign(start, await seedGroupAtEnd(kafka, db, groupId));
    // A device MDM already knows, installed on an asset, so enrichment has something to resolve.
    await db.query(
      `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_name, area_name, line_name, hierarchy_path, valid_from, row_hash, source_system)
       VALUES ($1, 'asset', 'Press 1', 'Site A', 'Area 1', 'Line 1', 'site_a.area_1.line_1.press_1', '2020-01-01', '\\x01', 'test')`,
      [`asset-${sfx}`],
    );
    await db.query(
      `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, expected_interval_s, valid_from, row_hash, source_system)
       VALUES ($1, $2, 60, '2020-01-01', '\\x01', 'test')`,
      [`known-${sfx}`, `asset-${sfx}`],
    );
    // A calibration work order on that device around the two-hours-late message: its readings become suspect.
    await db.query(
      `INSERT INTO dw.fact_maintenance_event (source_system, source_event_id, device_sk, asset_sk, date_key, event_type, status,
         started_at, finished_at, work_order_number)
       SELECT 'test', $1, d.device_sk, a.asset_sk, to_char($2::timestamptz AT TIME ZONE 'UTC', 'YYYYMMDD')::int,
              'calibration', 'completed', $2, $3, $1
       FROM dw.dim_device d, dw.dim_asset a WHERE d.device_nk = $4 AND a.asset_nk = $5`,
      [
        `WO-${sfx}`,
        iso(now - 2 * 3600_000 - 60_000),
        iso(now - 2 * 3600_000 + 60_000),
        `known-${sfx}`,
        `asset-${sfx}`,
      ],
    );
    ingest = await startIngest(config, {
      logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      groupId,
    });
  });

  afterAll(async () => {
    await ingest?.stop();
    await db.end();
  });

  it('loads unique valid readings, dead-letters invalid records, counts duplicates, infers unknown devices', async () => {
    const known = `known-${sfx}`;
    const unknown = `unknown-${sfx}`;
    const acmeMessages: OutgoingMessage[] = [];
    for (let i = 0; i < 20; i++)
      acmeMessages.push({ key: known, value: three(known, now - (20 - i) * 60_000) });
    // out of order and two hours late: both load
    acmeMessages.push({ key: known, value: three(known, now - 25 * 60_000 - 500) });
    acmeMessages.push({ key: known, value: three(known, now - 2 * 3600_000) });
    // an exact re-send of the first message: its readings are duplicates
    acmeMessages.push({ key: known, value: three(known, now - 20 * 60_000) });
    // a device MDM never heard of: loads under an inferred member
    acmeMessages.push({ key: unknown, value: three(unknown, now - 60_000) });
    // invalid: broken JSON, a contract violation, a future-dated reading, a naive timestamp
    acmeMessages.push({ key: known, value: '{"schema":"acme.telemetry","v":2,' });
    acmeMessages.push({
      key: known,
      value: JSON.stringify({ schema: 'acme.telemetry', v: 2, ts: iso(now), readings: [] }),
    });
    acmeMessages.push({ key: known, value: three(known, now + 3600_000) });
    acmeMessages.push({
      key: known,
      value: JSON.stringify({
        schema: 'acme.telemetry',
        v: 2,
        deviceId: known,
        ts: '2026-08-20T10:19:00',
        readings: [],
      }),
    });
    const flat: OutgoingMessage[] = [
      { key: known, value: JSON.stringify({ dev: known, t: now - 30_000, temp_f: 212, press_psi: 14.5 }) },
      { key: known, value: JSON.stringify({ dev: known, t: now - 30_000, temp_f: 212, press_psi: 14.5 }) },
      { key: known, value: 'not json at all' },
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send('telemetry.acme', acmeMessages);
    await producer.send('telemetry.flatline', flat);
    await producer.disconnect();

    // 20 + 2 acme messages of 3 readings from `known`, 1 of 3 from `unknown`; flatline: 2 readings once.
    const expected = { facts: 22 * 3 + 3 + 2, deadLetters: 5, duplicates: 3 + 2 };
    const ledger = await waitForLedger(expected.facts + expected.deadLetters);
    expect(ledger.facts).toBe(expected.facts);
    expect(ledger.deadLetters.map((d) => d.error_code).sort()).toEqual(
      [
        'FUTURE_TIMESTAMP',
        'MALFORMED_PAYLOAD',
        'MALFORMED_PAYLOAD',
        'NAIVE_TIMESTAMP',
        'SOURCE_INVALID',
      ].sort(),
    );
    const naive = ledger.deadLetters.find((d) => d.error_code === 'NAIVE_TIMESTAMP')!;
    expect(naive).toMatchObject({ stage: 'map', mapping_id: 'telemetry-acme', mapping_version: 2 });
    expect(naive.error_location).toMatch(/telemetry-acme-v2\.yaml:\d+:\d+$/);
    const future = ledger.deadLetters.find((d) => d.error_code === 'FUTURE_TIMESTAMP')!;
    expect(future.error_message).toMatch(/more than 300 s ahead of the hub's clock/);
    // the raw payload is kept byte for byte, with its coordinates, so it can be replayed
    const broken = ledger.deadLetters.find(
      (d) => d.source_topic === 'telemetry.acme' && d.error_code === 'MALFORMED_PAYLOAD',
    )!;
    expect(broken.payload.toString()).toBe('{"schema":"acme.telemetry","v":2,');

    // enrichment: the known device resolved to its asset; the unknown one got an inferred member
    const { rows: byDevice } = await db.query(
      `SELECT d.device_nk, d.is_inferred, a.asset_nk, count(*)::int AS n
       FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) LEFT JOIN dw.dim_asset a ON a.asset_sk = f.asset_sk
       WHERE d.device_nk = ANY($1) GROUP BY 1, 2, 3 ORDER BY 1`,
      [[known, unknown]],
    );
    expect(byDevice).toEqual([
      { device_nk: known, is_inferred: false, asset_nk: `asset-${sfx}`, n: 22 * 3 + 2 },
      { device_nk: unknown, is_inferred: true, asset_nk: '#unknown', n: 3 },
    ]);
    // maintenance context: the three readings inside the work order's window are suspect (QARTOD 3). Readings
    // outside it may be flagged by the data-quality detectors (this test's series are flat), never failed.
    const { rows: inWindow } = await db.query(
      `SELECT f.quality_code FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk)
       WHERE d.device_nk = $1 AND f.source_topic = 'telemetry.acme' AND f.reading_ts = $2`,
      [known, iso(now - 2 * 3600_000)],
    );
    expect(inWindow.map((r) => r.quality_code)).toEqual([3, 3, 3]);

    // unit conversion reached the warehouse: 212 °F is 100 °C
    const { rows: hot } = await db.query(
      `SELECT value FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) JOIN dw.dim_metric m USING (metric_sk)
       WHERE d.device_nk = $1 AND m.metric_code = 'temperature' AND f.source_topic = 'telemetry.flatline'`,
      [known],
    );
    expect(hot.map((r) => Math.round(r.value * 1000) / 1000)).toEqual([100]);

    // lineage: duplicates were counted, and each row names its mapping and batch
    const { rows: lineage } = await db.query(
      `SELECT sum(rows_duplicate)::int AS dup, sum(rows_out)::int AS out FROM hub.lineage
       WHERE batch_id IN (SELECT DISTINCT batch_id FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk = ANY($1))`,
      [[known, unknown]],
    );
    expect(lineage[0]).toEqual({ dup: expected.duplicates, out: expected.facts });

    // hourly rollup: every hour the readings touched has its counts
    await ingest.flushRollups();
    const { rows: hourly } = await db.query(
      `SELECT sum(n_received)::int AS n FROM dw.fact_sensor_hourly h JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk = ANY($1)`,
      [[known, unknown]],
    );
    expect(hourly[0].n).toBe(expected.facts);

    // dlq replay: unchanged records still fail, stay pending and gain no second dead letter …
    const ids = ledger.deadLetters.map((d) => Number(d.id));
    const ctx = { router: loadFactRouter(readTelemetryConnector()), cache: new ReferenceCache(db) };
    const first = await replayDeadLetters(db, ctx, { ids });
    expect(first.replayed).toEqual([]);
    expect(first.stillFailing.map((f) => f.code).sort()).toEqual(
      ledger.deadLetters.map((d) => d.error_code).sort(),
    );
    // … and once the cause is gone (here: the hub's clock has caught up with the device's), the record loads once.
    const later = { ...ctx, now: () => now + 2 * 3600_000 };
    const second = await replayDeadLetters(db, later, { ids: [Number(future.id)] });
    expect(second.replayed).toEqual([Number(future.id)]);
    await db.query("UPDATE hub.dead_letter SET status = 'pending' WHERE id = $1", [future.id]);
    const third = await replayDeadLetters(db, later, { ids: [Number(future.id)] });
    expect(third.replayed).toEqual([Number(future.id)]);
    const after = await waitForLedger(0);
    expect(after.facts).toBe(expected.facts + 3);
    expect(after.deadLetters).toHaveLength(expected.deadLetters);
    const { rows: states } = await db.query(
      'SELECT status, count(*)::int AS n FROM hub.dead_letter WHERE id = ANY($1) GROUP BY 1 ORDER BY 1',
      [ids],
    );
    expect(states).toEqual([
      { status: 'pending', n: 4 },
      { status: 'replayed', n: 1 },
    ]);
  });

  async function waitForLedger(total: number) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const facts = Number(
        (
          await db.query(
            `SELECT count(*) FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk LIKE $1`,
            [`%-${sfx}`],
          )
        ).rows[0].count,
      );
      const mine = await deadLettersSince(db, start);
      if (facts + mine.length >= total || Date.now() > deadline) {
        // settle: anything beyond the expected ledger would be a duplicate or a stray
        await new Promise((r) => setTimeout(r, 1000));
        return { facts, deadLetters: mine };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});
