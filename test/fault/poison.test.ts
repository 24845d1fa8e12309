import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { type RunningIngest, startIngest } from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { deadLettersSince, seedGroupAtEnd } from '../support/ingest-ledger.ts';

// Poison payloads through the real ingest: each costs exactly one dead letter, the good messages around it on
// the same partition load, and the process keeps its memory.
describe('poison payloads', () => {
  const sfx = randomUUID().slice(0, 8);
  const groupId = `test-poison-${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-poison' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const start: Record<string, number> = {};
  let ingest: RunningIngest;

  beforeAll(async () => {
    Object.assign(start, await seedGroupAtEnd(kafka, db, groupId));
    ingest = await startIngest(config, {
      logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      groupId,
      topics: ['telemetry.acme'],
      // Below the broker's own 1 MB message limit, so an oversized message can reach the hub at all.
      limits: { maxMessageBytes: 100_000, maxDepth: 64 },
    });
  });
  afterAll(async () => {
    await ingest?.stop();
    await db.end();
  });

  it('dead-letters each poison payload once and loads the good messages around them', async () => {
    const device = `poison-${sfx}`;
    const good = (i: number) =>
      JSON.stringify({
        schema: 'acme.telemetry',
        v: 2,
        deviceId: device,
        ts: new Date(Date.now() - 60_000 + i * 1000).toISOString(),
        readings: [{ m: 'TEMP', v: 20 + i, u: 'degC' }],
      });
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const huge = JSON.stringify({
      schema: 'acme.telemetry',
      v: 2,
      deviceId: device,
      pad: 'x'.repeat(200_000),
    });
    const offsetPlus25 = good(3).replace(/Z"/, '+25:00"');
    const rssBefore = process.memoryUsage().rss;
    const producer = kafka.producer();
    await producer.connect();
    // one key: one partition, poison between good messages
    await producer.send('telemetry.acme', [
      { key: device, value: good(0) },
      { key: device, value: deep },
      { key: device, value: good(1) },
      { key: device, value: huge },
      { key: device, value: good(2) },
      { key: device, value: offsetPlus25 },
      { key: device, value: good(4) },
    ]);
    await producer.disconnect();

    const deadline = Date.now() + 60_000;
    let facts = 0;
    let letters: pg.QueryResultRow[] = [];
    while (Date.now() < deadline) {
      facts = (
        await db.query(
          'SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk = $1',
          [device],
        )
      ).rows[0].n;
      letters = (await deadLettersSince(db, start)).filter((l) => l.message_key?.toString() === device);
      if (facts >= 4 && letters.length >= 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(facts).toBe(4);
    expect(letters.map((l) => l.error_code).sort()).toEqual(
      ['MESSAGE_TOO_LARGE', 'NESTED_TOO_DEEP', 'NOT_A_TIMESTAMP'].sort(),
    );
    // the partition moved past all of them: its stored offset is the end
    const partition = letters[0]!.source_partition;
    const { rows } = await db.query(
      "SELECT next_offset FROM hub.consumer_offsets WHERE consumer_group = $1 AND topic = 'telemetry.acme' AND partition = $2",
      [groupId, partition],
    );
    expect(Number(rows[0].next_offset)).toBe(start[`telemetry.acme/${partition}`]! + 7);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });
});
