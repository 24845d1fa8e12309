import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Lineage, LineageEmitter, lineageSites, type RunEvent } from '../../../src/lineage/index.ts';
import { loadMappingFile } from '../../../src/mapping/index.ts';
import { createLogger, metricsRegistry } from '../../../src/observability/index.ts';
import { OpenLineageStandIn, refusedUrl, runEventErrors } from './openlineage-stand-in.ts';

const logger = createLogger('silent');
const sites = lineageSites({
  jobNamespace: 'iot-hub-test',
  kafkaBroker: '127.0.0.1:19092',
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/iot_hub',
  servicenowUrl: 'http://127.0.0.1:18090',
});
const fast = { flushIntervalMs: 10, backoffMs: 10, backoffMaxMs: 20 };

async function eventsTotal(outcome: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('iot_hub_openlineage_events_total')?.get();
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

function expectValid(events: RunEvent[]) {
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) expect(runEventErrors(e)).toBeNull();
}

describe('run events', () => {
  let standIn: OpenLineageStandIn;
  let lineage: Lineage;
  beforeEach(async () => {
    standIn = await OpenLineageStandIn.start();
    lineage = new Lineage();
    await lineage.configure({ url: standIn.url, apiKey: 'secret-key', logger, sites, windowMs: 50, ...fast });
  });
  afterEach(async () => {
    await lineage.close();
    await standIn.close();
  });

  it('a finite job: START then COMPLETE with the row count, one run id, POSTed to /api/v1/lineage with the bearer key', async () => {
    const job = lineage.rollup();
    await expect(lineage.run(job, async () => 12, { rowCount: (n) => n })).resolves.toBe(12);
    await lineage.flush();
    expectValid(standIn.events);
    const [start, complete] = standIn.of('warehouse.hourly_rollup');
    expect(start!.eventType).toBe('START');
    expect(complete!.eventType).toBe('COMPLETE');
    expect(complete!.run.runId).toBe(start!.run.runId);
    expect(complete!.outputs[0]!.outputFacets?.outputStatistics?.rowCount).toBe(12);
    expect(complete!.outputs[0]!.facets?.columnLineage?.fields.avg_value).toEqual({
      inputFields: [
        {
          namespace: 'postgres://127.0.0.1:5432',
          name: 'iot_hub.dw.fact_sensor_reading',
          field: 'value',
          transformations: [{ type: 'DIRECT', subtype: 'AGGREGATION' }],
        },
      ],
    });
    expect(standIn.requests.every((r) => r.path === '/api/v1/lineage')).toBe(true);
    expect(standIn.requests[0]!.headers.authorization).toBe('Bearer secret-key');
  });

  it('a failing job: FAIL with the errorMessage facet, and the error reaches the caller', async () => {
    const job = lineage.qualityCheck('gap');
    await expect(lineage.run(job, () => Promise.reject(new Error('database is gone')))).rejects.toThrow(
      'database is gone',
    );
    await lineage.flush();
    expectValid(standIn.events);
    expect(standIn.of('quality.gap').map((e) => e.eventType)).toEqual(['START', 'FAIL']);
    expect(standIn.of('quality.gap')[1]!.run.facets?.errorMessage).toMatchObject({
      message: 'database is gone',
      programmingLanguage: 'TYPESCRIPT',
    });
  });

  it('emitIf: a run that did nothing sends nothing', async () => {
    await lineage.run(lineage.rollup(), async () => 0, { emitIf: (n) => n > 0 });
    await lineage.run(lineage.rollup(), async () => 3, { emitIf: (n) => n > 0 });
    await lineage.flush();
    expect(standIn.events.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
  });

  it('a continuous job: one run per window of batches, rows summed; a failed batch ends its run with FAIL', async () => {
    const job = lineage.forMapping(loadMappingFile('mappings/telemetry-acme-v2.yaml'));
    lineage.batchSucceeded(job, 3);
    lineage.batchSucceeded(job, 4);
    const complete = await standIn.waitFor((e) => e.eventType === 'COMPLETE');
    expect(complete.outputs[0]!.outputFacets?.outputStatistics?.rowCount).toBe(7);
    lineage.batchSucceeded(job, 1);
    lineage.batchFailed(job, new Error('deadlock detected'));
    await lineage.flush();
    expectValid(standIn.events);
    const runs = standIn.of('ingest.telemetry.acme.telemetry-acme');
    expect(runs.map((e) => e.eventType)).toEqual(['START', 'COMPLETE', 'START', 'FAIL']);
    expect(new Set(runs.map((e) => e.run.runId)).size).toBe(2);
    expect(runs[3]!.run.facets?.errorMessage?.message).toBe('deadlock detected');
  });

  it('off until configured: describing a job gives null and reporting does nothing', async () => {
    const off = new Lineage();
    expect(off.forMapping(loadMappingFile('mappings/telemetry-acme-v2.yaml'))).toBeNull();
    await expect(off.run(off.rollup(), async () => 'ran')).resolves.toBe('ran');
    expect(off.stats()).toBeNull();
  });
});

describe('delivery', () => {
  const event = (i: number): RunEvent => ({
    eventType: 'START',
    eventTime: new Date().toISOString(),
    producer: 'urn:test',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: crypto.randomUUID() },
    job: { namespace: 'test', name: `job-${i}` },
    inputs: [],
    outputs: [],
  });

  it('retries 5xx and 429 with back-off, in order; a 400 is final', async () => {
    const standIn = await OpenLineageStandIn.start();
    standIn.answers.push(503, 429, 400);
    const emitter = new LineageEmitter({ url: standIn.url, logger, ...fast });
    const failedBefore = await eventsTotal('failed');
    emitter.emit(event(1));
    emitter.emit(event(2));
    await emitter.flush();
    // job-1: 503, 429, then 400 (refused, not retried); job-2: sent
    expect(standIn.events.map((e) => e.job.name)).toEqual(['job-2']);
    expect(emitter.stats()).toMatchObject({ sent: 1, failed: 1, dropped: 0, queued: 0 });
    expect(await eventsTotal('failed')).toBe(failedBefore + 1);
    await emitter.close();
    await standIn.close();
  });

  it('endpoint down: emit never waits or throws, the queue stays bounded (oldest dropped) and failures are counted', async () => {
    const emitter = new LineageEmitter({
      url: await refusedUrl(),
      logger,
      maxQueue: 3,
      attempts: 2,
      ...fast,
    });
    const droppedBefore = await eventsTotal('dropped');
    const started = performance.now();
    for (let i = 0; i < 10; i++) emitter.emit(event(i));
    expect(performance.now() - started).toBeLessThan(50);
    expect(emitter.stats()).toMatchObject({ queued: 3, dropped: 7 });
    expect(await eventsTotal('dropped')).toBe(droppedBefore + 7);
    await emitter.flush();
    expect(emitter.stats()).toMatchObject({ sent: 0, failed: 3, queued: 0 });
    await emitter.close();
  });

  it('refuses a URL that is not http(s), saying what to set', () => {
    expect(() => new LineageEmitter({ url: 'marquez:5000', logger })).toThrow(
      /OPENLINEAGE_URL: 'marquez:5000' is not an http\(s\) URL; set it to the endpoint's base URL/,
    );
  });
});

describe('the schema the tests check events against', () => {
  it('rejects what the OpenLineage specification rules out', async () => {
    const standIn = await OpenLineageStandIn.start();
    const lineage = new Lineage();
    await lineage.configure({ url: standIn.url, logger, sites, ...fast });
    await lineage.run(lineage.forMapping(loadMappingFile('mappings/telemetry-acme-v2.yaml')), async () => 1);
    await lineage.close();
    await standIn.close();
    const good = standIn.events[1]!;
    expect(runEventErrors(good)).toBeNull();
    const broken = (change: (e: RunEvent & Record<string, unknown>) => void) => {
      const copy = structuredClone(good) as RunEvent & Record<string, unknown>;
      change(copy);
      return runEventErrors(copy);
    };
    expect(broken((e) => (e.run.runId = 'batch-17'))).toMatch(/runId must match format "uuid"/);
    expect(broken((e) => delete (e.job.facets!.jobType as { _producer?: string })._producer)).toMatch(
      /_producer/,
    );
    expect(
      broken((e) => delete (e.outputs[0]!.facets!.columnLineage as { fields?: unknown }).fields),
    ).toMatch(/fields/);
    expect(broken((e) => (e.eventType = 'DONE' as RunEvent['eventType']))).toMatch(/eventType/);
    expect(broken((e) => delete (e as Partial<RunEvent>).producer)).toMatch(/producer/);
  });
});
