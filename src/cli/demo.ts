import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type HubConfig, loadConfig } from '../config/index.ts';
import {
  deadLettersByCause,
  forgetGroup,
  hourlyAverageBySite,
  listIncidents,
  misplacedReadings,
  startDemoServiceNow,
  startGroupAtEnd,
  ticketStates,
} from '../devtools/demo/index.ts';
import {
  type Fleet,
  parseDurationMs,
  type SimulationProgress,
  simulate,
  stackUp,
} from '../devtools/index.ts';
import type { ServiceNowEmulator } from '../devtools/servicenow/index.ts';
import { type RunningHub, startHub } from '../hub.ts';
import { endOffsets, ingestGroupId, readTelemetryConnector, waitForCatchUp } from '../ingest/index.ts';
import { startTicketDelivery } from '../itsm/index.ts';
import { createKafka } from '../kafka/index.ts';
import { migrateDatabase } from '../warehouse/index.ts';

interface DemoFlags {
  devices: string;
  duration: string;
  once?: boolean;
}

interface DemoOptions {
  devices: number;
  durationMs: number;
  once: boolean;
}

const minuteMs = 60_000;
const ticketTimeoutMs = 120_000;
/** How long the fleet may take to arrive through CDC (the first run snapshots MDM). */
const cdcTimeoutMs = 120_000;

/** Checks the flags; throws a sentence naming the bad one. */
export function demoOptionsFromFlags(flags: DemoFlags): DemoOptions {
  const devices = Number(flags.devices);
  if (!Number.isInteger(devices) || devices < 1 || devices > 10_000)
    throw new Error(`--devices must be a whole number from 1 to 10000, got "${flags.devices}"`);
  const durationMs = parseDurationMs(flags.duration, '--duration');
  if (durationMs < 10 * minuteMs || durationMs > 48 * 60 * minuteMs)
    throw new Error(
      `--duration must be from 10m to 48h (alert rules need minutes of data), got "${flags.duration}"`,
    );
  return { devices, durationMs, once: flags.once === true };
}

/**
 * `iot-hub demo`: the whole pipeline on the local stack. Stack up, a ServiceNow emulator in this process as the
 * ticket peer, the hub, a simulated plant with faults and process excursions, then what came out: the
 * incidents opened, the dead letters by cause and an hourly average by site from the star schema. Each run has
 * its own device ids, consumer group and ticket queue, so runs repeat and never see each other's data.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the pipeline end to end on the local stack: simulate a plant, ingest it, open incidents, query the warehouse',
    )
    .option('--devices <n>', 'simulated devices', '24')
    .option('--duration <time>', 'telemetry window, ending now (e.g. 30m, 6h)', '6h')
    .option('--once', 'exit after the summary instead of keeping the hub and the emulator up until Ctrl-C')
    .action(async (flags: DemoFlags) => {
      const options = demoOptionsFromFlags(flags);
      await runDemo(loadConfig({ file: program.opts().config }), options);
    });
}

async function runDemo(config: HubConfig, options: DemoOptions): Promise<void> {
  const log = (line: string) => console.log(line);
  const runId = randomBytes(3).toString('hex');
  const idPrefix = `demo-${runId}-`;
  const connector = readTelemetryConnector();
  const groupId = `${ingestGroupId(connector, config.instance)}-demo-${runId}`;
  const queueName = `demo-tickets-${runId}`;

  const up = await stackUp(config, log);
  log(up.alreadyUp ? 'stack: already up' : `stack: up in ${up.seconds.toFixed(1)} s`);
  const migrated = await migrateDatabase(config.database.url, 'up');
  if (migrated.changed.length > 0) log(`database: applied ${migrated.changed.length} migrations`);

  const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  const cleanUp = async () => {
    for (const { what, run } of cleanups.reverse()) {
      await run().catch((err: unknown) =>
        log(`demo: ${what} failed while stopping: ${(err as Error).message}`),
      );
    }
    cleanups.length = 0;
  };
  try {
    const emulator = await startDemoServiceNow(config);
    cleanups.push({ what: 'stopping the ServiceNow emulator', run: () => emulator.close() });
    log(`ServiceNow emulator: ${emulator.url} (in this process; the hub's tickets go there)`);
    const hubConfig: HubConfig = {
      ...config,
      servicenow: { ...config.servicenow, url: emulator.url },
      http: { port: 0 },
      log: { level: demoLogLevel() },
    };

    const pool = new pg.Pool({
      connectionString: config.database.url,
      max: 2,
      application_name: 'iot-hub-demo',
    });
    cleanups.push({ what: 'closing the database pool', run: () => pool.end() });
    const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'iot-hub-demo' });
    // Before the hub's consumer joins: it seeks to these offsets, so the run ingests only what it sends.
    await startGroupAtEnd(kafka, pool, groupId, connector.topics, connector.partitions);
    cleanups.push({ what: 'removing the consumer group', run: () => forgetGroup(kafka, pool, groupId) });
    // The fleet reaches the warehouse dimensions as in production: written into MDM and the CMMS, carried by
    // Debezium (applied by stack up) and the hub's CDC stage.
    const hub = await startHub(hubConfig, {
      ingestGroup: groupId,
      tickets: false,
      cmdbPoll: false,
    });
    cleanups.push({ what: 'stopping the hub', run: () => hub.stop() });
    const delivery = await startTicketDelivery(hubConfig, { logger: hub.logger, settings: { queueName } });
    cleanups.push({ what: 'removing the ticket queue', run: () => dropQueue(config.redis.url, queueName) });
    cleanups.push({ what: 'stopping ticket delivery', run: () => delivery.stop() });

    const minutes = Math.round(options.durationMs / minuteMs);
    log(
      `simulating ${options.devices} devices (ids ${idPrefix}…) over ${formatMinutes(minutes)}, with faults (malformed, duplicates, late, future-dated, unknown devices) and machines running hot`,
    );
    const run = await simulate({
      seed: 'demo',
      idPrefix,
      devices: options.devices,
      durationMs: options.durationMs,
      // The window ends at the current minute, so the devices look alive to the heartbeat rule.
      start: new Date(Math.floor(Date.now() / minuteMs) * minuteMs - options.durationMs),
      faults: {
        malformed: 0.005,
        duplicate: 0.01,
        late: 0.01,
        out_of_order: 0.01,
        future: 0.002,
        unknown_device: 0.05,
        spike: 0.005,
        stuck: 0.002,
      },
      // Machines running past their range for 10–40 min: each opens an alert; the last is still going when the
      // window ends, so at least one incident is open at the summary (one that clears before delivery makes none).
      excursions: Math.max(2, Math.round(options.devices / 6)),
      databaseUrl: config.database.url,
      seedWarehouse: false,
      beforeSend: (fleet) => waitForDimensions(pool, fleet, log),
      kafka: { brokers: config.kafka.brokers, clientId: 'iot-hub-demo-simulator' },
      progressIntervalMs: 2000,
      onProgress: (p) => {
        if (!p.done) log(sendProgress(p));
      },
    });
    const l = run.ledger;
    log(
      `sent ${l.messages_sent} messages, ${l.readings_sent} readings (${l.duplicate_readings} duplicates, ${l.invalid_messages} invalid); ${run.groundTruth.excursions.length} excursions`,
    );

    const ends = await endOffsets(kafka, connector.topics);
    const caughtUp = await waitForCatchUp(pool, groupId, ends, {
      onProgress: (remaining) => log(`ingesting… ${remaining} records to go`),
    });
    if (!caughtUp)
      throw new Error(
        'the ingest did not catch up within 5 minutes; run it again with LOG_LEVEL=info to see what the hub does',
      );
    await hub.alerts?.whenIdle();
    // Data-quality findings reach hub.alert through their outbox, drained every 2 s (docs/data-quality.md).
    for (let waited = 0; waited < 15_000; waited += 250) {
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hub.dq_alert_outbox');
      if (rows[0]!.n === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await hub.ingest!.flushRollups();
    log('ingested');
    await waitForTickets(pool, idPrefix, log);

    await printSummary(pool, emulator, idPrefix, log);
    if (options.once) return;
    await serveUntilStopped(hub, emulator, log);
  } finally {
    await cleanUp();
  }
  if (!options.once) log('stopped');
}

/**
 * Waits until CDC has carried the fleet from MDM into dw.dim_asset and dw.dim_device (current, not inferred),
 * with progress, so the telemetry that follows is enriched with the real hierarchy.
 */
async function waitForDimensions(pool: pg.Pool, fleet: Fleet, log: (line: string) => void): Promise<void> {
  const devices = fleet.devices.filter((d) => d.registered).map((d) => d.deviceId);
  const assets = fleet.assets.map((a) => a.assetId);
  const started = Date.now();
  let lastReport = 0;
  log(
    `MDM: ${assets.length} assets and ${devices.length} devices written; waiting for them to arrive through CDC…`,
  );
  for (;;) {
    const { rows } = await pool.query<{ devices: number; assets: number }>(
      `SELECT (SELECT count(*)::int FROM dw.dim_device WHERE is_current AND NOT is_inferred AND device_nk = ANY($1)) AS devices,
              (SELECT count(*)::int FROM dw.dim_asset WHERE is_current AND site_nk IS NOT NULL AND asset_nk = ANY($2)) AS assets`,
      [devices, assets],
    );
    const seen = rows[0]!;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (seen.devices === devices.length && seen.assets === assets.length) {
      log(
        `dimensions through CDC: ${seen.assets} assets (with their hierarchy) and ${seen.devices} devices in ${seconds} s`,
      );
      return;
    }
    if (Date.now() - started > cdcTimeoutMs)
      throw new Error(
        `only ${seen.devices}/${devices.length} devices and ${seen.assets}/${assets.length} assets arrived through CDC within ${cdcTimeoutMs / 1000} s; check the connectors (npx iot-hub connectors status) and the hub's CDC stage (/readyz)`,
      );
    if (Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      log(
        `CDC… ${seen.assets}/${assets.length} assets, ${seen.devices}/${devices.length} devices in dw (${seconds} s)`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until every ticket intent of the run's alerts is acknowledged (or failed for good), with progress. */
async function waitForTickets(pool: pg.Pool, idPrefix: string, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + ticketTimeoutMs;
  let lastReport = 0;
  for (;;) {
    const states = await ticketStates(pool, idPrefix);
    const inFlight = (states.pending ?? 0) + (states.sent ?? 0);
    if (inFlight === 0) return;
    if (Date.now() > deadline) {
      log(
        `tickets: ${inFlight} still in flight after ${ticketTimeoutMs / 1000} s; the list below may miss them (npx iot-hub start delivers them later)`,
      );
      return;
    }
    if (Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      log(`delivering tickets… ${inFlight} in flight, ${states.acknowledged ?? 0} acknowledged`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function printSummary(
  pool: pg.Pool,
  emulator: ServiceNowEmulator,
  idPrefix: string,
  log: (line: string) => void,
): Promise<void> {
  const incidents = await listIncidents(emulator, `iothub:${idPrefix}`);
  log(`\nincidents opened in ServiceNow (${emulator.url}/api/now/table/incident): ${incidents.length}`);
  if (incidents.length > 0) console.table(incidents);
  const failed = (await ticketStates(pool, idPrefix)).failed ?? 0;
  if (failed > 0) log(`tickets: ${failed} failed for good; see hub.alert.ticket_error`);

  const dead = await deadLettersByCause(pool, idPrefix);
  log(`\ndead letters by cause: ${dead.reduce((n, d) => n + d.n, 0)}  (npx iot-hub dlq list)`);
  if (dead.length > 0) console.table(dead);

  const sites = await hourlyAverageBySite(pool, idPrefix);
  log('\nhourly average by site and metric, from the star schema (dw.fact_sensor_hourly ⋈ dw.dim_asset)');
  console.table(sites);
  const misplaced = await misplacedReadings(pool, idPrefix);
  if (misplaced > 0)
    log(
      `warning: ${misplaced} readings of registered devices landed under site Unknown (asset_sk -1) although their asset is in dw.dim_asset: an enrichment fault`,
    );
}

async function serveUntilStopped(
  hub: RunningHub,
  emulator: ServiceNowEmulator,
  log: (line: string) => void,
): Promise<void> {
  const { username, password } = emulator.credentials;
  log(`\nthe hub and the emulator stay up until Ctrl-C (--once exits here):`);
  log(`  hub        http://127.0.0.1:${hub.http.port}/readyz  /metrics`);
  log(
    `  incidents  curl -u ${username}:${password} '${emulator.url}/api/now/table/incident?sysparm_limit=5'`,
  );
  log('  heartbeat  devices silent for 3 intervals open heartbeat_lost incidents: these stop sending now');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log(`stopping (${signal})`);
}

/** Removes a finished run's ticket queue from Redis: bullmq's keys and the delivery's sentinel. */
async function dropQueue(redisUrl: string, queueName: string): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const queue = new Queue(queueName, { connection });
  try {
    await queue.obliterate({ force: true });
    // The sentinel the delivery keeps next to its queue (src/itsm/ticket-queue.ts).
    await connection.del(`iot-hub:tickets:${queueName}:sentinel`);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** The hub's log level: warnings and errors only, so the demo's own lines stay readable; LOG_LEVEL overrides. */
function demoLogLevel(): HubConfig['log']['level'] {
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
  const wanted = process.env.LOG_LEVEL;
  return levels.find((l) => l === wanted) ?? 'warn';
}

function sendProgress(p: SimulationProgress): string {
  return `sending… ${p.messagesSent} messages (${Math.round(p.messagesPerSecond)}/s), simulated time ${p.simulatedTime ?? '-'}`;
}

function formatMinutes(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}
