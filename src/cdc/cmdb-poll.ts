import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { HubConfig } from '../config/index.ts';
import { createPool, inTransaction } from '../db/index.ts';
import { ServiceNowError } from '../itsm/index.ts';
import { type CompiledMapping, loadMappings } from '../mapping/index.ts';
import { type Condition, counter, createCondition, gauge, type Logger } from '../observability/index.ts';
import { dimensionTarget } from '../warehouse/index.ts';
import {
  applySourceChanges,
  type CdcBatchOutcome,
  type CdcDimension,
  type SourceChange,
} from './cdc-service.ts';
import { CmdbTableReader, type TableRecord } from './cmdb-poll-reader.ts';

// The ServiceNow CMDB as a source: an incremental poll of each enabled `source.kind: cmdb_poll` mapping's table
// by sys_updated_on (docs/architecture.md, "ServiceNow CMDB as a source").

const pollChanges = counter('iot_hub_cmdb_poll_changes_total', 'CMDB poll: records applied, by outcome', [
  'table',
  'outcome',
]);
const pollPages = counter('iot_hub_cmdb_poll_pages_total', 'CMDB poll: Table API pages applied', ['table']);
const pollErrors = counter('iot_hub_cmdb_poll_errors_total', 'CMDB poll: failed polls, by kind', [
  'table',
  'kind',
]);
const pollLag = gauge(
  'iot_hub_cmdb_poll_lag_seconds',
  'CMDB poll: now minus the watermark (the newest sys_updated_on applied)',
  ['table'],
);

/** A polled table: its mapping, the dimension it feeds and the fields the poll asks for (the contract's). */
export interface CmdbPollSource {
  table: string;
  dimension: CdcDimension;
  fields: string[];
}

/**
 * The `source.kind: cmdb_poll` mappings named in `enabled` (config `cmdbPoll.mappings`), checked. The others
 * stay off: cmdb-asset would put a second asset hierarchy beside MDM's. Throws, naming the problem, for a
 * mapping error, an id that is not a cmdb_poll mapping, two enabled mappings on one table, or a mapping without
 * a contract file (its properties are the fields the poll asks for).
 */
export function loadCmdbPollSources(enabled: readonly string[], folder = 'mappings'): CmdbPollSource[] {
  const loaded = loadMappings([folder]);
  if (loaded.errors.length > 0)
    throw new Error(
      `mapping files have errors; fix them (iot-hub mappings validate):\n${loaded.errors.map((e) => e.message).join('\n')}`,
    );
  const polled = loaded.mappings.filter(
    (m) => m.kind === 'DimensionMapping' && m.source.kind === 'cmdb_poll',
  );
  const sources: CmdbPollSource[] = [];
  for (const id of enabled) {
    const mapping = polled.find((m) => m.id === id);
    if (!mapping)
      throw new Error(
        `cmdbPoll.mappings names '${id}', which is not a DimensionMapping with source.kind cmdb_poll in ${folder}; known: ${polled.map((m) => m.id).join(', ') || 'none'}`,
      );
    const table = mapping.source.table;
    if (!table || !/^[a-z][a-z0-9_]*$/.test(table))
      throw new Error(
        `${mapping.file} (mapping ${id}): source.table must name the ServiceNow table, e.g. cmdb_ci_iot`,
      );
    const other = sources.find((s) => s.table === table);
    if (other)
      throw new Error(
        `cmdbPoll.mappings: '${other.dimension.mapping.id}' and '${id}' both poll ${table}; the watermark is per table, enable one`,
      );
    sources.push({
      table,
      dimension: { topic: `servicenow.${table}`, mapping, target: dimensionTarget(mapping) },
      fields: contractFields(mapping),
    });
  }
  return sources;
}

/** The property names of the mapping's contract file: the `sysparm_fields` of the poll (dot-walks included). */
function contractFields(mapping: CompiledMapping): string[] {
  const schema = mapping.source.schema;
  if (typeof schema !== 'string')
    throw new Error(
      `${mapping.file} (mapping ${mapping.id}): a cmdb_poll mapping needs source.schema as a contract file; its properties are the fields the poll asks for`,
    );
  const file = path.resolve(path.dirname(mapping.file), schema);
  const contract = JSON.parse(readFileSync(file, 'utf8')) as { properties?: Record<string, unknown> };
  const fields = Object.keys(contract.properties ?? {});
  for (const needed of ['sys_id', 'sys_updated_on', 'sys_mod_count'])
    if (!fields.includes(needed))
      throw new Error(
        `${file}: the contract of a cmdb_poll mapping must declare ${needed} (the poll's position)`,
      );
  return fields;
}

export interface CmdbPollOptions {
  /** Each poll starts this far before the watermark. */
  overlapMs: number;
  pageSize: number;
}

export interface CmdbPollOutcome {
  table: string;
  pages: number;
  records: number;
  /** Records already dead-lettered at the same position (fetched again in the overlap window): skipped. */
  knownLetters: number;
  /** The merge's counts summed over the pages (inserted, versioned, duplicates, deadLetters, …). */
  outcome: Record<string, number>;
  /** The newest sys_updated_on applied, after the poll. */
  watermark: Date | null;
}

/**
 * One poll of one table: from the watermark minus the overlap, ordered by (sys_updated_on, sys_id), page by page.
 * Each page is applied (map → SCD2 merge, dead letters) in one transaction with the watermark, so rows and
 * watermark commit together. A record fetched again is a duplicate for the merge: its position is
 * (sys_updated_on, sys_mod_count), so a second update within the same second is still applied.
 *
 * Pages are keyed by time: the next page starts at the last record's sys_updated_on, skipping the records of
 * that second already read. A record updated while the poll pages moves past the cursor and is read again, so
 * none shifts out of sight as with plain offsets; what a race can still skip has a sys_updated_on at or after
 * the cursor, hence after the next poll's start.
 */
export async function pollCmdbTable(
  pool: pg.Pool,
  reader: CmdbTableReader,
  source: CmdbPollSource,
  options: CmdbPollOptions,
): Promise<CmdbPollOutcome> {
  const { table } = source;
  const result: CmdbPollOutcome = {
    table,
    pages: 0,
    records: 0,
    knownLetters: 0,
    outcome: {},
    watermark: await readWatermark(pool, table),
  };
  const start = result.watermark ? new Date(result.watermark.getTime() - options.overlapMs) : null;
  let cursor = start ? glideDateTime(start) : null;
  let skip = 0;
  for (;;) {
    const records = await reader.page({
      table,
      query: `${cursor ? `sys_updated_on>=${cursor}^` : ''}ORDERBYsys_updated_on^ORDERBYsys_id`,
      fields: source.fields,
      limit: options.pageSize,
      offset: skip,
    });
    if (records.length === 0) break;
    const applied = await inTransaction(pool, (client) =>
      applyPage(client, source, records, start === null ? 'r' : null),
    );
    result.pages += 1;
    result.records += records.length;
    result.knownLetters += applied.knownLetters;
    for (const [key, n] of Object.entries(applied.outcome)) {
      if (key === 'warnings' || typeof n !== 'number') continue;
      result.outcome[key] = (result.outcome[key] ?? 0) + n;
      if (n > 0) pollChanges.inc({ table, outcome: key }, n);
    }
    pollPages.inc({ table });
    if (applied.watermark) result.watermark = applied.watermark;
    if (records.length < options.pageSize) break;
    const last = records.at(-1)!.sys_updated_on ?? '';
    const sameSecond = records.filter((r) => r.sys_updated_on === last).length;
    skip = last === cursor ? skip + records.length : sameSecond;
    cursor = last;
  }
  if (result.watermark) pollLag.set({ table }, (Date.now() - result.watermark.getTime()) / 1000);
  return result;
}

/** Applies one page and moves the watermark, in the caller's transaction. */
async function applyPage(
  client: pg.PoolClient,
  source: CmdbPollSource,
  records: readonly TableRecord[],
  op: 'r' | null,
): Promise<{ outcome: CdcBatchOutcome; watermark: Date | null; knownLetters: number }> {
  const { table, dimension } = source;
  // The state row's lock orders two hubs polling the same table; the merge's position guard does the rest.
  await client.query(
    `INSERT INTO hub.cmdb_poll_state (table_name, mapping_id) VALUES ($1, $2)
     ON CONFLICT (table_name) DO UPDATE SET mapping_id = EXCLUDED.mapping_id`,
    [table, dimension.mapping.id],
  );
  const { rows } = await client.query<{ watermark: Date | null }>(
    'SELECT watermark FROM hub.cmdb_poll_state WHERE table_name = $1 FOR UPDATE',
    [table],
  );
  let watermark = rows[0]?.watermark ?? null;
  const changes = records.map((record) => toSourceChange(dimension.topic, record, op));
  for (const change of changes) {
    const at = change.meta.source_ts_ms;
    if (at > 0 && (!watermark || at > watermark.getTime())) watermark = new Date(at);
  }
  const fresh = await withoutKnownLetters(client, dimension.topic, changes);
  const outcome = await applySourceChanges(client, dimension, fresh);
  await client.query(
    'UPDATE hub.cmdb_poll_state SET watermark = $2, updated_at = now() WHERE table_name = $1',
    [table, watermark],
  );
  return { outcome, watermark, knownLetters: changes.length - fresh.length };
}

/**
 * A record that failed its mapping is fetched again by every poll within the overlap window; it keeps its one
 * dead letter (same sys_id and position) instead of getting another each time.
 */
async function withoutKnownLetters(
  client: pg.ClientBase,
  topic: string,
  changes: SourceChange[],
): Promise<SourceChange[]> {
  const { rows } = await client.query<{ position: string }>(
    `SELECT encode(message_key, 'escape') || '@' || source_offset || '#' || (headers ->> 'sys_mod_count') AS position
     FROM hub.dead_letter WHERE source_topic = $1 AND message_key = ANY($2::bytea[])`,
    [topic, changes.map((c) => c.record.key)],
  );
  if (rows.length === 0) return changes;
  const known = new Set(rows.map((r) => r.position));
  return changes.filter((c) => !known.has(letterPosition(c)));
}

function letterPosition(change: SourceChange): string {
  return `${change.record.key?.toString('utf8')}@${change.record.offset}#${change.record.headers.sys_mod_count}`;
}

/**
 * A Table API record as a source change. Position: sys_updated_on (epoch ms) as the commit position and
 * sys_mod_count within it. A dead letter keeps the record under the topic `servicenow.<table>`, with the
 * sys_id as its key and sys_updated_on (epoch ms) as its offset.
 */
function toSourceChange(topic: string, record: TableRecord, op: 'r' | null): SourceChange {
  const updatedMs = parseGlideDateTime(record.sys_updated_on) ?? 0;
  const modCount = /^[0-9]+$/.test(record.sys_mod_count ?? '') ? Number(record.sys_mod_count) : 0;
  return {
    payload: record,
    meta: {
      topic,
      table: topic.slice('servicenow.'.length),
      op: op ?? (modCount === 0 ? 'c' : 'u'),
      commit_lsn: updatedMs,
      lsn: modCount,
      source_ts_ms: updatedMs,
    },
    record: {
      topic,
      partition: 0,
      offset: String(updatedMs),
      key: Buffer.from(record.sys_id ?? ''),
      value: Buffer.from(JSON.stringify(record)),
      headers: {
        sys_updated_on: record.sys_updated_on ?? '',
        sys_mod_count: record.sys_mod_count ?? '',
      },
      timestamp: updatedMs,
    },
  };
}

async function readWatermark(pool: pg.Pool, table: string): Promise<Date | null> {
  const { rows } = await pool.query<{ watermark: Date | null }>(
    'SELECT watermark FROM hub.cmdb_poll_state WHERE table_name = $1',
    [table],
  );
  return rows[0]?.watermark ?? null;
}

/** `2026-12-01 10:00:00`, UTC: the Table API's date-time form, which encoded queries compare against. */
function glideDateTime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

function parseGlideDateTime(text: string | undefined): number | null {
  if (!text || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return null;
  const ms = Date.parse(`${text.replace(' ', 'T')}Z`);
  return Number.isFinite(ms) ? ms : null;
}

export interface CmdbPollHealth {
  /** `failing`: the last poll failed (ServiceNow or the database); the watermark stays, the next tick retries. */
  state: 'starting' | 'running' | 'failing' | 'stopped';
  since: number;
  error?: string;
  /** For a ServiceNow failure: its kind (`auth`, `rejected` are configuration problems, not outages). */
  errorKind?: string;
}

export interface StartCmdbPollOptions {
  logger: Logger;
  /** Mappings folder; default mappings. */
  mappings?: string;
  /** Overrides config.cmdbPoll.intervalSeconds (tests). */
  intervalMs?: number;
  /** Called after a poll that applied records (e.g. the in-process reference cache's markChanged). */
  onApplied?: () => void;
}

export interface RunningCmdbPoll {
  sources: CmdbPollSource[];
  health(): CmdbPollHealth;
  /** Polls every table now (after a poll in flight), and resolves when done; errors are handled as on a tick. */
  pollNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the CMDB poll: every `cmdbPoll.intervalSeconds`, each enabled table is polled in turn. A failure (a
 * dead ServiceNow, an unreachable database) logs one warning for the whole outage and one info line when a poll
 * completes again; the watermark stays where the last committed page put it, so the next poll catches up.
 */
export async function startCmdbPoll(
  config: HubConfig,
  options: StartCmdbPollOptions,
): Promise<RunningCmdbPoll> {
  const logger = options.logger.child({ component: 'cmdb-poll' });
  const settings = config.cmdbPoll;
  const sources = loadCmdbPollSources(settings.mappings, options.mappings);
  const intervalMs = options.intervalMs ?? settings.intervalSeconds * 1000;
  const pollOptions = { overlapMs: settings.overlapSeconds * 1000, pageSize: settings.pageSize };
  const pool = createPool(config.database.url, { max: 2, logger, name: 'iot-hub-cmdb-poll' });
  const reader = new CmdbTableReader(config.servicenow);
  const outage: Condition = createCondition(logger, 'ServiceNow CMDB poll');
  let health: CmdbPollHealth = { state: 'starting', since: Date.now() };
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;

  const pollAll = async () => {
    let appliedAny = false;
    let failed = false;
    for (const source of sources) {
      try {
        const polled = await pollCmdbTable(pool, reader, source, pollOptions);
        await pool.query(
          `UPDATE hub.cmdb_poll_state SET last_polled_at = now(), last_error = NULL, last_error_at = NULL
           WHERE table_name = $1`,
          [source.table],
        );
        if (polled.records > 0) appliedAny = true;
        logger.debug({ ...polled }, 'CMDB table polled');
      } catch (err) {
        failed = true;
        const kind = err instanceof ServiceNowError ? err.kind : 'database';
        const message = (err as Error).message;
        pollErrors.inc({ table: source.table, kind });
        const watermark = await readWatermark(pool, source.table).catch(() => null);
        if (watermark) pollLag.set({ table: source.table }, (Date.now() - watermark.getTime()) / 1000);
        logger.debug({ table: source.table, kind, err: message }, 'CMDB poll failed');
        outage.begin(
          { table: source.table, kind, err: message, watermark },
          'the ServiceNow CMDB poll is failing; it keeps its watermark and catches up when the poll completes again (one line follows then)',
        );
        if (health.state !== 'failing' || health.error !== message)
          health = { state: 'failing', since: Date.now(), error: message, errorKind: kind };
        await pool
          .query(
            `INSERT INTO hub.cmdb_poll_state (table_name, mapping_id, last_error, last_error_at) VALUES ($1, $2, $3, now())
             ON CONFLICT (table_name) DO UPDATE SET last_error = EXCLUDED.last_error, last_error_at = now()`,
            [source.table, source.dimension.mapping.id, message],
          )
          .catch(() => {});
      }
    }
    if (!failed) {
      outage.end({}, 'the ServiceNow CMDB poll completes again; it caught up from its watermark');
      if (health.state !== 'running') health = { state: 'running', since: Date.now() };
    }
    if (appliedAny) options.onApplied?.();
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = stopped ? null : setTimeout(tick, intervalMs);
    timer?.unref();
  };
  const tick = () => {
    inFlight = inFlight.then(pollAll).finally(schedule);
    return inFlight;
  };
  void tick();
  logger.info(
    {
      tables: sources.map((s) => s.table),
      mappings: sources.map((s) => `${s.dimension.mapping.id}@${s.dimension.mapping.version}`),
      intervalMs,
      ...pollOptions,
    },
    'CMDB poll started',
  );
  return {
    sources,
    health: () => health,
    async pollNow() {
      await tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight.catch(() => {});
      health = { state: 'stopped', since: Date.now() };
      await pool.end();
    },
  };
}
