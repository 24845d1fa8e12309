import { Redis } from 'ioredis';
import type { HubConfig } from './config/index.ts';
import { createKnex } from './db/index.ts';
import { type RunningIngest, startIngest } from './ingest/index.ts';
import { startTicketDelivery, type TicketDelivery } from './itsm/index.ts';
import { createKafka } from './kafka/index.ts';
import {
  createLogger,
  type HubHttpServer,
  type Logger,
  startHttpServer,
  startTracing,
  stopTracing,
} from './observability/index.ts';
import { type AlertEngine, createAlertEngine } from './quality/index.ts';
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
}

export interface RunningHub {
  logger: Logger;
  http: HubHttpServer;
  ingest: RunningIngest | null;
  alerts: AlertEngine | null;
  tickets: TicketDelivery | null;
  stop(): Promise<void>;
}

/**
 * The composition root: starts tracing, the HTTP port and the stages, and wires readiness checks for each
 * dependency. Stages join here as they arrive.
 */
export async function startHub(config: HubConfig, stages: HubStages = {}): Promise<RunningHub> {
  const logger = createLogger(config.log.level);
  // Migrating on start keeps `iot-hub start` a one-step command; it is a no-op on an up-to-date database.
  const migrated = await migrateDatabase(config.database.url, 'up');
  if (migrated.changed.length > 0) logger.info({ applied: migrated.changed }, 'database migrated');
  const tracing = startTracing();
  const db = createKnex(config.database.url, config.database.poolMax);
  const kafkaAdmin = createKafka({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-health`,
    retries: 0,
    logLevel: 'nothing',
  }).admin();
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));

  const http = await startHttpServer(config.http.port, [
    { name: 'postgres', check: async () => void (await db.raw('SELECT 1')) },
    {
      name: 'kafka',
      check: async () => {
        await kafkaAdmin.connect();
        await kafkaAdmin.describeCluster();
      },
    },
    { name: 'redis', check: async () => void (await redis.ping()) },
  ]);
  logger.info(
    { port: http.port, config: config.file ?? '(defaults)', otlpExport: tracing.exporting },
    `hub listening on http://127.0.0.1:${http.port} (/healthz, /readyz, /metrics)`,
  );

  const alerts =
    stages.alerts === false
      ? null
      : createAlertEngine({ knex: db, rules: 'connectors/alert-rules.yaml', logger });
  // Heartbeat loss is the absence of data, so it needs a clock of its own.
  const heartbeat = alerts
    ? setInterval(() => {
        alerts
          .checkHeartbeats()
          .catch((err: unknown) => logger.warn({ err }, 'heartbeat check failed; will retry'));
      }, 60_000)
    : null;
  heartbeat?.unref();
  const ingest =
    stages.ingest === false
      ? null
      : await startIngest(config, {
          logger,
          groupId: stages.ingestGroup,
          onLoaded: alerts ? (values) => alerts.evaluateReadings(values) : undefined,
        });
  const tickets = stages.tickets === false ? null : await startTicketDelivery(config, { logger });

  return {
    logger,
    http,
    ingest,
    alerts,
    tickets,
    async stop() {
      if (heartbeat) clearInterval(heartbeat);
      await ingest?.stop();
      await tickets?.stop();
      await http.close();
      await kafkaAdmin.disconnect().catch(() => {});
      redis.disconnect();
      await db.destroy();
      await stopTracing();
    },
  };
}
