import { Redis } from 'ioredis';
import {
  type RunningCdc,
  type RunningCmdbPoll,
  type RunningCmdbSink,
  startCdc,
  startCmdbPoll,
  startCmdbSink,
} from './cdc/index.ts';
import type { HubConfig } from './config/index.ts';
import { createKnex, createPool } from './db/index.ts';
import { startOfflineSweeper } from './device-state/index.ts';
import { type RunningGraphql, startGraphql } from './graphql/index.ts';
import { type IngestHook, type RunningIngest, startIngest } from './ingest/index.ts';
import { startTicketDelivery, type TicketDelivery } from './itsm/index.ts';
import { createKafka, type HubConsumer, silenceKafkajsTimeoutWarning } from './kafka/index.ts';
import { lineage, startLineage } from './lineage/index.ts';
import {
  createLogger,
  type HubHttpServer,
  type Logger,
  type ReadinessCheck,
  startHttpServer,
  startTracing,
  stopTracing,
} from './observability/index.ts';
import {
  type AlertEngine,
  checkRuleMetrics,
  createAlertEngine,
  loadAlertRules,
  startQualityJobs,
} from './quality/index.ts';
import { migrateDatabase } from './warehouse/index.ts';

export interface HubStages {
  /** The telemetry ingest (connectors/telemetry.yaml); on by default. */
  ingest?: boolean;
  /** Consumer group of the ingest; default from connectors/telemetry.yaml. */
  ingestGroup?: string;
  /** Alert rules (connectors/alert-rules.yaml) over ingested readings and heartbeats; on by default. */
  alerts?: boolean;
  /** ServiceNow ticket delivery of alerts (connectors/servicenow-tickets.yaml); on by default. */
  tickets?: boolean;
  /** MDM change events (Debezium) into the SCD2 dimensions (mappings with `source.kind: cdc`); on by default. */
  cdc?: boolean;
  /** Data-quality jobs (gap sweep, drift, calibration) and dq alerts into hub.alert (docs/data-quality.md); on by default. */
  quality?: boolean;
  /** Marks silent devices offline and announces it through hub.outbox (config `deviceState`); on by default. */
  deviceState?: boolean;
  /** The ServiceNow CMDB poll into dw.dim_cmdb_ci (config `cmdbPoll`); on by default. */
  cmdbPoll?: boolean;
  /** Devices and their health upserted as ServiceNow CIs through IRE (config `cmdbSink`); on by default. */
  cmdbSink?: boolean;
  /** The GraphQL API at /graphql on the HTTP port, queries and subscriptions (docs/graphql.md); on by default. */
  graphql?: boolean;
}

export interface RunningHub {
  logger: Logger;
  http: HubHttpServer;
  ingest: RunningIngest | null;
  alerts: AlertEngine | null;
  tickets: TicketDelivery | null;
  cdc: RunningCdc | null;
  cmdbPoll: RunningCmdbPoll | null;
  cmdbSink: RunningCmdbSink | null;
  /** Stops every stage, letting work in flight finish: batches commit or roll back, alerts are written. */
  stop(): Promise<void>;
}

/** A stage failed to start; what had started was stopped again. */
export class HubStartError extends Error {
  readonly stage: string;
  constructor(stage: string, cause: unknown) {
    super(`iot-hub could not start (${stage}): ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'HubStartError';
    this.stage = stage;
  }
}

/**
 * The composition root: tracing, the HTTP port and the stages, with a readiness check for each dependency and
 * each stage. Start is all or nothing: when a stage fails to start, the ones already started are stopped in
 * reverse order and a HubStartError names the stage.
 */
export async function startHub(config: HubConfig, stages: HubStages = {}): Promise<RunningHub> {
  const logger = createLogger(config.log.level);
  const stops: { name: string; stop: () => unknown }[] = [];
  const stopAll = async () => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err, stage: name }, `stopping ${name} failed`);
      }
    }
    stops.length = 0;
  };
  let stage = 'database migration';
  silenceKafkajsTimeoutWarning();
  try {
    // Migrating on start keeps `iot-hub start` a one-step command; a no-op on an up-to-date database.
    const migrated = await migrateDatabase(config.database.url, 'up');
    if (migrated.changed.length > 0) logger.info({ applied: migrated.changed }, 'database migrated');
    stage = 'tracing';
    const tracing = startTracing();
    stops.push({ name: 'tracing', stop: stopTracing });
    // Before the stages, so their first runs are reported; stopped after them, so their last runs are sent.
    stage = 'OpenLineage';
    if (await startLineage(config, logger)) stops.push({ name: 'OpenLineage', stop: () => lineage.close() });
    const db = createKnex(config.database.url, { poolMax: config.database.poolMax, logger, name: 'hub' });
    stops.push({ name: 'database pool', stop: () => db.destroy() });
    const kafkaAdmin = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-health`,
      retries: 0,
      logLevel: 'nothing',
      logger,
    }).admin();
    stops.push({ name: 'kafka health client', stop: () => kafkaAdmin.disconnect().catch(() => {}) });
    const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {
      // Reported by /readyz; the delivery stage logs its own Redis trouble.
    });
    stops.push({ name: 'redis health client', stop: () => redis.disconnect() });

    let ingest: RunningIngest | null = null;
    let alerts: AlertEngine | null = null;
    let tickets: TicketDelivery | null = null;
    let cdc: RunningCdc | null = null;
    let cmdbPoll: RunningCmdbPoll | null = null;
    let cmdbSink: RunningCmdbSink | null = null;
    let graphql: RunningGraphql | null = null;
    const checks: ReadinessCheck[] = [
      { name: 'postgres', check: async () => void (await db.raw('SELECT 1')) },
      {
        name: 'kafka',
        check: async () => {
          await kafkaAdmin.connect();
          await kafkaAdmin.describeCluster();
        },
      },
      { name: 'redis', check: async () => void (await redis.ping()) },
    ];
    if (stages.ingest !== false) checks.push(consumerCheck('ingest', () => ingest?.consumer));
    if (stages.cdc !== false) checks.push(consumerCheck('cdc', () => cdc?.consumer));
    if (stages.cmdbPoll !== false)
      checks.push({
        name: 'cmdbPoll',
        // As for tickets: refused credentials or roles make the hub unready (the poll can never work); an outage
        // does not (the poll keeps its watermark and catches up; its lag is in /metrics).
        check: async () => {
          const health = cmdbPoll?.health();
          if (!health) throw new Error('not started');
          if (health.state === 'failing' && (health.errorKind === 'auth' || health.errorKind === 'rejected'))
            throw new Error(health.error ?? health.state);
        },
      });
    if (stages.graphql !== false)
      checks.push({
        name: 'graphql',
        check: async () => {
          if (!graphql) throw new Error('not started');
          await graphql.ready();
        },
      });
    if (stages.tickets !== false)
      checks.push({
        name: 'servicenow',
        // Credentials or roles that ServiceNow refuses make the hub unready: no ticket can ever go out, and
        // an operator should see it before the first alert. An outage does not: delivery retries and the
        // ticket stage logs it; the probe's state is still shown.
        check: async () => {
          const health = tickets?.health();
          if (!health) throw new Error('not started');
          if (health.state === 'auth' || health.state === 'forbidden')
            throw new Error(health.error ?? health.state);
        },
      });
    stage = 'HTTP server';
    const http = await startHttpServer(config.http.port, checks);
    stops.push({ name: 'HTTP server', stop: () => http.close() });
    logger.info(
      { port: http.port, config: config.file ?? '(defaults)', otlpExport: tracing.exporting },
      `hub listening on http://127.0.0.1:${http.port} (/healthz, /readyz, /metrics)`,
    );

    if (stages.graphql !== false) {
      stage = 'GraphQL API';
      const pool = createPool(config.database.url, { max: config.database.poolMax, logger, name: 'graphql' });
      stops.push({ name: 'GraphQL pool', stop: () => pool.end() });
      const running = await startGraphql({ http, db: pool, servicenow: config.servicenow, logger });
      graphql = running;
      stops.push({ name: 'GraphQL API', stop: () => running.stop() });
    }
    if (stages.alerts !== false) {
      stage = 'alert rules';
      const rules = loadAlertRules('connectors/alert-rules.yaml');
      const codes = await db('dw.dim_metric').where('metric_sk', '>', 0).pluck<string[]>('metric_code');
      checkRuleMetrics(rules, new Set(codes));
      const engine = createAlertEngine({ knex: db, rules, logger });
      alerts = engine;
      stops.push({ name: 'alert rules', stop: () => engine.stop() });
      // Heartbeat loss is the absence of data, so it needs a clock of its own.
      const heartbeat = setInterval(() => {
        engine
          .checkHeartbeats()
          .catch((err: unknown) => logger.warn({ err }, 'heartbeat check failed; will retry'));
      }, 60_000);
      heartbeat.unref();
      stops.push({ name: 'heartbeat timer', stop: () => clearInterval(heartbeat) });
    }
    if (stages.quality !== false) {
      stage = 'data quality';
      const pool = createPool(config.database.url, { max: 2 });
      stops.push({ name: 'data-quality pool', stop: () => pool.end() });
      const jobs = startQualityJobs({ pool, knex: db, logger });
      stops.push({ name: 'data quality', stop: () => jobs.stop() });
    }
    if (stages.ingest !== false) {
      stage = 'telemetry ingest';
      const hooks: IngestHook[] = [];

      const engine = alerts;
      if (engine)
        hooks.push({
          name: 'alert-rules',
          wantsValues: true,
          batchCommitted: async (b) => {
            if (b.outcome && b.outcome.values.length > 0) await engine.evaluateReadings(b.outcome.values);
          },
        });
      const running = await startIngest(config, { logger, groupId: stages.ingestGroup, hooks });
      ingest = running;
      stops.push({ name: 'telemetry ingest', stop: () => running.stop() });
    }
    if (stages.cdc !== false) {
      stage = 'CDC (MDM dimensions)';
      const running = await startCdc(config, {
        logger,
        // This process's enrichment uses an applied change at once; other processes see it within a second.
        onApplied: () => ingest?.cache.markChanged(),
      });
      cdc = running;
      stops.push({ name: 'CDC', stop: () => running.stop() });
    }
    if (stages.cmdbPoll !== false) {
      stage = 'CMDB poll';
      const running = await startCmdbPoll(config, { logger });
      cmdbPoll = running;
      stops.push({ name: 'CMDB poll', stop: () => running.stop() });
    }
    if (stages.cmdbSink !== false) {
      stage = 'CMDB sink';
      const running = await startCmdbSink(config, { logger });
      cmdbSink = running;
      stops.push({ name: 'CMDB sink', stop: () => running.stop() });
    }
    if (stages.deviceState !== false) {
      // Silence is the absence of data, so going offline needs a clock of its own (src/device-state).
      stage = 'offline sweeper';
      const sweeper = startOfflineSweeper({
        databaseUrl: config.database.url,
        everyMs: config.deviceState.sweepIntervalSeconds * 1000,
        intervals: config.deviceState.offlineAfterIntervals,
        floorS: config.deviceState.offlineFloorSeconds,
        logger,
      });
      stops.push({ name: 'offline sweeper', stop: () => sweeper.stop() });
    }
    if (stages.tickets !== false) {
      stage = 'ServiceNow ticket delivery';
      const delivery = await startTicketDelivery(config, { logger });
      tickets = delivery;
      stops.push({ name: 'ticket delivery', stop: () => delivery.stop() });
    }

    return {
      logger,
      http,
      ingest,
      alerts,
      tickets,
      cdc,
      cmdbPoll,
      cmdbSink,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw new HubStartError(stage, err);
  }
}

/** Readiness of a stage's Kafka consumer: running, or why not (starting, retrying a database outage, crashed). */
function consumerCheck(name: string, consumer: () => HubConsumer | undefined): ReadinessCheck {
  return {
    name,
    check: async () => {
      const health = consumer()?.health();
      if (!health) throw new Error('not started');
      if (health.state !== 'running')
        throw new Error(
          `${health.state} since ${new Date(health.since).toISOString()}${health.error ? `: ${health.error}` : ''}`,
        );
    },
  };
}
