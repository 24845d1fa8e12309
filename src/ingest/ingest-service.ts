import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { HubConfig } from '../config/index.ts';
import { ReferenceCache } from '../enrich/index.ts';
import { createKafka, type HubConsumer, startTrackedConsumer } from '../kafka/index.ts';
import { createMappingRouter, loadMappings, type MappingRouter } from '../mapping/index.ts';
import { counter, gauge, histogram, type Logger } from '../observability/index.ts';
import { recomputeDirtyHours } from '../warehouse/index.ts';
import { readTelemetryConnector, type TelemetryConnector } from './connector-config.ts';
import { type BatchOutcome, type LoadedValue, processRecords } from './process-records.ts';

const m = {
  records: counter('iot_hub_ingest_records_total', 'Kafka records processed by the ingest stage', ['topic']),
  rows: counter('iot_hub_ingest_rows_loaded_total', 'Fact rows inserted', ['topic']),
  duplicates: counter(
    'iot_hub_ingest_duplicates_total',
    'Readings ignored as duplicates (same device, metric, time)',
    ['topic'],
  ),
  deadLetters: counter('iot_hub_ingest_dead_letters_total', 'Records written to hub.dead_letter', ['topic']),
  replayFiltered: counter(
    'iot_hub_ingest_replayed_filtered_total',
    'Records below the stored offset, skipped',
    ['topic'],
  ),
  inferred: counter(
    'iot_hub_ingest_inferred_devices_total',
    'Unknown devices given an inferred dimension member',
  ),
  batchSize: histogram(
    'iot_hub_ingest_batch_size',
    'Records per batch',
    [],
    [1, 10, 100, 500, 1000, 5000, 10000, 50000],
  ),
  batchSeconds: histogram('iot_hub_ingest_batch_duration_seconds', 'Time to process and commit one batch'),
  latency: histogram(
    'iot_hub_ingest_end_to_end_seconds',
    'Newest reading timestamp in a batch to its commit',
    [],
    [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
  ),
  lag: gauge('iot_hub_consumer_lag', 'High watermark minus the next offset to process', [
    'topic',
    'partition',
  ]),
};

export interface IngestOptions {
  logger: Logger;
  connector?: TelemetryConnector;
  /** Overrides the connector's consumer group (tests run isolated groups). */
  groupId?: string;
  topics?: string[];
  rollupIntervalMs?: number;
  /**
   * Called after each committed batch with its readings (e.g. the alert engine). Runs after the commit, so a
   * slow or failing listener never holds up or undoes a load; its errors are logged.
   */
  onLoaded?: (values: LoadedValue[]) => Promise<unknown>;
  /** Where a consumer group without stored offsets starts: earliest (default) or the current end. */
  startAt?: 'earliest' | 'latest';
}

export interface RunningIngest {
  consumer: HubConsumer;
  pool: pg.Pool;
  stop(): Promise<void>;
  /** Recomputes every queued rollup hour now (tests, shutdown). */
  flushRollups(): Promise<number>;
}

/** Loads the connector's fact mappings; any mapping error, or a topic no mapping reads, stops the start. */
export function loadFactRouter(connector: TelemetryConnector, topics = connector.topics): MappingRouter {
  const loaded = loadMappings([connector.mappings]);
  if (loaded.errors.length > 0) {
    throw new Error(
      `mapping files have errors; fix them (iot-hub mappings validate):\n${loaded.errors.map((e) => e.message).join('\n')}`,
    );
  }
  const router = createMappingRouter(loaded.mappings.filter((mp) => mp.kind === 'FactMapping'));
  const unmapped = topics.filter((t) => router.forTopic(t).length === 0);
  if (unmapped.length > 0)
    throw new Error(
      `no FactMapping reads topic(s) ${unmapped.join(', ')}; add one under ${connector.mappings}/`,
    );
  return router;
}

/** Starts the telemetry ingest: a consumer group over the connector's topics, batch by batch into dw. */
export async function startIngest(config: HubConfig, options: IngestOptions): Promise<RunningIngest> {
  const connector = options.connector ?? readTelemetryConnector();
  const topics = options.topics ?? connector.topics;
  const router = loadFactRouter(connector, topics);
  const pool = new pg.Pool({ connectionString: config.database.url, max: config.database.poolMax });
  const cache = new ReferenceCache();
  await cache.refresh(pool, true);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: `${config.kafka.clientId}-ingest` });
  const admin = kafka.admin();
  await admin.connect();
  await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: connector.partitions })));
  await admin.disconnect();

  const runId = `ingest-${randomUUID()}`;
  const outcomes = new WeakMap<object, { outcome: BatchOutcome; started: number }>();
  const consumer = await startTrackedConsumer({
    kafka,
    pool,
    groupId: options.groupId ?? connector.groupId,
    topics,
    fromBeginning: (options.startAt ?? 'earliest') === 'earliest',
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    // Batches in flight overlap Node work (parse, map, enrich) with PostgreSQL work (load) on other partitions;
    // on 2 cores, 3 measured best (2: ~55-64k readings/s, 3: 63-72k, 4: 48-63k; bench/ingest.ts).
    partitionsConcurrently: 3,
    maxBytesPerPartition: 1024 * 1024,
    async handle(batch, c) {
      const started = performance.now();
      await cache.refresh(c);
      try {
        const outcome = await processRecords(c, batch.messages, {
          router,
          cache,
          runId,
          collectValues: Boolean(options.onLoaded),
        });
        outcomes.set(batch, { outcome, started });
      } catch (err) {
        // The transaction rolls back, and any inferred members with it: reload so they are made again.
        await cache.refresh(pool, true).catch(() => {});
        options.logger.error(
          { err, topic: batch.topic, partition: batch.partition },
          'batch failed; it will be retried',
        );
        throw err;
      }
    },
    onCommitted(batch, filtered) {
      const labels = { topic: batch.topic };
      if (filtered > 0) m.replayFiltered.inc(labels, filtered);
      const last = batch.messages.at(-1);
      if (last)
        m.lag.set(
          { topic: batch.topic, partition: String(batch.partition) },
          Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1),
        );
      const done = outcomes.get(batch);
      if (!done) return;
      const { outcome } = done;
      m.records.inc(labels, outcome.records);
      m.rows.inc(labels, outcome.inserted);
      m.duplicates.inc(labels, outcome.duplicates);
      m.deadLetters.inc(labels, outcome.deadLetters);
      m.inferred.inc(outcome.inferredDevices);
      m.batchSize.observe(outcome.records);
      m.batchSeconds.observe((performance.now() - done.started) / 1000);
      if (options.onLoaded && outcome.values.length > 0) {
        options
          .onLoaded(outcome.values)
          .catch((err: unknown) => options.logger.warn({ err }, 'a listener of loaded readings failed'));
      }
      if (outcome.newestReadingMs !== null)
        m.latency.observe(Math.max(0, (Date.now() - outcome.newestReadingMs) / 1000));
      options.logger.debug(
        { topic: batch.topic, partition: batch.partition, ...outcome, outcomeByOffset: undefined },
        'batch committed',
      );
    },
    onCrash(error) {
      options.logger.fatal({ err: error }, 'the Kafka consumer stopped for good; restart the hub');
    },
  });

  const flushRollups = () => recomputeDirtyHours(pool, { settleMs: 0, limit: 100_000 });
  const rollupTimer = setInterval(() => {
    recomputeDirtyHours(pool).catch((err: unknown) =>
      options.logger.warn({ err }, 'hourly rollup failed; will retry'),
    );
  }, options.rollupIntervalMs ?? 5000);
  rollupTimer.unref();

  options.logger.info(
    {
      topics,
      groupId: options.groupId ?? connector.groupId,
      mappings: topics.flatMap((t) => router.forTopic(t).map((mp) => `${mp.id}@${mp.version}`)),
    },
    'ingest started',
  );
  return {
    consumer,
    pool,
    flushRollups,
    async stop() {
      clearInterval(rollupTimer);
      await consumer.stop();
      await consumer.disconnect();
      await pool.end();
    },
  };
}
