import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { type RunningIngest, readTelemetryConnector, startIngest } from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { metricsRegistry } from '../../src/observability/index.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { dropTopics } from '../support/ingest-ledger.ts';

// Fixing a mapping while the hub runs: the running ingest picks up the new version from its next batch, without a
// restart, and a broken edit keeps the version in use (docs/data-engineer.md, "Fixing a mapping").
describe('mapping files reload in a running ingest', () => {
  const sfx = randomUUID().slice(0, 8);
  const topic = `test.reload.${sfx}`;
  const device = `reload-${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-reload' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const log = captureLogger();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-mappings-'));
  const file = path.join(dir, 'telemetry-acme-v2.yaml');
  let ingest: RunningIngest;

  const send = async (code: string, ts: string) => {
    const producer = kafka.producer();
    await producer.connect();
    const readings = [{ m: code, v: 21.5, u: 'degC' }];
    await producer.send(topic, [
      {
        key: device,
        value: JSON.stringify({ schema: 'acme.telemetry', v: 2, deviceId: device, ts, readings }),
      },
    ]);
    await producer.disconnect();
  };
  const edit = (from: string, to: string) => {
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(from);
    writeFileSync(file, text.replace(from, to));
  };

  beforeAll(async () => {
    // A copy of mappings/ whose acme mapping reads this test's own topic.
    cpSync('mappings', dir, { recursive: true });
    edit('topic: telemetry.acme', `topic: ${topic}`);
    ingest = await startIngest(config, {
      logger: log.logger,
      connector: { ...readTelemetryConnector(), topics: [topic], mappings: dir },
      groupId: `test-reload-${sfx}`,
      mappingReload: { intervalMs: 100, settleMs: 50 },
    });
  });

  afterAll(async () => {
    await ingest?.stop();
    await db.end();
    rmSync(dir, { recursive: true, force: true });
    await dropTopics(kafka, [topic]);
  });

  it('applies a changed mapping from the next batch, and keeps it when an edit is broken', async () => {
    const t0 = Date.now() - 60_000;
    // Version 2 does not know the vendor code TMP: the reading dead-letters.
    await send('TMP', new Date(t0).toISOString());
    const letter = await waitFor(async () => {
      const { rows } = await db.query(
        'SELECT error_code, mapping_version FROM hub.dead_letter WHERE source_topic = $1',
        [topic],
      );
      return rows[0];
    });
    expect(letter).toMatchObject({ error_code: 'NO_MATCHING_CASE', mapping_version: 2 });

    // The fix: TMP is a temperature, as version 3.
    const applied = await reloadCount('applied');
    edit('version: 2', 'version: 3');
    edit('match $.m { TEMP: "temperature",', 'match $.m { TEMP: "temperature", TMP: "temperature",');
    await waitFor(async () => ingest.mappings.current().forTopic(topic)[0]?.version === 3);
    expect(await reloadCount('applied')).toBe(applied + 1);
    expect(log.lines.find((l) => l.msg.startsWith('mapping files changed'))).toMatchObject({
      mappings: [`${topic}: telemetry-acme@3`],
    });
    await send('TMP', new Date(t0 + 1000).toISOString());
    expect(await factVersions()).toEqual([3]);

    // A broken edit (an unknown function) is refused with its file:line:col; version 3 stays in use.
    const rejected = await reloadCount('rejected');
    edit('to_timestamp($$.ts)', 'to_timestmp($$.ts)');
    const error = await waitFor(async () => log.at(50).find((l) => l.msg.includes('cannot be used')));
    expect(error.msg).toMatch(
      new RegExp(`${file.replaceAll('.', '\\.')}:\\d+:\\d+: unknown function to_timestmp\\(\\)`),
    );
    expect(await reloadCount('rejected')).toBe(rejected + 1);
    await send('TMP', new Date(t0 + 2000).toISOString());
    expect(await factVersions(2)).toEqual([3, 3]);
  });

  async function factVersions(n = 1): Promise<number[]> {
    return waitFor(async () => {
      const { rows } = await db.query<{ mapping_version: number }>(
        `SELECT f.mapping_version FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk)
         WHERE d.device_nk = $1 ORDER BY f.reading_ts`,
        [device],
      );
      return rows.length >= n ? rows.map((r) => r.mapping_version) : undefined;
    });
  }
});

async function reloadCount(outcome: string): Promise<number> {
  const metric = (await metricsRegistry.getMetricsAsJSON()).find(
    (m) => m.name === 'iot_hub_mappings_reloaded_total',
  );
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** Polls until `probe` gives a truthy value (a positive signal), failing after 30 s. */
async function waitFor<T>(probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the ingest');
    await new Promise((r) => setTimeout(r, 100));
  }
}
