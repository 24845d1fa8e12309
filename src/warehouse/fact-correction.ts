import type pg from 'pg';

export interface FactCorrectionOptions {
  /** Devices whose facts are checked: completed inferred members, new versions (a move to another asset). */
  deviceNks?: readonly string[];
  /** Assets inserted or versioned: the facts of every device ever installed on them are checked. */
  assetNks?: readonly string[];
  /** Facts read per statement; default 50,000. */
  batchSize?: number;
}

export interface FactCorrectionOutcome {
  /** Facts whose asset_sk changed. */
  updated: number;
  /** (device, metric, hour) queued in hub.rollup_dirty for those facts. */
  hours: number;
}

const UNKNOWN_SK = -1;

/**
 * Re-keys facts to the asset valid at their reading time, once late dimension rows arrived: readings loaded
 * under an inferred device (asset unknown, -1), before their asset existed in dw.dim_asset, or after a move
 * that MDM reported later. A fact's asset is the asset version, valid at reading_ts, named by the
 * `installed_asset_nk` of its device's version valid at reading_ts (-1 when there is none): the definition
 * enrichment applies at load time (docs/architecture.md, "Reference snapshot"). The device version is found
 * by natural key and reading time, not by the fact's device_sk: a fact loaded before MDM reported a move
 * still carries the version that was current then. Facts outside every version of their device are left alone.
 *
 * Runs in the caller's transaction (the CDC batch's), so the dimension change, the corrected facts, the
 * queued rollup hours and the lineage row commit together with the offsets or not at all. Each statement reads
 * at most `batchSize` facts of one device_sk, walking its primary key, so a large backlog costs many bounded
 * statements rather than one huge one; the transaction still holds every corrected row until commit.
 */
export async function correctFactAssets(
  client: pg.ClientBase,
  options: FactCorrectionOptions,
): Promise<FactCorrectionOutcome> {
  const batchSize = options.batchSize ?? 50_000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`correctFactAssets: batchSize must be a positive integer, got ${batchSize}`);
  const deviceNks = [...new Set(options.deviceNks ?? [])];
  const assetNks = [...new Set(options.assetNks ?? [])];
  if (deviceNks.length === 0 && assetNks.length === 0) return { updated: 0, hours: 0 };

  // Every version of the devices: facts are keyed by version, and any version may hold stale facts. Sorted
  // like the loader writes (device_sk first), so a concurrent loader and this wait for each other, never deadlock.
  const { rows: versions } = await client.query<{ device_sk: string; device_nk: string }>(
    `SELECT device_sk, device_nk FROM dw.dim_device
     WHERE device_sk <> $3 AND (device_nk = ANY($1::text[]) OR device_nk IN (
       SELECT device_nk FROM dw.dim_device WHERE installed_asset_nk = ANY($2::text[])))
     ORDER BY device_sk`,
    [deviceNks, assetNks, UNKNOWN_SK],
  );

  let updated = 0;
  const hours = new Set<string>();
  const corrected = new Set<string>();
  for (const { device_sk: deviceSk, device_nk: deviceNk } of versions) {
    // Keyset over the primary key (device_sk, metric_sk, reading_ts): below every real key to start.
    let after: { metric: number; ts: string } = { metric: -32768, ts: '-infinity' };
    for (;;) {
      const batch = await correctBatch(client, deviceSk, deviceNk, after, batchSize);
      updated += batch.updated;
      if (batch.updated > 0) corrected.add(deviceNk);
      for (const hour of batch.hours) hours.add(`${deviceSk}/${hour}`);
      if (batch.last === null || batch.scanned < batchSize) break;
      after = batch.last;
    }
  }

  if (updated > 0) {
    // Nothing is dropped or dead-lettered by a correction, so rows_in = rows_out (lineage_readings_reconcile).
    await client.query(
      `INSERT INTO hub.lineage (source, target_table, rows_in, rows_out, details, finished_at)
       VALUES ('cdc:correction', 'dw.fact_sensor_reading', $1, $1, $2, now())`,
      [
        updated,
        JSON.stringify({
          reason: 'late-arriving dimension rows: fact asset_sk re-keyed as of reading time',
          device_nks: [...corrected].sort(),
          asset_nks: assetNks,
          hours_queued: hours.size,
        }),
      ],
    );
  }
  return { updated, hours: hours.size };
}

interface BatchResult {
  scanned: number;
  updated: number;
  /** `metric_sk/hour epoch` of the corrected facts. */
  hours: string[];
  last: { metric: number; ts: string } | null;
}

/**
 * One bounded statement: reads the next `limit` facts of one device_sk, resolves each one's asset as of its
 * reading time, updates those that differ and queues their hours for the rollup.
 */
async function correctBatch(
  client: pg.ClientBase,
  deviceSk: string,
  deviceNk: string,
  after: { metric: number; ts: string },
  limit: number,
): Promise<BatchResult> {
  const { rows } = await client.query<{
    scanned: number;
    updated: number;
    hours: string[] | null;
    last_metric: number | null;
    last_ts: string | null;
  }>(
    `WITH scanned AS (
       SELECT f.metric_sk, f.reading_ts, f.asset_sk FROM dw.fact_sensor_reading f
       WHERE f.device_sk = $1 AND (f.metric_sk, f.reading_ts) > ($3::smallint, $4::timestamptz)
       ORDER BY f.metric_sk, f.reading_ts LIMIT $5),
     resolved AS (
       SELECT s.metric_sk, s.reading_ts,
              coalesce((SELECT a.asset_sk FROM dw.dim_asset a
                        WHERE a.asset_nk = d.installed_asset_nk
                          AND s.reading_ts >= a.valid_from AND s.reading_ts < a.valid_to), $6) AS asset_sk
       FROM scanned s
       JOIN dw.dim_device d ON d.device_nk = $2 AND s.reading_ts >= d.valid_from AND s.reading_ts < d.valid_to),
     changed AS (
       UPDATE dw.fact_sensor_reading f SET asset_sk = r.asset_sk
       FROM resolved r
       WHERE f.device_sk = $1 AND f.metric_sk = r.metric_sk AND f.reading_ts = r.reading_ts
         AND f.asset_sk <> r.asset_sk
       RETURNING f.metric_sk, date_trunc('hour', f.reading_ts, 'UTC') AS hour_start),
     hours AS (SELECT DISTINCT metric_sk, hour_start FROM changed),
     queued AS (
       INSERT INTO hub.rollup_dirty (device_sk, metric_sk, hour_start)
       SELECT $1, metric_sk, hour_start FROM hours ORDER BY 1, 2, 3
       ON CONFLICT DO NOTHING)
     SELECT (SELECT count(*)::int FROM scanned) AS scanned,
            (SELECT count(*)::int FROM changed) AS updated,
            (SELECT array_agg(metric_sk || '/' || extract(epoch FROM hour_start)::bigint) FROM hours) AS hours,
            last.metric_sk AS last_metric, last.ts AS last_ts
     FROM (SELECT 1) one
     LEFT JOIN LATERAL (
       SELECT metric_sk, to_char(reading_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
       FROM scanned ORDER BY metric_sk DESC, reading_ts DESC LIMIT 1) last ON true`,
    [deviceSk, deviceNk, after.metric, after.ts, limit, UNKNOWN_SK],
  );
  const row = rows[0]!;
  return {
    scanned: row.scanned,
    updated: row.updated,
    hours: row.hours ?? [],
    last:
      row.last_metric === null || row.last_ts === null ? null : { metric: row.last_metric, ts: row.last_ts },
  };
}
