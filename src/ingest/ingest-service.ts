import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { HubConfig } from '../config/index.ts';
import { createPool } from '../db/index.ts';
import { ReferenceCache } from '../enrich/index.ts';
import { createKafka, type HubConsumer, startTrackedConsumer } from '../kafka/index.ts';
import { lineage } from '../lineage/index.ts';
import { createMappingRouter, loadMappings, type MappingRouter } from '../mapping/index.ts';
import { batchTraceContext, type Logger, SpanKind, withSpan } from '../observability/index.ts';
import { prepareLoaderSession, recomputeDirtyHours } from '../warehouse/index.ts';
import { type CommittedBatch, type IngestHook, runCommittedHooks } from './batch-hooks.ts';
import { ingestGroupId, readTelemetryConnector, type TelemetryConnector } from './connector-config.ts';
import { ingestMetricsHook } from './ingest-metrics.ts';
import { type MappingReloadOptions, type ReloadingRouter, watchMappings } from './mapping-reload.ts';
import { type BatchOutcome, processRecords } from './process-records.ts';
import { factLookups } from './stages/enrich.ts';
import { checkFactTarget } from './stages/load.ts';
import type { PayloadLimits } from './stages/validate.ts';
import { shortTopics, warnShortTopics } from './topic-partitions.ts';

export interface IngestOptions {
  logger: Logger;
  connector?: TelemetryConnector;
  /** Overrides the connector's consumer group (tests run isolated groups). */
  groupId?: string;
  topics?: string[];
  rollupIntervalMs?: number;
  /** Listeners of committed batches (alert rules, …), after the built-in metrics; awaited in order. */
  hooks?: IngestHook[];
  /** Where a consumer group without stored offsets starts: earliest (default) or the current end. */
  startAt?: 'earliest' | 'latest';
  /** Limits on one message; default: `limits` of connectors/telemetry.yaml (1 MiB, 64 levels of nesting). */
  limits?: PayloadLimits;
  /** Reference snapshot ages (tests run them short). */
  reference?: { maxAgeMs?: number; checkIntervalMs?: number };
  /** Batches of different partitions in flight at once. @defaultValue 3 */
  partitionsConcurrently?: number;
  /**
   * Reload the mapping files when they change (a poll of the connector's mappings folder every 2 s); false:
   * keep the mappings read at start.
   */
  mappingReload?: MappingReloadOptions | false;
}

export interface RunningIngest {
  consumer: HubConsumer;
  pool: pg.Pool;
  cache: ReferenceCache;
  /** The mappings in use now (they change when the files do, unless mappingReload is false). */
  mappings: Pick<ReloadingRouter, 'current' | 'check'>;
  stop(): Promise<void>;
  /** Recomputes every queued rollup hour now (tests; stop() leaves the queue to the next process). */
  flushRollups(): Promise<number>;
}

/**
 * Loads the connector's fact mappings; any mapping error, a topic no mapping reads, or a mapping whose target
 * or lookups the ingest cannot honour stops the start.
 */
export function loadFactRouter(connector: TelemetryConnector, topics = connector.topics): MappingRouter {
  const loaded = loadMappings([connector.mappings]);
  if (loaded.errors.length > 0) {
    throw new Error(
      `mapping files have errors; fix them (iot-hub mappings validate):\n${loaded.errors.map((e) => e.message).join('\n')}`,
    );
  }
  const telemetry = loaded.mappings.filter(
    (mp) => mp.kind === 'FactMapping' && topics.includes(mp.source.topic ?? ''),
  );
  for (const mapping of telemetry) {
    checkFactTarget(mapping);
    factLookups(mapping);
  }
  const router = createMappingRouter(telemetry);
  const unmapped = topics.filter((t) => router.forTopic(t).length === 0);
  if (unmapped.length > 0)
    throw new Error(
      `no FactMapping reads topic(s) ${unmapped.join(', ')}; add one under ${connector.mappings}/`,
    );
  return router;
}

/**
 * A pool for loading: it survives dropped connections (createPool) and prepares the loader's staging table on
 * each new connection before its first transaction, so no rollback can take the table away.
 */
export function createIngestPool(url: string, max: number, logger: Logger): pg.Pool {
  return createPool(url, { max, logger, name: 'iot-hub-ingest', onConnect: prepareLoaderSession });
}

/** Starts the telemetry ingest: a consumer group over the connector's topics, batch by batch into dw. */
export async function startIngest(config: HubConfig, options: IngestOptions): Promise<RunningIngest> {
  const connector = options.connector ?? readTelemetryConnector();
  const topics = options.topics ?? connector.topics;
  const initialRouter = loadFactRouter(connector, topics);
  const logger = options.logger.child({ component: 'ingest' });
  const pool = createIngestPool(config.database.url, config.database.poolMax, logger);
  const hooks = [ingestMetricsHook, ...(options.hooks ?? [])];
  const collectValues = hooks.some((h) => h.wantsValues);
  const limits = options.limits ?? connector.limits;
  const cache = new ReferenceCache(pool, options.reference);
  const groupId = options.groupId ?? ingestGroupId(connector, config.instance);
  let consumer: HubConsumer | null = null;
  let mappings: ReloadingRouter | null = null;
  try {
    await cache.reload();
    const kafka = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-ingest`,
      logger,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: connector.partitions })));
      warnShortTopics(await shortTopics(admin, topics, connector.partitions), config.kafka.brokers, logger);
    } finally {
      await admin.disconnect();
    }

    const reload = options.mappingReload ?? {};
    mappings =
      reload === false
        ? fixedRouter(initialRouter)
        : await watchMappings(
            connector.mappings,
            initialRouter,
            () => loadFactRouter(connector, topics),
            logger,
            reload,
          );
    const router = mappings;
    const runId = `ingest-${randomUUID()}`;
    const outcomes = new WeakMap<object, { outcome: BatchOutcome; started: number }>();
    consumer = await startTrackedConsumer({
      kafka,
      pool,
      logger,
      groupId,
      topics,
      fromBeginning: (options.startAt ?? 'earliest') === 'earliest',
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      // Batches in flight overlap Node work (parse, map, enrich) with PostgreSQL work (load) on other
      // partitions; on 2 cores, 3 measured best (bench/ingest.ts).
      partitionsConcurrently: options.partitionsConcurrently ?? 3,
      maxBytesPerPartition: 1024 * 1024,
      async handle(batch, client) {
        const started = performance.now();
        // Taken once: a batch keeps the mappings it started with, even if the files are reloaded meanwhile.
        const batchRouter = router.current();
        // One span per batch, continuing the sender's trace (or linking to the senders' traces).
        const trace = batchTraceContext(batch.messages.map((m) => m.headers));
        const outcome = await withSpan(
          'ingest batch',
          {
            'messaging.system': 'kafka',
            'messaging.destination.name': batch.topic,
            'messaging.kafka.partition': batch.partition,
            'messaging.batch.message_count': batch.messages.length,
            ...trace.attributes,
          },
          () =>
            processRecords(client, batch.messages, {
              router: batchRouter,
              cache,
              runId,
              limits,
              collectValues,
            }),
          { parent: trace.parent, links: trace.links, kind: SpanKind.CONSUMER },
        ).catch((err: unknown) => {
          for (const job of lineageJobs(batchRouter, batch.topic)) lineage.batchFailed(job, err);
          throw err;
        });
        outcomes.set(batch, { outcome, started });
      },
      async onCommitted(batch, filtered) {
        const done = outcomes.get(batch);
        const last = batch.messages.at(-1);
        if (done && done.outcome.inferredDevices > 0) cache.markChanged();
        const committed: CommittedBatch = {
          topic: batch.topic,
          partition: batch.partition,
          outcome: done?.outcome ?? null,
          replayFiltered: filtered,
          lastOffset: last?.offset ?? '-1',
          highWatermark: batch.highWatermark,
          durationMs: done ? performance.now() - done.started : 0,
        };
        if (done) {
          const jobs = lineageJobs(router.current(), batch.topic);
          // Rows are counted per topic: with several mappings on one topic, no run claims them.
          for (const job of jobs) lineage.batchSucceeded(job, jobs.length === 1 ? done.outcome.inserted : 0);
        }
        await runCommittedHooks(hooks, committed, logger);
        if (done)
          logger.debug(
            {
              topic: batch.topic,
              partition: batch.partition,
              batchId: done.outcome.batchId,
              ...done.outcome.counts,
            },
            'batch committed',
          );
      },
      onCrash(error) {
        logger.fatal({ err: error }, 'the Kafka consumer stopped for good; restart the hub');
      },
    });
  } catch (err) {
    mappings?.stop();
    await consumer?.disconnect().catch(() => {});
    await pool.end().catch(() => {});
    throw err;
  }
  const running = consumer;
  const reloading = mappings;

  // A rollup run is reported when it recomputed something or failed (docs/lineage.md).
  const rollup = (limits?: Parameters<typeof recomputeDirtyHours>[1]) =>
    lineage.run(lineage.rollup(), () => recomputeDirtyHours(pool, limits), {
      emitIf: (hours) => hours > 0,
      rowCount: (hours) => hours,
    });
  const flushRollups = () => rollup({ settleMs: 0, limit: 100_000 });
  const rollupTimer = setInterval(() => {
    rollup().catch((err: unknown) => logger.warn({ err }, 'hourly rollup failed; will retry'));
  }, options.rollupIntervalMs ?? 5000);
  rollupTimer.unref();

  logger.info(
    {
      topics,
      groupId,
      mappings: topics.flatMap((t) => initialRouter.forTopic(t).map((mp) => `${mp.id}@${mp.version}`)),
      mappingReload: options.mappingReload !== false,
    },
    'ingest started',
  );
  return {
    consumer: running,
    pool,
    cache,
    mappings: reloading,
    flushRollups,
    async stop() {
      clearInterval(rollupTimer);
      reloading.stop();
      // stop() lets the batches in flight finish (or roll back) and their hooks run.
      await running.stop();
      await running.disconnect();
      await pool.end();
    },
  };
}

/** OpenLineage jobs of a topic: one per mapping that reads it; a run spans a window of batches (docs/lineage.md). */
function lineageJobs(router: MappingRouter, topic: string) {
  return router.forTopic(topic).map((m) => lineage.forMapping(m));
}

/** The mappings read at start, never reloaded (mappingReload: false). */
function fixedRouter(router: MappingRouter): ReloadingRouter {
  return { current: () => router, check: async () => 'unchanged', stop() {} };
}
