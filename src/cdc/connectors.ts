import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type HubConfig, loadConfig } from '../config/index.ts';
import {
  type ConnectClient,
  type ConnectorDefinition,
  type ConnectorStatus,
  readConnectorDefinition,
  traceHead,
} from './connect-rest.ts';

/** The repository's connector definitions (connectors/debezium/*.json), whatever the working directory. */
export const defaultConnectorDir = fileURLToPath(new URL('../../connectors/debezium/', import.meta.url));

/** The `*.json` definition files of a directory, sorted, as absolute paths. */
export function connectorFiles(dir: string = defaultConnectorDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.resolve(dir, f));
}

/** What apply did (or, with dryRun, would do) to one connector. */
export type ApplyAction = 'created' | 'updated' | 'unchanged' | 'restarted';

export interface ApplyResult {
  name: string;
  /** The definition file, when the connector came from one. */
  file?: string;
  action: ApplyAction;
  /** Config keys added, changed or removed by an update (empty otherwise). */
  changedKeys: string[];
  /** The RUNNING status apply waited for; absent on a dry run or when the connector did not come up. */
  status?: ConnectorStatus;
  /** Why the connector did not reach RUNNING. */
  error?: string;
}

export interface ApplyOptions {
  /** Report what would change without touching Connect. */
  dryRun?: boolean;
  /** How long to wait for each connector and its tasks to be RUNNING. */
  timeoutMs?: number;
  /** How long RUNNING must hold before apply trusts it (see ConnectClient.waitRunning); 5 s by default. */
  settleMs?: number;
  log?: (line: string) => void;
  /**
   * Values for `{{name}}` placeholders in definitions (connectorPlaceholders); by default from the hub's config
   * (loadConfig: iot-hub.yaml, DATABASE_URL).
   */
  placeholders?: Record<string, string>;
}

/**
 * The placeholders a definition may use: `{{database.dbname}}`, the hub's own database (config database.url), so
 * a connector on the hub's tables (connectors/debezium/outbox.json) follows DATABASE_URL.
 */
export function connectorPlaceholders(config: Pick<HubConfig, 'database'>): Record<string, string> {
  return { 'database.dbname': decodeURIComponent(new URL(config.database.url).pathname.slice(1)) };
}

/** The definition with its `{{name}}` placeholders filled; an unknown one is an error naming it and the file. */
export function fillPlaceholders(
  def: ConnectorDefinition,
  values: Record<string, string>,
  file?: string,
): ConnectorDefinition {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(def.config)) {
    config[key] = String(value).replace(/\{\{([^}]+)\}\}/g, (_, name: string) => {
      const filled = values[name.trim()];
      if (filled === undefined)
        throw new Error(
          `${file ?? def.name}: ${key}: unknown placeholder {{${name}}}; known: ${Object.keys(values).join(', ')}`,
        );
      return filled;
    });
  }
  return { ...def, config };
}

/** Thrown by applyConnectors when some connector did not reach RUNNING; `results` covers all of them. */
export class ConnectorApplyError extends Error {
  readonly results: ApplyResult[];
  constructor(results: ApplyResult[]) {
    super(
      results
        .filter((r) => r.error)
        .map((r) => r.error)
        .join('\n'),
    );
    this.name = 'ConnectorApplyError';
    this.results = results;
  }
}

/**
 * Creates or updates each connector so its config equals its definition, writing only when it differs, then
 * waits until the connector and its tasks run. A connector whose config is unchanged but which FAILED is
 * restarted, so running apply again after fixing the cause (say, a missing table) is the remedy. Connectors
 * on the worker but not among `sources` are left alone.
 */
export async function applyConnectors(
  connect: ConnectClient,
  sources: readonly (string | ConnectorDefinition)[],
  options: ApplyOptions = {},
): Promise<ApplyResult[]> {
  let placeholders = options.placeholders;
  const fill = (def: ConnectorDefinition, file?: string) => {
    if (!JSON.stringify(def.config).includes('{{')) return def;
    placeholders ??= connectorPlaceholders(loadConfig());
    return fillPlaceholders(def, placeholders, file);
  };
  const defs = sources.map((s) =>
    typeof s === 'string' ? { file: s, def: fill(readConnectorDefinition(s), s) } : { def: fill(s) },
  );
  const seen = new Set<string>();
  for (const { def, file } of defs) {
    if (seen.has(def.name))
      throw new Error(`connector ${def.name} is defined twice${file ? ` (again in ${file})` : ''}`);
    seen.add(def.name);
  }

  const results: ApplyResult[] = [];
  for (const { def, file } of defs) {
    const desired = stringConfig(def);
    const current = await connect.connectorConfig(def.name);
    const changedKeys = current ? diffKeys(current, desired) : [];
    let action: ApplyAction = !current ? 'created' : changedKeys.length ? 'updated' : 'unchanged';
    if (action === 'unchanged' && hasFailed(await connect.status(def.name))) action = 'restarted';
    const result: ApplyResult = { name: def.name, ...(file ? { file } : {}), action, changedKeys };
    results.push(result);
    if (options.dryRun) continue;

    if (action === 'created' || action === 'updated')
      await connect.putConnector({ name: def.name, config: desired });
    else if (action === 'restarted') await connect.restartConnector(def.name, true);
    options.log?.(`${def.name}: ${action}; waiting for it to run`);
    try {
      // An unchanged connector was not restarted, so its RUNNING is not stale and needs no settling.
      const settleMs = action === 'unchanged' ? 0 : (options.settleMs ?? 5000);
      result.status = await connect.waitRunning(def.name, options.timeoutMs, settleMs);
    } catch (err) {
      result.error = (err as Error).message;
    }
  }
  if (results.some((r) => r.error)) throw new ConnectorApplyError(results);
  return results;
}

/** Connect stores every value as a string, so compare and send them as strings. */
function stringConfig(def: ConnectorDefinition): Record<string, string> {
  return Object.fromEntries(
    Object.entries({ ...def.config, name: def.name }).map(([k, v]) => [k, String(v)]),
  );
}

function diffKeys(current: Record<string, string>, desired: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(current), ...Object.keys(desired)]);
  return [...keys].filter((k) => current[k] !== desired[k]).sort();
}

function hasFailed(s: ConnectorStatus | null): boolean {
  return !!s && [s.connector, ...s.tasks].some((t) => t.state === 'FAILED');
}

/** A Debezium PostgreSQL source's replication slot, as the database server sees it. */
export interface SlotStatus {
  name: string;
  /** The database the connector reads (database.dbname). */
  database: string;
  /** False until the connector has created the slot. */
  exists: boolean;
  /** Whether a walsender (the connector's task) is streaming from the slot now. */
  active: boolean | null;
  /** WAL bytes written since the slot's confirmed flush position: what the connector still has to read. */
  lagBytes: number | null;
  /** Why the slot could not be read. */
  error?: string;
}

export interface ConnectorReport {
  name: string;
  type?: string;
  connectorClass?: string;
  state: string;
  workerId: string;
  /** First line of the connector's trace when it FAILED. */
  trace?: string;
  tasks: { id: number; state: string; workerId: string; trace?: string }[];
  /** Present for Debezium PostgreSQL sources. */
  slot?: SlotStatus;
}

const postgresConnector = 'io.debezium.connector.postgresql.PostgresConnector';
// Debezium's default slot.name when a definition does not set one.
const defaultSlotName = 'debezium';

/**
 * Every connector on the worker with its state, its tasks' states and workers and, for Debezium PostgreSQL
 * sources, its replication slot's lag. Slots are read from pg_replication_slots (cluster-wide) on the server
 * `pgUrl` points at, which is assumed to be the one the connectors read.
 */
export async function connectorStatus(connect: ConnectClient, pgUrl: string): Promise<ConnectorReport[]> {
  const reports: ConnectorReport[] = (await connect.overview()).map((c) => ({
    name: c.name,
    type: c.type,
    connectorClass: c.config['connector.class'],
    state: c.status.connector.state,
    workerId: c.status.connector.worker_id,
    ...(c.status.connector.trace ? { trace: traceHead(c.status.connector.trace) } : {}),
    tasks: c.status.tasks.map((t) => ({
      id: t.id,
      state: t.state,
      workerId: t.worker_id,
      ...(t.trace ? { trace: traceHead(t.trace) } : {}),
    })),
    ...(c.config['connector.class'] === postgresConnector
      ? {
          slot: {
            name: c.config['slot.name'] ?? defaultSlotName,
            database: c.config['database.dbname'] ?? '',
            exists: false,
            active: null,
            lagBytes: null,
          },
        }
      : {}),
  }));
  const slots = reports.flatMap((r) => (r.slot ? [r.slot] : []));
  if (slots.length > 0) await readSlots(pgUrl, slots);
  return reports;
}

/**
 * Replication slots PostgreSQL invalidated (wal_status 'lost': the connector was stopped while more WAL than
 * max_slot_wal_keep_size was written) cannot be streamed from again, and Debezium would retry for hours. For each
 * such slot of the given Debezium PostgreSQL sources: the connector is removed from Connect and the slot dropped,
 * so applying the definition again creates both anew and Debezium (snapshot.mode when_needed) snapshots the
 * tables it can no longer stream. Returns the connectors recovered.
 */
export async function recoverLostSlots(
  connect: ConnectClient,
  pgUrl: string,
  defs: readonly ConnectorDefinition[],
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const sources = defs.filter((d) => d.config['connector.class'] === postgresConnector);
  if (sources.length === 0) return [];
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const recovered: string[] = [];
    for (const def of sources) {
      const slot = String(def.config['slot.name'] ?? defaultSlotName);
      const { rowCount } = await client.query(
        "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND wal_status = 'lost'",
        [slot],
      );
      if (!rowCount) continue;
      log(
        `connector ${def.name}: its replication slot ${slot} was invalidated (more WAL than max_slot_wal_keep_size while it was stopped); recreating both, the connector snapshots its tables again`,
      );
      await connect.deleteConnector(def.name).catch(() => {});
      // The task lets go of the slot when it stops; drop it once nothing streams from it.
      for (let attempt = 0; ; attempt++) {
        const { rows } = await client.query<{ active: boolean }>(
          'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
        if (rows.length === 0) break;
        if (!rows[0]!.active) {
          // The stopping task may take the slot once more between the check and the drop (55006: in use).
          const dropped = await client.query('SELECT pg_drop_replication_slot($1)', [slot]).then(
            () => true,
            (err: { code?: string }) => {
              if (err.code !== '55006') throw err;
              return false;
            },
          );
          if (dropped) break;
        }
        if (attempt >= 60)
          throw new Error(`replication slot ${slot} stays active; stop the process using it`);
        await new Promise((r) => setTimeout(r, 500));
      }
      recovered.push(def.name);
    }
    return recovered;
  } finally {
    await client.end().catch(() => {});
  }
}

async function readSlots(pgUrl: string, slots: SlotStatus[]): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{
      slot_name: string;
      database: string | null;
      active: boolean;
      lag: string | null;
    }>(
      `SELECT slot_name, database, active,
              pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag
         FROM pg_replication_slots WHERE slot_name = ANY($1)`,
      [slots.map((s) => s.name)],
    );
    for (const slot of slots) {
      const row = rows.find((r) => r.slot_name === slot.name);
      if (!row) continue;
      slot.exists = true;
      slot.active = row.active;
      slot.lagBytes = row.lag === null ? null : Number(row.lag);
      if (row.database !== slot.database)
        slot.error = `slot ${slot.name} belongs to database ${row.database}, not ${slot.database}`;
    }
  } catch (err) {
    const u = new URL(pgUrl);
    const error = `cannot read replication slots on PostgreSQL ${u.hostname}:${u.port || 5432}: ${(err as Error).message}`;
    for (const slot of slots) slot.error = error;
  } finally {
    await client.end().catch(() => {});
  }
}
