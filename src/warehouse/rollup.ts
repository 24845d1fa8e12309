import type pg from 'pg';
import { inTransaction } from '../db/index.ts';

/**
 * Recomputes the hourly rollup for queued hours (hub.rollup_dirty), oldest first, each from the facts, so a
 * late reading or a replay simply recomputes its hour, and then, in the same transaction, the asset rollup
 * (dw.fact_asset_hourly) of every metric and hour touched. `settleMs` leaves hours still being written alone for
 * a moment, batching their recomputes. Returns how many device hours it recomputed.
 */
export async function recomputeDirtyHours(
  pool: pg.Pool,
  options: { limit?: number; settleMs?: number } = {},
): Promise<number> {
  // inTransaction keeps an 'error' listener on the connection: a server restart mid-recompute rejects, it does not
  // end the process.
  return inTransaction(pool, async (client) => {
    const recomputed = await recomputeDeviceHours(client, options);
    if (recomputed.length > 0) await recomputeAssetHours(client, recomputed);
    return recomputed.length;
  });
}

interface MetricHour {
  metric_sk: number;
  hour_start: Date;
}

async function recomputeDeviceHours(
  client: pg.PoolClient,
  options: { limit?: number; settleMs?: number },
): Promise<MetricHour[]> {
  const { rows } = await client.query<MetricHour>(
    `WITH picked AS (
       DELETE FROM hub.rollup_dirty WHERE (device_sk, metric_sk, hour_start) IN (
         SELECT device_sk, metric_sk, hour_start FROM hub.rollup_dirty
         WHERE marked_at <= now() - make_interval(secs => $2::float8 / 1000)
         ORDER BY hour_start LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING device_sk, metric_sk, hour_start)
     INSERT INTO dw.fact_sensor_hourly AS h (device_sk, asset_sk, metric_sk, hour_start, date_key, time_key, n_expected,
       n_received, n_suspect, n_fail, min_value, max_value, avg_value, sum_value, stddev_value, last_value, computed_at)
     SELECT p.device_sk, (array_agg(f.asset_sk ORDER BY f.reading_ts DESC))[1], p.metric_sk, p.hour_start,
            to_char(p.hour_start AT TIME ZONE 'UTC', 'YYYYMMDD')::int,
            (extract(hour FROM p.hour_start AT TIME ZONE 'UTC') * 60)::smallint,
            3600 / greatest(coalesce(max(d.expected_interval_s), 60), 1),
            count(*), count(*) FILTER (WHERE f.quality_code = 3), count(*) FILTER (WHERE f.quality_code = 4),
            min(f.value), max(f.value), avg(f.value), sum(f.value), stddev_samp(f.value),
            (array_agg(f.value ORDER BY f.reading_ts DESC))[1], now()
     FROM picked p
     JOIN dw.fact_sensor_reading f ON f.device_sk = p.device_sk AND f.metric_sk = p.metric_sk
      AND f.reading_ts >= p.hour_start AND f.reading_ts < p.hour_start + interval '1 hour'
     LEFT JOIN dw.dim_device d ON d.device_sk = p.device_sk AND d.is_current
     GROUP BY p.device_sk, p.metric_sk, p.hour_start
     ON CONFLICT (device_sk, metric_sk, hour_start) DO UPDATE SET
       asset_sk = excluded.asset_sk, n_expected = excluded.n_expected, n_received = excluded.n_received,
       n_suspect = excluded.n_suspect, n_fail = excluded.n_fail, min_value = excluded.min_value,
       max_value = excluded.max_value, avg_value = excluded.avg_value, sum_value = excluded.sum_value,
       stddev_value = excluded.stddev_value, last_value = excluded.last_value, computed_at = excluded.computed_at
     RETURNING metric_sk, hour_start`,
    [options.limit ?? 5000, options.settleMs ?? 2000],
  );
  return rows;
}

/**
 * Every asset row of the given metric hours, again from the device hours: a device hour may have moved to another
 * asset version. One lock for the table serialises recomputes across hubs, so each sees the others' committed
 * device hours (READ COMMITTED takes a fresh snapshot per statement, after the lock).
 */
async function recomputeAssetHours(client: pg.PoolClient, hours: MetricHour[]): Promise<void> {
  const metrics = hours.map((h) => h.metric_sk);
  const starts = hours.map((h) => h.hour_start);
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('dw.fact_asset_hourly'))`);
  await client.query(
    `DELETE FROM dw.fact_asset_hourly a USING (SELECT DISTINCT * FROM unnest($1::smallint[], $2::timestamptz[])) k(m, h)
     WHERE a.metric_sk = k.m AND a.hour_start = k.h`,
    [metrics, starts],
  );
  await client.query(
    `INSERT INTO dw.fact_asset_hourly (asset_sk, metric_sk, hour_start, n_devices, n_expected, n_received, n_suspect,
       n_fail, min_value, max_value, sum_value)
     SELECT h.asset_sk, h.metric_sk, h.hour_start, count(*), sum(h.n_expected), sum(h.n_received), sum(h.n_suspect),
            sum(h.n_fail), min(h.min_value), max(h.max_value), sum(h.sum_value)
     FROM (SELECT DISTINCT * FROM unnest($1::smallint[], $2::timestamptz[])) k(m, t)
     JOIN dw.fact_sensor_hourly h ON h.metric_sk = k.m AND h.hour_start = k.t
     GROUP BY h.asset_sk, h.metric_sk, h.hour_start`,
    [metrics, starts],
  );
}
