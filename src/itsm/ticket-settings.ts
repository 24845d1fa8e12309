import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadYamlFile } from '../config/index.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
/** connectors/servicenow-tickets.schema.json; the YAML file names it for editors too. */
const schema = require('../../connectors/servicenow-tickets.schema.json') as object;

/** How alerts become ServiceNow tickets (connectors/servicenow-tickets.yaml, `tickets:`). */
export interface TicketSettings {
  /** `incident`: Table API incidents; `event`: Event Management events (the instance's rules make incidents). */
  mode: 'incident' | 'event';
  /**
   * The bullmq queue; one job per alert key at a time. Empty: `<instance>-servicenow-tickets` (iot-hub.yaml
   * `instance`), so hubs of different deployments sharing a Redis never take each other's jobs.
   */
  queueName: string;
  /** Alert keys worked on at once. @defaultValue 16 */
  concurrency: number;
  /** bullmq attempts per job before the reconciler's next pass takes over. @defaultValue 10 */
  attempts: number;
  /** Exponential backoff between attempts: first delay and cap, with ±25 % jitter. */
  backoffMs: number;
  backoffMaxMs: number;
  /** Per ServiceNow request. @defaultValue 30000 */
  requestTimeoutMs: number;
  /** How often the reconciler re-enqueues every intent not acknowledged yet. @defaultValue 30000 */
  reconcileIntervalMs: number;
  /** Resolution code sent with state 6 (the instance's data policy requires one). */
  closeCode: string;
  /** Pace requests from X-RateLimit-* headers instead of waiting for 429s. @defaultValue true */
  pacing: boolean;
  /** First backoff after a 429 without Retry-After or X-RateLimit-Reset. @defaultValue 250 */
  busyBackoffMs: number;
  /** Outbound mapping alert → incident fields (absolute, or relative to the repository). */
  mappingFile: string;
  /** Event Management `source` and `event_class` in event mode. */
  eventSource: string;
  eventClass: string;
}

export const defaultTicketSettings: TicketSettings = {
  mode: 'incident',
  queueName: '',
  concurrency: 16,
  attempts: 10,
  backoffMs: 1000,
  backoffMaxMs: 60_000,
  requestTimeoutMs: 30_000,
  reconcileIntervalMs: 30_000,
  closeCode: 'Solution provided',
  pacing: true,
  busyBackoffMs: 250,
  mappingFile: 'mappings/alert-incident-v1.yaml',
  eventSource: 'IoTHub',
  eventClass: 'IoTHub',
};

/** The default settings file, connectors/servicenow-tickets.yaml in the repository. */
export const defaultTicketSettingsFile = `${repoRoot}connectors/servicenow-tickets.yaml`;

const keyMap: Readonly<Record<string, keyof TicketSettings>> = {
  mode: 'mode',
  queue_name: 'queueName',
  concurrency: 'concurrency',
  attempts: 'attempts',
  backoff_ms: 'backoffMs',
  backoff_max_ms: 'backoffMaxMs',
  request_timeout_ms: 'requestTimeoutMs',
  reconcile_interval_ms: 'reconcileIntervalMs',
  close_code: 'closeCode',
  pacing: 'pacing',
  busy_backoff_ms: 'busyBackoffMs',
  mapping_file: 'mappingFile',
  event_source: 'eventSource',
  event_class: 'eventClass',
};

/**
 * Reads the `tickets:` section of a settings file over the defaults; a missing default file gives the
 * defaults. Throws a ConfigError naming the file, line, column and key for unknown keys or bad values.
 */
export function loadTicketSettings(file = defaultTicketSettingsFile): TicketSettings {
  if (file === defaultTicketSettingsFile && !existsSync(file)) return { ...defaultTicketSettings };
  const doc = loadYamlFile<{ tickets?: Record<string, unknown> | null }>(file, schema);
  const settings: Record<string, unknown> = { ...defaultTicketSettings };
  // The schema allows exactly the keys of keyMap.
  for (const [key, value] of Object.entries(doc.value.tickets ?? {})) settings[keyMap[key]!] = value;
  return validateTicketSettings(settings as unknown as TicketSettings, file);
}

/** Checks values (also of settings built in code); throws a sentence naming the key. */
export function validateTicketSettings(s: TicketSettings, where = 'ticket settings'): TicketSettings {
  if (s.mode !== 'incident' && s.mode !== 'event')
    throw new Error(`${where}: tickets.mode must be incident or event`);
  for (const key of [
    'concurrency',
    'attempts',
    'backoffMs',
    'backoffMaxMs',
    'requestTimeoutMs',
    'reconcileIntervalMs',
    'busyBackoffMs',
  ] as const) {
    if (!(Number.isFinite(s[key]) && s[key] > 0))
      throw new Error(`${where}: ${key} must be a number greater than 0`);
  }
  if (s.queueName.includes(':')) throw new Error(`${where}: queue_name cannot contain ':' (bullmq)`);
  if (!s.closeCode) throw new Error(`${where}: close_code is required (resolving needs a resolution code)`);
  return s;
}

/** The queue the settings name, or the instance's own. */
export function ticketQueueName(s: TicketSettings, instance: string): string {
  return s.queueName || `${instance}-servicenow-tickets`;
}

/** Absolute path of the mapping file named in the settings. */
export function mappingPath(s: TicketSettings): string {
  return s.mappingFile.startsWith('/') ? s.mappingFile : `${repoRoot}${s.mappingFile}`;
}
