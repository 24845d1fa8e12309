import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One enriched reading, ready for dw.fact_sensor_reading. */
export interface FactReading {
  deviceSk: number;
  assetSk: number;
  metricSk: number;
  /** Epoch milliseconds, UTC. */
  tsMs: number;
  value: number | null;
  quality: number;
  mappingId: string;
  mappingVersion: number;
  topic: string | null;
  partition: number | null;
  offset: string | null;
}

export interface LoadOutcome {
  staged: number;
  inserted: number;
  /** Rows whose (device, metric, timestamp) was already loaded: device re-sends, replays. */
  duplicates: number;
  /** Of the duplicates, rows whose stored reading was replaced (target.on_conflict: update). */
  updated: number;
}

/** How a reading whose (device, metric, time) is already loaded is treated: a mapping's target.on_conflict. */
export type ConflictPolicy = 'ignore' | 'update';

/** Months whose partition is committed (read from the catalog, never from what a transaction created). */
const knownMonths = new Set<string>();
/** Connections whose staging table was created outside any transaction, so no rollback can undo it. */
const preparedSessions = new WeakSet<pg.ClientBase>();

const STAGING_DDL = `CREATE TEMP TABLE IF NOT EXISTS stage_reading (
    device_sk bigint, asset_sk bigint, metric_sk smallint, date_key integer, time_key smallint,
    reading_ts timestamptz, value double precision,
    quality_code smallint, mapping_id text, mapping_version integer, source_topic text, source_partition integer,
    source_offset bigint)`;

/**
 * Creates the staging table on a new pooled connection, before it runs any transaction (call it from the
 * pool's onConnect, as createIngestPool does). Loads on connections that were not prepared create it inside
 * their transaction.
 */
export async function prepareLoaderSession(client: pg.ClientBase): Promise<void> {
  await client.query(STAGING_DDL);
  preparedSessions.add(client);
}

/**
 * Loads readings set-based: COPY into a per-session staging table, then one INSERT … ON CONFLICT DO NOTHING
 * into the fact table, in the caller's transaction. The hours touched are queued for the hourly rollup in the
 * same transaction, so a rollup can never miss a committed reading.
 */
export async function loadReadings(
  client: pg.PoolClient,
  batchId: number,
  readings: FactReading[],
  onConflict: ConflictPolicy = 'ignore',
): Promise<LoadOutcome> {
  if (readings.length === 0) return { staged: 0, inserted: 0, duplicates: 0, updated: 0 };
  // Not remembered per connection: a staging table created inside a transaction that rolls back is gone.
  if (!preparedSessions.has(client)) await client.query(STAGING_DDL);
  await ensurePartitions(client, readings);
  await pipeline(copyText(readings), client.query(copyFrom('COPY stage_reading FROM STDIN')));
  let inserted: number;
  let updated = 0;
  if (onConflict === 'ignore') {
    const result = await client.query(
      `INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value,
         quality_code, batch_id, mapping_id, mapping_version, source_topic, source_partition, source_offset)
       SELECT device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value, quality_code, $1, mapping_id,
              mapping_version, source_topic, source_partition, source_offset
       FROM stage_reading
       -- One order for every writer: concurrent batches that share keys then wait on each other, never deadlock.
       ORDER BY device_sk, metric_sk, reading_ts
       ON CONFLICT DO NOTHING`,
      [batchId],
    );
    inserted = result.rowCount ?? 0;
  } else {
    // The last reading of a key in the batch wins; xmax = 0 tells a new row from a replaced one.
    const result = await client.query<{ inserted: number; updated: number }>(
      `WITH written AS (
         INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value,
           quality_code, batch_id, mapping_id, mapping_version, source_topic, source_partition, source_offset)
         SELECT DISTINCT ON (device_sk, metric_sk, reading_ts) device_sk, asset_sk, metric_sk, date_key, time_key,
                reading_ts, value, quality_code, $1, mapping_id, mapping_version, source_topic, source_partition,
                source_offset
         FROM stage_reading ORDER BY device_sk, metric_sk, reading_ts, source_offset DESC NULLS LAST
         ON CONFLICT (device_sk, metric_sk, reading_ts) DO UPDATE SET
           asset_sk = EXCLUDED.asset_sk, value = EXCLUDED.value, quality_code = EXCLUDED.quality_code,
           batch_id = EXCLUDED.batch_id, mapping_id = EXCLUDED.mapping_id,
           mapping_version = EXCLUDED.mapping_version, source_topic = EXCLUDED.source_topic,
           source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset
         RETURNING xmax = 0 AS fresh)
       SELECT count(*) FILTER (WHERE fresh)::int AS inserted, count(*) FILTER (WHERE NOT fresh)::int AS updated
       FROM written`,
      [batchId],
    );
    inserted = result.rows[0]!.inserted;
    updated = result.rows[0]!.updated;
  }
  await client.query(
    `INSERT INTO hub.rollup_dirty (device_sk, metric_sk, hour_start)
     SELECT DISTINCT device_sk, metric_sk, date_trunc('hour', reading_ts) FROM stage_reading ORDER BY 1, 2, 3
     ON CONFLICT DO NOTHING`,
  );
  await client.query('TRUNCATE stage_reading');
  // Replaced readings count with the duplicates: they added no row. The ledger keeps them apart as `updated`.
  return { staged: readings.length, inserted, duplicates: readings.length - inserted, updated };
}

/** Creates monthly partitions ahead (this month and the next) and for any month the batch reaches. */
async function ensurePartitions(client: pg.PoolClient, readings: FactReading[]): Promise<void> {
  const now = new Date();
  const months = new Set([
    monthOf(now.getTime()),
    monthOf(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
  ]);
  // Most readings fall in the current month: test its bounds in milliseconds, format only the others.
  const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const to = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  for (const r of readings) if (r.tsMs < from || r.tsMs >= to) months.add(monthOf(r.tsMs));
  const unknown = [...months].filter((m) => !knownMonths.has(m));
  if (unknown.length === 0) return;
  // Learn from the catalog which months exist. A partition this transaction made itself is not trusted (it may
  // still roll back) and is left unknown; the months missing are created in this transaction.
  const { rows } = await client.query<{ month: string }>(
    `SELECT substr(c.relname, 21, 4) || '-' || substr(c.relname, 25, 2) AS month
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'dw.fact_sensor_reading'::regclass AND c.relname ~ '^fact_sensor_reading_[0-9]{6}$'
       AND c.xmin <> (txid_current() % 4294967296)::text::xid`,
  );
  const existing = new Set(rows.map((r) => r.month));
  for (const m of unknown) {
    if (existing.has(m)) knownMonths.add(m);
    else await client.query('SELECT dw.ensure_reading_partitions($1::date, $1::date)', [`${m}-01`]);
  }
}

function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/**
 * COPY text for the staging table, in 256 KiB chunks. The readings of one message share a timestamp, so its
 * text form and calendar keys are computed once per distinct time, not per reading.
 */
function* copyText(readings: FactReading[]): Generator<string> {
  let chunk = '';
  let lastMs = Number.NaN;
  let timeCols = '';
  for (const r of readings) {
    if (r.tsMs !== lastMs) {
      lastMs = r.tsMs;
      const iso = new Date(r.tsMs).toISOString();
      const dateKey = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10);
      const timeKey = Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16));
      timeCols = `${dateKey}\t${timeKey}\t${iso}`;
    }
    chunk += `${r.deviceSk}\t${r.assetSk}\t${r.metricSk}\t${timeCols}\t${r.value ?? '\\N'}\t${r.quality}\t${r.mappingId}\t${r.mappingVersion}\t${r.topic ?? '\\N'}\t${r.partition ?? '\\N'}\t${r.offset ?? '\\N'}\n`;
    if (chunk.length > 262_144) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
