import { Redis } from 'ioredis';
import type { HubConfig } from '../config/index.ts';
import { createKnex, type Knex } from '../db/index.ts';
import { lineage } from '../lineage/index.ts';
import { loadMappingFile } from '../mapping/index.ts';
import { createLogger, type Logger } from '../observability/index.ts';
import type { AlertSync } from './alert-sync.ts';
import { EventSync } from './event-sync.ts';
import { IncidentSync } from './incident-sync.ts';
import { RatePacer } from './rate-pacer.ts';
import { RecoveringCondition } from './recovering-condition.ts';
import { ServiceNowClient } from './servicenow-client.ts';
import { ServiceNowHealth, type ServiceNowHealthStatus } from './servicenow-health.ts';
import { TicketProcessor } from './ticket-processor.ts';
import { TicketQueue } from './ticket-queue.ts';
import { TicketReconciler } from './ticket-reconciler.ts';
import {
  loadTicketSettings,
  mappingPath,
  type TicketSettings,
  ticketQueueName,
  validateTicketSettings,
} from './ticket-settings.ts';
import { TicketStore } from './ticket-store.ts';
import { TicketWorker } from './ticket-worker.ts';

export interface TicketDeliveryOptions {
  logger?: Logger;
  /** Settings file (default connectors/servicenow-tickets.yaml). */
  settingsFile?: string;
  /** Overrides over the file's settings (tests, the bench). */
  settings?: Partial<TicketSettings>;
  /** A knex to use instead of one on config.database.url (then not destroyed by stop()). */
  knex?: Knex;
  /** How often the queue's Redis is checked for lost data (its sentinel key). @defaultValue 2000 */
  redisCheckMs?: number;
  /** How often ServiceNow is probed for health(). @defaultValue 30000 */
  healthIntervalMs?: number;
}

export interface TicketDelivery {
  readonly settings: TicketSettings;
  /** Enqueues every undelivered intent now; the reconciler also does this every reconcile interval. */
  reconcile(): Promise<number>;
  /**
   * ServiceNow as the last probe saw it (at start, then every 30 s; cached, so cheap enough for /readyz):
   * `up` false with an `error` that names the config key to fix when the credentials are refused.
   */
  health(): ServiceNowHealthStatus;
  /** Probes ServiceNow now and returns the new health. */
  checkHealth(): Promise<ServiceNowHealthStatus>;
  /** Ticket intents in hub.alert and jobs in the queue, by state. */
  status(): Promise<{ intents: Record<string, number>; jobs: Record<string, number> }>;
  /** Stops listening and enqueueing, lets running jobs finish, closes Redis (and the knex it created). */
  stop(): Promise<void>;
}

/**
 * Starts ServiceNow ticket delivery for the alerts in hub.alert: the reconciler (LISTEN for raiseAlerts, and a
 * periodic pass over every undelivered intent), the bullmq queue and worker on config.redis.url, and the
 * ServiceNow client on config.servicenow. Resolves once the first reconcile pass has enqueued what was left
 * undelivered; rejects when the mapping, settings, PostgreSQL or Redis are unusable.
 */
export async function startTicketDelivery(
  config: HubConfig,
  options: TicketDeliveryOptions = {},
): Promise<TicketDelivery> {
  const given = { ...loadTicketSettings(options.settingsFile), ...options.settings };
  const settings = validateTicketSettings({ ...given, queueName: ticketQueueName(given, config.instance) });
  const logger = (options.logger ?? createLogger(config.log.level)).child({
    component: 'tickets',
    mode: settings.mode,
  });
  const mapping = loadMappingFile(mappingPath(settings));
  const knex =
    options.knex ?? createKnex(config.database.url, Math.max(4, Math.min(settings.concurrency + 2, 20)));
  const store = new TicketStore(knex);
  const availability = new RecoveringCondition({
    logger,
    name: 'ServiceNow',
    startMessage:
      'ServiceNow is failing (unreachable, 5xx, 429 or a maintenance page); ticket jobs are retried with back-off, and one line follows when it answers again',
    endMessage: 'ServiceNow answers again; ticket delivery goes on',
  });
  const client = new ServiceNowClient({
    url: config.servicenow.url,
    auth: config.servicenow.auth,
    timeoutMs: settings.requestTimeoutMs,
    pacer: new RatePacer({ proactive: settings.pacing, busyBackoffMs: settings.busyBackoffMs }),
    availability,
  });
  const health = new ServiceNowHealth({
    probe: () => client.probe(),
    auth: config.servicenow.auth,
    url: config.servicenow.url,
    intervalMs: options.healthIntervalMs,
    logger,
  });
  const sync: AlertSync =
    settings.mode === 'event'
      ? new EventSync({
          client,
          store,
          mapping,
          source: settings.eventSource,
          eventClass: settings.eventClass,
          logger,
        })
      : new IncidentSync({ client, store, mapping, closeCode: settings.closeCode, logger });
  const processor = new TicketProcessor({
    store,
    sync,
    leaseMs: 2 * settings.requestTimeoutMs + 15_000,
    logger,
  });

  const queueConnection = new Redis(config.redis.url, { maxRetriesPerRequest: 2 });
  const workerConnection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const redisCondition = new RecoveringCondition({
    logger,
    name: 'ticket Redis',
    startMessage: 'ticket Redis connection lost; reconnecting (hub.alert keeps every intent meanwhile)',
    endMessage: 'ticket Redis connected again',
  });
  const queue = new TicketQueue(queueConnection, settings);
  /** Off until the sentinel is first set: before that, a missing sentinel means nothing. */
  let watching = false;
  let checking = false;
  /** Reconciles at once when the queue's data is gone from Redis, instead of at the next periodic pass. */
  const checkRedis = async (): Promise<void> => {
    if (checking || !watching) return;
    checking = true;
    try {
      if (await queue.sentinelPresent()) return;
      logger.warn(
        { sentinel: queue.sentinelKey },
        'the ticket queue is gone from Redis (flushed, or restarted without its data); re-enqueueing every undelivered intent from hub.alert now',
      );
      await queue.markSentinel();
      reconciler.request();
    } catch {
      // Redis unreachable: the connection condition reports it, and 'ready' checks again.
    } finally {
      checking = false;
    }
  };
  for (const c of [queueConnection, workerConnection]) {
    c.on('error', (err: Error & { code?: string }) =>
      redisCondition.fail(err.code ?? 'error', { err: err.message }),
    );
    c.on('ready', () => {
      redisCondition.ok();
      void checkRedis();
    });
  }
  const reconciler = new TicketReconciler({
    databaseUrl: config.database.url,
    store,
    queue,
    intervalMs: settings.reconcileIntervalMs,
    logger,
  });
  const worker = new TicketWorker({
    connection: workerConnection,
    settings,
    processor,
    queue,
    logger,
    lineageJob: () => lineage.forMapping(mapping),
    onFinished: (key) => {
      // A revision written while the job was finishing was not enqueued (the job id still existed).
      store
        .hasUndelivered(key)
        .then((more) => more && reconciler.request([key]))
        .catch(() => {});
    },
    onJobLost: (key) => {
      if (key) reconciler.request([key]);
      void checkRedis();
    },
  });
  let redisTimer: NodeJS.Timeout | null = null;
  try {
    await queue.markSentinel();
    watching = true;
    await reconciler.start();
    redisTimer = setInterval(() => void checkRedis(), options.redisCheckMs ?? 2000);
    redisTimer.unref();
    health.start();
  } catch (e) {
    health.stop();
    availability.close();
    redisCondition.close();
    // Connections first: a bullmq worker closing over a Redis it cannot reach would wait for it forever.
    queueConnection.disconnect();
    workerConnection.disconnect();
    await Promise.race([
      Promise.allSettled([reconciler.stop(), worker.close(), queue.close()]),
      new Promise((r) => setTimeout(r, 5000).unref()),
    ]);
    if (!options.knex) await knex.destroy();
    const redisDown = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|max retries per request|Connection is closed/i.test(
      (e as Error)?.message ?? '',
    );
    throw redisDown
      ? new Error(
          `Redis at ${config.redis.url} is unreachable (${(e as Error).message}); start it or set redis.url / REDIS_URL`,
          { cause: e },
        )
      : e;
  }
  logger.info({ queue: settings.queueName, url: config.servicenow.url }, 'ticket delivery started');

  return {
    settings,
    reconcile: () => reconciler.pass(),
    health: () => health.status(),
    checkHealth: () => health.check(),
    status: async () => ({ intents: await store.intentCounts(), jobs: await queue.counts() }),
    stop: async () => {
      if (redisTimer) clearInterval(redisTimer);
      health.stop();
      availability.close();
      redisCondition.close();
      await reconciler.stop();
      await worker.close();
      await queue.close();
      await Promise.allSettled([queueConnection.quit(), workerConnection.quit()]);
      if (!options.knex) await knex.destroy();
      logger.info('ticket delivery stopped');
    },
  };
}
