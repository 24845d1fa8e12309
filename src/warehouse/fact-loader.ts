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
}

const knownMonths = new Set<string>();

/**
 * Loads readings set-based: COPY into a per-session staging table, then one INSERT … ON CONFLICT DO NOTHING
 * into the fact table, in the caller's transaction. The hours touched are queued for the hourly rollup in the
 * same transaction, so a rollup can never miss a committed reading.
 */
export async function loadReadings(
  client: pg.PoolClient,
  batchId: number,
  readings: FactReading[],
): Promise<LoadOutcome> {
  if (readings.length === 0) return { staged: 0, inserted: 0, duplicates: 0 };
  await ensureStaging(client);
  await ensurePartitions(client, readings);
  await pipeline(copyText(readings), client.query(copyFrom('COPY stage_reading FROM STDIN')));
  const inserted = await client.query(
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
  await client.query(
    `INSERT INTO hub.rollup_dirty (device_sk, metric_sk, hour_start)
     SELECT DISTINCT device_sk, metric_sk, date_trunc('hour', reading_ts) FROM stage_reading ORDER BY 1, 2, 3
     ON CONFLICT DO NOTHING`,
  );
  await client.query('TRUNCATE stage_reading');
  const count = inserted.rowCount ?? 0;
  return { staged: readings.length, inserted: count, duplicates: readings.length - count };
}

const stagingReady = new WeakSet<pg.PoolClient>();

async function ensureStaging(client: pg.PoolClient): Promise<void> {
  if (stagingReady.has(client)) return;
  // A temporary table lives as long as the pooled connection; unlogged, no indexes: the cheapest COPY target.
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS stage_reading (
      device_sk bigint, asset_sk bigint, metric_sk smallint, date_key integer, time_key smallint,
      reading_ts timestamptz, value double precision,
      quality_code smallint, mapping_id text, mapping_version integer, source_topic text, source_partition integer,
      source_offset bigint)`);
  await client.query('TRUNCATE stage_reading');
  stagingReady.add(client);
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
  for (const m of months) {
    if (knownMonths.has(m)) continue;
    await client.query('SELECT dw.ensure_reading_partitions($1::date, $1::date)', [`${m}-01`]);
    knownMonths.add(m);
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
