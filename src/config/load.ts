import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ConfigError, deepMerge, validateYaml } from './yaml-schema.ts';

export { ConfigError };

const require = createRequire(import.meta.url);
const configSchema = require('./iot-hub.schema.json') as object;

/** The hub's resolved configuration: every key present, defaults filled in. */
export interface HubConfig {
  /** Absolute path of the file the values came from, or null when none was found. */
  file: string | null;
  /**
   * Names this hub deployment: the default consumer group (`<instance>-ingest`) and ticket queue
   * (`<instance>-servicenow-tickets`) derive from it, so two deployments on one Kafka and Redis do not share
   * partitions or jobs. HUB_INSTANCE overrides it.
   */
  instance: string;
  database: { url: string; poolMax: number };
  kafka: { brokers: string[]; clientId: string; sessionTimeoutMs: number };
  redis: { url: string };
  servicenow: {
    url: string;
    auth: {
      mode: 'basic' | 'oauth';
      username: string;
      password: string;
      clientId: string;
      clientSecret: string;
    };
  };
  connect: { url: string };
  /** The ServiceNow CMDB poll (src/cdc/cmdb-poll.ts; docs/architecture.md, "ServiceNow CMDB as a source"). */
  cmdbPoll: {
    /** Ids of the `source.kind: cmdb_poll` mappings to run; the others stay off. */
    mappings: string[];
    intervalSeconds: number;
    /** Each poll starts this far before the watermark: clock skew, late commits, same-second updates. */
    overlapSeconds: number;
    pageSize: number;
  };
  /** The ServiceNow CMDB sink (src/cdc/cmdb-sink.ts; docs/servicenow-cmdb.md). */
  cmdbSink: {
    intervalSeconds: number;
    /** Items per IRE call. */
    batchSize: number;
    /** At most this many IRE calls start per second. */
    callsPerSecond: number;
    /** `sysparm_data_source` and `sys_object_source_info.source_name`: a cmdb_ci.discovery_source choice. */
    dataSource: string;
    className: string;
    /** u_last_seen is rounded down to this many seconds, so a reporting device is not an update per reading. */
    lastSeenResolutionSeconds: number;
    retryBaseSeconds: number;
    retryMaxSeconds: number;
    requestTimeoutMs: number;
  };
  /** Device state from telemetry (src/device-state; docs/architecture.md, "Device state and the outbox"). */
  deviceState: {
    /** Seconds between offline sweeps. */
    sweepIntervalSeconds: number;
    /** A device is offline after this many of its reporting intervals (dw.dim_device.expected_interval_s) of silence. */
    offlineAfterIntervals: number;
    /** Seconds of silence allowed at least, and for a device of unknown cadence. */
    offlineFloorSeconds: number;
  };
  /**
   * OpenLineage run events (docs/lineage.md): sent to `{url}/api/v1/lineage` when url is set (OPENLINEAGE_URL),
   * with `Authorization: Bearer <apiKey>` when set (OPENLINEAGE_API_KEY); jobs are named in `namespace`
   * (OPENLINEAGE_NAMESPACE); a continuous job's run spans `windowSeconds` of its batches.
   */
  openlineage: { url: string | null; apiKey: string | null; namespace: string; windowSeconds: number };
  http: { port: number };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
}

export const defaultConfig: Omit<HubConfig, 'file'> = {
  instance: 'iot-hub',
  database: { url: 'postgres://postgres@127.0.0.1:5432/iot_hub', poolMax: 10 },
  kafka: { brokers: ['127.0.0.1:19092'], clientId: 'iot-hub', sessionTimeoutMs: 10_000 },
  redis: { url: 'redis://127.0.0.1:6379' },
  servicenow: {
    url: 'http://127.0.0.1:18090',
    auth: {
      mode: 'basic',
      username: 'admin',
      password: 'admin',
      clientId: 'hub',
      clientSecret: 'hub-secret',
    },
  },
  connect: { url: 'http://127.0.0.1:18083' },
  cmdbPoll: { mappings: ['cmdb-device-ci'], intervalSeconds: 30, overlapSeconds: 60, pageSize: 500 },
  cmdbSink: {
    intervalSeconds: 30,
    batchSize: 50,
    callsPerSecond: 2,
    dataSource: 'IoTHub',
    className: 'cmdb_ci_iot',
    lastSeenResolutionSeconds: 900,
    retryBaseSeconds: 30,
    retryMaxSeconds: 3600,
    requestTimeoutMs: 30_000,
  },
  deviceState: { sweepIntervalSeconds: 15, offlineAfterIntervals: 3, offlineFloorSeconds: 60 },
  openlineage: { url: null, apiKey: null, namespace: 'iot-hub', windowSeconds: 60 },
  http: { port: 4000 },
  log: { level: 'info' },
};

export interface LoadConfigOptions {
  /** Config file path; defaults to $HUB_CONFIG, then ./iot-hub.yaml when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** Reads, substitutes, validates and resolves the configuration; environment overrides win over the file. */
export function loadConfig(options: LoadConfigOptions = {}): HubConfig {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.HUB_CONFIG;
  const file = explicit ? path.resolve(explicit) : path.resolve('iot-hub.yaml');
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (explicit) throw new ConfigError(`${file}: cannot read the config file (${(err as Error).message}).`);
  }
  const fromFile = text === null ? {} : parseConfigText(text, file, env);
  const merged = deepMerge(structuredClone(defaultConfig), fromFile) as Omit<HubConfig, 'file'>;
  applyEnvOverrides(merged, env);
  return { file: text === null ? null : file, ...merged };
}

/** Parses YAML text, substitutes `${NAME}` / `${NAME:-default}` and validates it against the schema. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  return validateYaml<Record<string, unknown>>(text, file, configSchema, { env }).value;
}

function applyEnvOverrides(c: Omit<HubConfig, 'file'>, env: NodeJS.ProcessEnv): void {
  if (env.DATABASE_URL) c.database.url = env.DATABASE_URL;
  if (env.KAFKA_BROKERS)
    c.kafka.brokers = env.KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  if (env.REDIS_URL) c.redis.url = env.REDIS_URL;
  if (env.OPENLINEAGE_URL) c.openlineage.url = env.OPENLINEAGE_URL;
  if (env.OPENLINEAGE_API_KEY) c.openlineage.apiKey = env.OPENLINEAGE_API_KEY;
  if (env.OPENLINEAGE_NAMESPACE) c.openlineage.namespace = env.OPENLINEAGE_NAMESPACE;
  if (env.SERVICENOW_URL) c.servicenow.url = env.SERVICENOW_URL;
  if (env.HUB_INSTANCE) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(env.HUB_INSTANCE))
      throw new ConfigError(
        `HUB_INSTANCE: '${env.HUB_INSTANCE}' must be 1-64 characters of letters, digits, '.', '_' and '-'`,
      );
    c.instance = env.HUB_INSTANCE;
  }
}
