import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createKnex } from '../../src/db/index.ts';
import { type RunningIngest, startIngest } from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { lineage, type RunEvent, startLineage } from '../../src/lineage/index.ts';
import { createLogger, metricsRegistry } from '../../src/observability/index.ts';
import { startQualityJobs } from '../../src/quality/index.ts';
import { seedGroupAtEnd } from '../support/ingest-ledger.ts';
import { OpenLineageStandIn, refusedUrl, runEventErrors } from '../unit/lineage/openlineage-stand-in.ts';

// OpenLineage events from the real jobs (docs/lineage.md): an ingest through the real Kafka and PostgreSQL, the
// rollup it triggers, a data-quality check that fails, and an endpoint that is down.
describe('OpenLineage run events from the jobs', () => {
  const sfx = randomUUID().slice(0, 8);
  const groupId = `test-lineage-${sfx}`;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const config = loadConfig({ env: {} });
  config.database.url = inject('databaseUrl');
  config.openlineage.windowSeconds = 1;
  const database = new URL(config.database.url).pathname.slice(1);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-lineage' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const ingestJob = 'ingest.telemetry.acme.telemetry-acme';
  let standIn: OpenLineageStandIn;
  let ingest: RunningIngest;

  const produce = async (device: string, count: number) => {
    const now = Date.now();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send(
      'telemetry.acme',
      Array.from({ length: count }, (_, i) => ({
        key: device,
        value: JSON.stringify({
          schema: 'acme.telemetry',
          v: 2,
          deviceId: device,
          ts: new Date(now - (i + 1) * 60_000).toISOString(),
          readings: [
            { m: 'TEMP', v: 70, u: 'degF', q: 'good' },
            { m: 'PRESS', v: 14.7, u: 'psi' },
          ],
        }),
      })),
    );
    await producer.disconnect();
  };
  const waitForRows = async (device: string, rows: number) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const { rows: found } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d ON d.device_sk = f.device_sk
         WHERE d.device_nk = $1`,
        [device],
      );
      if (found[0]!.n >= rows) return found[0]!.n;
      if (Date.now() > until) throw new Error(`${device}: ${found[0]!.n} of ${rows} rows after 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const counted = async (outcome: string) => {
    const metric = await metricsRegistry.getSingleMetric('iot_hub_openlineage_events_total')?.get();
    return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  };

  beforeAll(async () => {
    standIn = await OpenLineageStandIn.start();
    config.openlineage.url = standIn.url;
    await startLineage(config, logger, { flushIntervalMs: 50 });
    await seedGroupAtEnd(kafka, db, groupId);
    ingest = await startIngest(config, {
      logger,
      groupId,
      topics: ['telemetry.acme'],
      mappingReload: false,
      rollupIntervalMs: 3_600_000, // the test runs the rollup itself
    });
  });

  afterAll(async () => {
    await ingest?.stop();
    await lineage.close();
    await standIn?.close();
    await db.query('DELETE FROM hub.consumer_offsets WHERE consumer_group = $1', [groupId]);
    await db.end();
  });

  it('ingest: a START/COMPLETE pair per window with the topic, the table and column lineage from the mapping', async () => {
    const device = `lineage-${sfx}`;
    await produce(device, 3);
    await waitForRows(device, 6);
    const complete = await standIn.waitFor((e) => e.job.name === ingestJob && e.eventType === 'COMPLETE');
    const start = standIn
      .of(ingestJob)
      .find((e) => e.run.runId === complete.run.runId && e.eventType === 'START');
    expect(start).toBeDefined();
    expect(Date.parse(start!.eventTime)).toBeLessThanOrEqual(Date.parse(complete.eventTime));
    expect(complete.job).toMatchObject({
      namespace: 'iot-hub',
      facets: { jobType: { processingType: 'STREAMING' } },
    });
    expect(complete.inputs).toEqual([
      { namespace: `kafka://${config.kafka.brokers[0]}`, name: 'telemetry.acme' },
    ]);
    const output = complete.outputs[0]!;
    expect(output).toMatchObject({
      namespace: 'postgres://127.0.0.1:5432',
      name: `${database}.dw.fact_sensor_reading`,
    });
    expect(output.outputFacets?.outputStatistics?.rowCount).toBeGreaterThanOrEqual(6);
    expect(output.facets?.columnLineage?.fields.value?.inputFields.map((f) => f.field).sort()).toEqual([
      'readings.m',
      'readings.u',
      'readings.v',
    ]);
    expect(output.facets?.columnLineage?.fields.value?.inputFields[0]).toMatchObject({
      namespace: `kafka://${config.kafka.brokers[0]}`,
      name: 'telemetry.acme',
    });

    // The rollup of the hours those readings touched is a run of its own.
    await ingest.flushRollups();
    const rollup = await standIn.waitFor(
      (e) => e.job.name === 'warehouse.hourly_rollup' && e.eventType === 'COMPLETE',
    );
    expect(rollup.inputs[0]!.name).toBe(`${database}.dw.fact_sensor_reading`);
    expect(rollup.outputs.map((o) => o.name)).toContain(`${database}.dw.fact_sensor_hourly`);

    for (const event of standIn.events) expect(runEventErrors(event), event.job.name).toBeNull();
  });

  it('a failing job: FAIL with the error, while the job keeps retrying', async () => {
    const broken = new pg.Pool({
      connectionString: config.database.url.replace(/\/[^/]*$/, `/no_such_db_${sfx}`),
    });
    const knex = createKnex(config.database.url, { poolMax: 1 });
    const jobs = startQualityJobs({
      pool: broken,
      knex,
      logger,
      intervalsMs: { gap: 50, drain: 3_600_000, drift: 3_600_000, calibration: 3_600_000, step: 3_600_000 },
    });
    try {
      const fail = await standIn.waitFor((e) => e.job.name === 'quality.gap' && e.eventType === 'FAIL');
      expect(fail.run.facets?.errorMessage?.message).toMatch(/no_such_db_/);
      expect(runEventErrors(fail)).toBeNull();
      expect(
        standIn.events.some((e: RunEvent) => e.run.runId === fail.run.runId && e.eventType === 'START'),
      ).toBe(true);
    } finally {
      await jobs.stop();
      await knex.destroy();
      await broken.end();
    }
  });

  it('endpoint down (connection refused): ingest goes on, and the failed and dropped counters move', async () => {
    const failedBefore = await counted('failed');
    const droppedBefore = await counted('dropped');
    config.openlineage.url = await refusedUrl();
    // One retry after 300 ms: meanwhile the window's COMPLETE overflows the queue of one, so the START is dropped.
    await startLineage(config, logger, {
      flushIntervalMs: 20,
      attempts: 2,
      backoffMs: 300,
      maxQueue: 1,
      windowMs: 100,
    });
    const device = `lineage-down-${sfx}`;
    await produce(device, 3);
    expect(await waitForRows(device, 6)).toBe(6);
    const until = Date.now() + 20_000;
    while ((await counted('failed')) === failedBefore || (await counted('dropped')) === droppedBefore) {
      if (Date.now() > until) throw new Error(`counters did not move: ${JSON.stringify(lineage.stats())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(lineage.stats()!.sent).toBe(0);
  });
});
