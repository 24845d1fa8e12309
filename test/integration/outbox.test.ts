import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  applyConnectors,
  applySourceChanges,
  ConnectClient,
  loadCdcDimensions,
  readConnectorDefinition,
  type SourceChange,
} from '../../src/cdc/index.ts';
import { inTransaction, withDatabase } from '../../src/db/index.ts';
import { type DeviceEvent, startOfflineSweeper, sweepOfflineDevices } from '../../src/device-state/index.ts';
import { type RunningPeer, startTransactionalPeer } from '../../src/devtools/transactional-peer.ts';
import { ReferenceCache } from '../../src/enrich/index.ts';
import { loadFactRouter, processRecords, readTelemetryConnector } from '../../src/ingest/index.ts';
import { createKafka, type HubMessage } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { migrateDatabase } from '../../src/warehouse/index.ts';
import { dropTopics } from '../support/ingest-ledger.ts';

// Device state → hub.outbox → the real Debezium connector (connectors/debezium/outbox.json, Outbox Event
// Router) → Kafka → the transactional peer, on a scratch database with its own slot and routed topic.
describe('device state through the outbox to device.state', () => {
  const sfx = randomUUID().replaceAll('-', '').slice(0, 8);
  const dbName = `c_outbox_${sfx}`;
  const url = withDatabase(inject('serverUrl'), dbName);
  const name = `c-outbox-${sfx}`;
  const slot = `c_outbox_slot_${sfx}`;
  const prefix = `c_outbox_${sfx}`;
  const topic = `${prefix}.device.state`;
  const connect = new ConnectClient(inject('connectUrl'));
  const kafka = createKafka({ brokers: inject('kafkaBrokers'), clientId: 'test-outbox' });
  const admin = new pg.Client({ connectionString: withDatabase(inject('serverUrl'), 'postgres') });
  let pool: pg.Pool;
  let cache: ReferenceCache;
  let peer: RunningPeer | null = null;
  const router = loadFactRouter(readTelemetryConnector());
  const deviceDimension = loadCdcDimensions().find((d) => d.target.table === 'dw.dim_device')!;
  const dev = (s: string) => `${s}-${sfx}`;
  let offset = 0;
  let lsn = 1000;

  /** One acme v2 message per device, taken now, through validate → map → enrich → load → device state. */
  const ingest = async (readings: { device: string; battery?: number }[], rollback = false) => {
    const records: HubMessage[] = readings.map((r) => ({
      topic: 'telemetry.acme',
      partition: 0,
      offset: String(offset++),
      key: Buffer.from(r.device),
      headers: {},
      timestamp: Date.now(),
      value: Buffer.from(
        JSON.stringify({
          schema: 'acme.telemetry',
          v: 2,
          deviceId: r.device,
          ts: new Date().toISOString(),
          readings: [
            { m: 'TEMP', v: 70, u: 'degF' },
            ...(r.battery === undefined ? [] : [{ m: 'BATT', v: r.battery, u: '%' }]),
          ],
        }),
      ),
    }));
    return inTransaction(pool, async (client, tx) => {
      // The data-quality stage is another test's subject; this one is about device state.
      const outcome = await processRecords(client, records, {
        router,
        cache,
        runId: `test-${sfx}`,
        quality: false,
      });
      if (rollback) tx.rollback();
      return outcome;
    });
  };

  /** An MDM device row changed (op c or u), applied through the CDC stage's apply in one transaction. */
  const mdmDevice = (
    deviceId: string,
    op: 'c' | 'u',
    firmware: string,
    intervalS: number,
    updatedAt: string,
  ) => {
    lsn += 10;
    const change: SourceChange = {
      payload: {
        device_id: deviceId,
        serial_number: `SN-${deviceId}`,
        manufacturer: 'Acme',
        model: 'TX-1',
        firmware_version: firmware,
        measurement_unit: 'Cel',
        expected_interval_s: intervalS,
        lifecycle_status: 'active',
        updated_at: updatedAt,
      },
      meta: { op, lsn, commit_lsn: lsn, source_ts_ms: Date.parse(updatedAt) },
      record: {
        topic: 'mdm.public.device',
        partition: 0,
        offset: String(lsn),
        key: null,
        value: null,
        headers: {},
        timestamp: Date.now(),
      },
    };
    return inTransaction(pool, (client) => applySourceChanges(client, deviceDimension, [change]));
  };

  const state = async (deviceId: string) =>
    (
      await pool.query(
        'SELECT status, health, firmware_version, battery_pct, event_seq::int FROM hub.device_state WHERE device_id = $1',
        [deviceId],
      )
    ).rows[0];

  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const eventsOf = (deviceId: string) =>
    (peer?.ledger.eventsOf(deviceId) ?? []).map((e: DeviceEvent) => [e.seq, e.type, e.previous, e.value]);

  beforeAll(async () => {
    await admin.connect();
    await migrateDatabase(url, 'up', () => {});
    pool = new pg.Pool({ connectionString: url, max: 3 });
    cache = new ReferenceCache(pool);
    // Devices a and b report every second, f every hour; all valid since 2020 so today's readings resolve.
    await mdmDevice(dev('a'), 'c', '1.0', 1, '2020-01-01T00:00:00Z');
    await mdmDevice(dev('b'), 'c', '1.0', 1, '2020-01-01T00:00:00Z');
    await mdmDevice(dev('f'), 'c', '1.0', 3600, '2020-01-01T00:00:00Z');
    await mdmDevice(dev('c'), 'c', '1.0', 3600, '2020-01-01T00:00:00Z');
    const def = readConnectorDefinition('connectors/debezium/outbox.json', {
      name,
      'database.dbname': dbName,
      'slot.name': slot,
      'topic.prefix': prefix,
      'transforms.outbox.route.topic.replacement': `${prefix}.\${routedByValue}.state`,
    });
    // The peer creates the routed topic with one partition, so all devices' events share one order.
    peer = await startTransactionalPeer({ brokers: inject('kafkaBrokers'), topic, groupId: `c-peer-${sfx}` });
    await applyConnectors(connect, [def], { timeoutMs: 90_000, settleMs: 1000 });
    // With snapshot.mode no_data, what commits after the slot exists is captured: wait for the slot.
    await until(
      'the connector slot',
      async () =>
        (await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot]))
          .rowCount === 1,
    );
  }, 180_000);

  afterAll(async () => {
    await peer?.stop().catch(() => {});
    await connect.deleteConnector(name).catch(() => {});
    await pool?.end().catch(() => {});
    // The slot is kept on stop (slot.drop.on.stop false, as in production): wait until the task let go, drop it.
    await until(
      'the slot to be released',
      async () =>
        (await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot]))
          .rowCount === 0,
      30_000,
    ).catch(() => {});
    await admin
      .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
        slot,
      ])
      .catch((err: unknown) => console.error(`could not drop slot ${slot}:`, err));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
    // The heartbeat topic exists only once the connector sent a heartbeat.
    const topics = kafka.admin();
    await topics.connect();
    const existing = new Set(await topics.listTopics());
    await topics.disconnect();
    await dropTopics(
      kafka,
      [topic, `__debezium-heartbeat.${prefix}`].filter((t) => existing.has(t)),
    );
  }, 60_000);

  it('announces first readings as online, a low battery as health_changed, and nothing from a rolled-back batch', async () => {
    await ingest([{ device: dev('a') }, { device: dev('b'), battery: 80 }, { device: dev('f') }]);
    // A rolled-back batch: a new device (inferred) and a low battery; neither the state nor an event remains.
    await ingest([{ device: dev('r') }, { device: dev('b'), battery: 3 }], true);
    await ingest([{ device: dev('b'), battery: 12 }]);
    // Two batches at once with the same new device: one inserts it, the other waits and finds it online.
    await Promise.all([ingest([{ device: dev('c') }]), ingest([{ device: dev('c') }])]);

    expect(await state(dev('b'))).toMatchObject({
      status: 'online',
      health: 'degraded',
      battery_pct: 12,
      event_seq: 2,
    });
    expect(await state(dev('r'))).toBeUndefined();
    // Debezium saw the INSERTs in the WAL; the rows themselves were deleted in the same transaction.
    expect((await pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n).toBe(0);

    // The health event was committed after the rolled-back batch: once it arrived, the other one would have.
    await until('the health event', () => eventsOf(dev('b')).length === 2);
    expect(eventsOf(dev('a'))).toEqual([[1, 'online', null, 'online']]);
    expect(eventsOf(dev('b'))).toEqual([
      [1, 'online', null, 'online'],
      [2, 'health_changed', 'ok', 'degraded'],
    ]);
    expect(peer!.ledger.eventsOf(dev('b'))[1]).toMatchObject({ device_id: dev('b'), battery_pct: 12 });
    expect(eventsOf(dev('r'))).toEqual([]);
    // Device c's batches committed last and its events may sit in another partition: wait for its event, then
    // check that the second batch (which found c online) announced nothing.
    await until('device c online', () => eventsOf(dev('c')).length >= 1);
    expect(eventsOf(dev('c'))).toEqual([[1, 'online', null, 'online']]);
  });

  it('announces a firmware change applied by the CDC stage, once', async () => {
    const merged = await mdmDevice(dev('f'), 'u', '2.0', 3600, '2026-01-01T00:00:00Z');
    expect(merged.versioned).toBe(1);
    expect(await state(dev('f'))).toMatchObject({ firmware_version: '2.0', event_seq: 2 });
    await until('the firmware event', () => eventsOf(dev('f')).length === 2);
    expect(eventsOf(dev('f'))).toEqual([
      [1, 'online', null, 'online'],
      [2, 'firmware_changed', '1.0', '2.0'],
    ]);
  });

  it('marks devices offline after 3 × their interval of silence, and online again when they report', async () => {
    // a and b report every second: offline after 3 s without data; f and c (hourly) stay online.
    const sweeper = startOfflineSweeper({
      databaseUrl: url,
      everyMs: 250,
      intervals: 3,
      floorS: 1,
      logger: createLogger('silent'),
    });
    try {
      await until(
        'a and b to go offline',
        async () =>
          (await state(dev('a'))).status === 'offline' && (await state(dev('b'))).status === 'offline',
      );
    } finally {
      await sweeper.stop();
    }
    expect((await state(dev('c'))).status).toBe('online');
    // A second sweeper (another hub process) finds nothing left to announce.
    expect(await sweepOfflineDevices(pool, { intervals: 3, floorS: 1 })).toBe(0);
    expect((await state(dev('f'))).status).toBe('online');
    await until(
      'the offline events',
      () => eventsOf(dev('a')).length === 2 && eventsOf(dev('b')).length === 3,
    );
    expect(eventsOf(dev('a'))[1]).toEqual([2, 'offline', 'online', 'offline']);
    expect(eventsOf(dev('b'))[2]).toEqual([3, 'offline', 'online', 'offline']);

    await ingest([{ device: dev('a') }]);
    await until('a back online', () => eventsOf(dev('a')).length === 3);
    expect(eventsOf(dev('a'))[2]).toEqual([3, 'online', 'offline', 'online']);
  });

  it('delivers each event once and in order across a connector restart; the peer drops redelivered copies', async () => {
    await connect.restartConnector(name, false);
    await connect.waitRunning(name, 60_000, 1000);
    await ingest([{ device: dev('b'), battery: 50 }]);
    await until('b back online after the restart', () => eventsOf(dev('b')).length === 5);
    expect(eventsOf(dev('b')).slice(3)).toEqual([
      [4, 'online', 'offline', 'online'],
      [5, 'health_changed', 'degraded', 'ok'],
    ]);
    // A graceful restart commits Debezium's offsets, so Kafka normally delivers nothing twice; what it did
    // deliver twice, the peer counted and dropped.
    const duplicatesAfterRestart = peer!.ledger.duplicates;
    expect(peer!.delivered()).toBe(peer!.ledger.applied.length + duplicatesAfterRestart);

    // A redelivery as Kafka makes it after a crash (the same record again): applied once, counted as duplicate.
    const first = await readFirstRecord();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send(topic, [{ key: first.key, value: first.value, headers: first.headers }]);
    await producer.disconnect();
    await until('the redelivered copy', () => peer!.ledger.duplicates === duplicatesAfterRestart + 1);

    expect(peer!.ledger.problems).toEqual([]);
    expect(peer!.ledger.applied).toHaveLength(11);
    expect(new Set(peer!.ledger.applied.map((a) => a.id)).size).toBe(11);
    expect(eventsOf(dev('r'))).toEqual([]);
  });

  /** The first record of the routed topic, as a second consumer group reads it. */
  async function readFirstRecord(): Promise<{
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, string>;
  }> {
    const consumer = kafka.consumer({ groupId: `c-reader-${sfx}`, fromBeginning: true });
    await consumer.connect();
    await consumer.subscribe([topic]);
    let found: HubMessage | null = null;
    void consumer.run(async (batch) => {
      found ??= batch.messages[0] ?? null;
    });
    await until('the first record', () => found !== null);
    await consumer.stop();
    await consumer.disconnect();
    const m = found as unknown as HubMessage;
    return { key: m.key, value: m.value, headers: m.headers };
  }
});
