import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ApplyResult,
  applyConnectors,
  ConnectClient,
  ConnectorApplyError,
  connectorFiles,
  readConnectorDefinition,
  recoverLostSlots,
} from '../../cdc/index.ts';
import type { HubConfig } from '../../config/index.ts';
import { withDatabase } from '../../db/index.ts';
import { migrateCmms, migrateMdm } from '../simulator/index.ts';
import { assembleStack, isAssembled } from './assemble.ts';
import { writeStackConfigs } from './configs.ts';
import { StackError } from './errors.ts';
import { connectStatus, kafkaStatus, redisStatus } from './health.ts';
import { type StackPaths, stackPaths } from './paths.ts';
import { postgresStatus, preparePostgres, sourceDatabases } from './postgres.ts';
import {
  type ManagedProcess,
  portInUse,
  runningProcess,
  startDetached,
  stopProcess,
  waitFor,
} from './processes.ts';
import { findJava, runCommand } from './tools.ts';
import { stackPorts, stackVersions } from './versions.ts';

const connectorClasses = [
  'io.debezium.connector.postgresql.PostgresConnector',
  'io.debezium.connector.jdbc.JdbcSinkConnector',
];
const brokerAddress = `127.0.0.1:${stackPorts.broker}`;
const connectUrl = `http://127.0.0.1:${stackPorts.connect}`;

export interface ComponentStatus {
  up: boolean;
  version?: string;
  address: string;
  /** The pid when this stack started the process; absent for services it only uses. */
  pid?: number;
  /** Connect only: the Debezium plugin version it runs. */
  debezium?: string;
  error?: string;
}

export interface StackStatus {
  components: {
    kafka: ComponentStatus;
    connect: ComponentStatus;
    postgres: ComponentStatus;
    redis: ComponentStatus;
  };
}

export interface StackUpResult {
  /** True when everything was already running and nothing was started. */
  alreadyUp: boolean;
  started: ManagedProcess['name'][];
  assembleSeconds: number;
  seconds: number;
  status: StackStatus;
}

type Log = (line: string) => void;

/**
 * Brings the local stack up: assembles the jars once, prepares PostgreSQL for CDC, starts the broker and Connect
 * when they are not already running, and checks Redis. Safe to call again: a running stack is left as it is.
 */
export async function stackUp(
  config: HubConfig,
  log: Log,
  paths: StackPaths = stackPaths(),
): Promise<StackUpResult> {
  const started = Date.now();
  const assembly = await assembleStack(paths, log);
  if (assembly.assembled) log(`assembled in ${assembly.seconds.toFixed(1)} s`);
  const pgSetup = await preparePostgres(config.database.url, log);
  if (pgSetup.createdDatabases.length > 0)
    log(`created source databases: ${pgSetup.createdDatabases.join(', ')}`);
  const redis = await redisStatus(config.redis.url);
  if (!redis.up) {
    throw new StackError(
      `Redis is not reachable at ${config.redis.url} (${redis.error}). Start it (redis-server --daemonize yes) or set REDIS_URL.`,
    );
  }

  const startedNames: ManagedProcess['name'][] = [];
  const files = writeStackConfigs(paths);
  const java = findJava();
  const cp = `${paths.lib}/*`;
  const logOpt = `-Dlog4j2.configurationFile=${files.log4j}`;
  const jvmCommon = [
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${paths.logs}`,
    logOpt,
  ];

  if (!runningProcess(paths, 'kafka')) {
    await requireFreePort(stackPorts.broker, 'the Kafka broker');
    await requireFreePort(stackPorts.controller, 'the KRaft controller');
    await formatStorage(paths, java.bin, cp, logOpt, files.server);
    log(`starting Kafka ${stackVersions.kafka} on ${brokerAddress}`);
    startDetached(paths, 'kafka', java.bin, [
      '-Xms256m',
      '-Xmx1g',
      ...jvmCommon,
      '-cp',
      cp,
      'kafka.Kafka',
      files.server,
    ]);
    startedNames.push('kafka');
  }
  await waitFor(
    async () => ((await kafkaStatus([brokerAddress])).up ? true : null),
    90_000,
    () =>
      `Kafka did not become ready on ${brokerAddress} within 90 s; see ${path.join(paths.logs, 'kafka.log')}`,
  );

  if (!runningProcess(paths, 'connect')) {
    await requireFreePort(stackPorts.connect, 'Kafka Connect');
    log(`starting Kafka Connect with Debezium ${stackVersions.debezium} on ${connectUrl}`);
    startDetached(paths, 'connect', java.bin, [
      '-Xms256m',
      '-Xmx1g',
      ...jvmCommon,
      '-cp',
      cp,
      'org.apache.kafka.connect.cli.ConnectStandalone',
      files.connect,
    ]);
    startedNames.push('connect');
  }
  await waitFor(
    async () => {
      const s = await connectStatus(connectUrl);
      return s.up && connectorClasses.every((c) => s.plugins?.includes(c)) ? true : null;
    },
    150_000,
    () =>
      `Kafka Connect did not list the Debezium connectors within 150 s; see ${path.join(paths.logs, 'connect.log')}`,
  );

  const sources = await applySourceConnectors(config, log);
  const status = await stackStatus(config, paths);
  return {
    alreadyUp:
      startedNames.length === 0 &&
      !assembly.assembled &&
      !pgSetup.restarted &&
      sources.every((r) => r.action === 'unchanged'),
    started: startedNames,
    assembleSeconds: assembly.seconds,
    seconds: (Date.now() - started) / 1000,
    status,
  };
}

/**
 * The sample source systems' schemas (mdm, cmms) and their Debezium connectors (the files in
 * connectors/debezium/ that read one of them), applied as `iot-hub connectors apply` does: idempotent, and a
 * connector Connect forgot (a standalone worker keeps configs in memory) comes back and resumes from its
 * stored offset. Connectors on other databases (the hub's outbox) are applied with the hub's own database.
 */
async function applySourceConnectors(config: HubConfig, log: Log): Promise<ApplyResult[]> {
  const migrated = [...(await migrateMdm(config.database.url)), ...(await migrateCmms(config.database.url))];
  if (migrated.length > 0) log(`sample source schemas: applied ${migrated.join(', ')}`);
  const files = connectorFiles().filter((file) =>
    (sourceDatabases as readonly string[]).includes(
      readConnectorDefinition(file).config['database.dbname'] ?? '',
    ),
  );
  const connect = new ConnectClient(connectUrl);
  await recoverLostSlots(
    connect,
    // pg_replication_slots is cluster-wide: the server's maintenance database always exists.
    withDatabase(config.database.url, 'postgres'),
    files.map((f) => readConnectorDefinition(f)),
    log,
  );
  let results: ApplyResult[];
  try {
    results = await applyConnectors(connect, files, { settleMs: 2000, timeoutMs: 30_000 });
  } catch (err) {
    // The stack is up; a connector that is slow to start its task (e.g. its replication slot still held by a
    // killed worker's connection until PostgreSQL notices) is reported, not fatal.
    if (!(err instanceof ConnectorApplyError)) throw err;
    results = err.results;
  }
  for (const r of results) {
    if (r.error) log(`connector ${r.name}: ${r.error}; check it with npx iot-hub connectors status`);
    else if (r.action !== 'unchanged')
      log(`connector ${r.name}: ${r.action}${r.status ? ` (${r.status.connector.state})` : ''}`);
  }
  return results;
}

/** Stops the processes this stack started (by recorded pid), Connect first. PostgreSQL and Redis are left running. */
export async function stackDown(
  log: Log,
  paths: StackPaths = stackPaths(),
): Promise<ManagedProcess['name'][]> {
  const stopped: ManagedProcess['name'][] = [];
  for (const name of ['connect', 'kafka'] as const) {
    const proc = runningProcess(paths, name);
    if (!proc) continue;
    log(`stopping ${name} (pid ${proc.pid})`);
    const how = await stopProcess(paths, proc);
    if (how === 'killed') log(`  ${name} did not stop within 30 s and was killed`);
    stopped.push(name);
  }
  return stopped;
}

export async function stackStatus(config: HubConfig, paths: StackPaths = stackPaths()): Promise<StackStatus> {
  const [kafka, connect, postgres, redis] = await Promise.all([
    kafkaStatus([brokerAddress]),
    connectStatus(connectUrl),
    postgresStatus(config.database.url),
    redisStatus(config.redis.url),
  ]);
  const kafkaProc = runningProcess(paths, 'kafka');
  const connectProc = runningProcess(paths, 'connect');
  const pgUrl = new URL(config.database.url);
  return {
    components: {
      kafka: {
        up: kafka.up,
        version: kafkaProc && isAssembled(paths) ? stackVersions.kafka : undefined,
        address: brokerAddress,
        pid: kafkaProc?.pid,
        error: kafka.error,
      },
      connect: {
        up: connect.up,
        version: connect.version,
        address: connectUrl,
        pid: connectProc?.pid,
        error: connect.error,
        ...(connect.up ? { debezium: stackVersions.debezium } : {}),
      },
      postgres: {
        up: postgres.up,
        version: postgres.version,
        address: `${pgUrl.hostname}:${pgUrl.port || 5432}`,
        error: postgres.error,
      },
      redis: {
        up: redis.up,
        version: redis.version,
        address: new URL(config.redis.url).host,
        error: redis.error,
      },
    },
  };
}

async function requireFreePort(port: number, what: string): Promise<void> {
  if (await portInUse(port)) {
    throw new StackError(
      `port ${port}, needed by ${what}, is taken by a process this stack did not start. Stop it (e.g. \`ss -ltnp 'sport = :${port}'\` shows which), then run stack up again.`,
    );
  }
}

/** Formats the KRaft log dir on first start; the data dir is kept across down/up. */
async function formatStorage(
  paths: StackPaths,
  java: string,
  cp: string,
  logOpt: string,
  serverProps: string,
): Promise<void> {
  if (existsSync(path.join(paths.data, 'kraft-logs', 'meta.properties'))) return;
  // A base64url 16-byte UUID is Kafka's cluster id format; generating it here saves a JVM start.
  const clusterId = randomBytes(16).toString('base64url');
  await runCommand(java, [
    logOpt,
    '-cp',
    cp,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    serverProps,
  ]);
}

export function readStackManifest(paths: StackPaths = stackPaths()): Record<string, string> | null {
  return existsSync(paths.manifest)
    ? (JSON.parse(readFileSync(paths.manifest, 'utf8')) as Record<string, string>)
    : null;
}
