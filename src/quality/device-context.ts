import type { Knex } from '../db/index.ts';

/** What the alert rules need to know about a device, from its current dw.dim_device row. */
export interface DeviceInfo {
  deviceId: string;
  rangeMin: number | null;
  rangeMax: number | null;
  expectedIntervalMs: number | null;
  assetId: string | null;
  /**
   * Metrics the range describes: those whose canonical unit is the device's measurement_unit (its primary
   * metric's). Undefined when the device has no unit: the range is then taken for every metric.
   */
  rangeMetrics?: readonly string[];
}

/** Current dw.dim_device rows of the given devices; devices without one are absent from the map. */
export async function loadDevices(
  knex: Knex,
  deviceIds: readonly string[],
): Promise<Map<string, DeviceInfo>> {
  const map = new Map<string, DeviceInfo>();
  if (deviceIds.length === 0) return map;
  const rows: Array<{
    device_nk: string;
    range_min: number | null;
    range_max: number | null;
    expected_interval_s: number | null;
    installed_asset_nk: string | null;
    range_metrics: string[] | null;
  }> = await knex('dw.dim_device as d')
    .whereIn('d.device_nk', deviceIds)
    .andWhere({ 'd.is_current': true })
    .select(
      'd.device_nk',
      'd.range_min',
      'd.range_max',
      'd.expected_interval_s',
      'd.installed_asset_nk',
      knex.raw(
        `CASE WHEN d.measurement_unit IS NULL THEN NULL ELSE ARRAY(
           SELECT m.metric_code FROM dw.dim_metric m WHERE m.canonical_unit = d.measurement_unit) END AS range_metrics`,
      ),
    );
  for (const r of rows) {
    map.set(r.device_nk, {
      deviceId: r.device_nk,
      rangeMin: r.range_min,
      rangeMax: r.range_max,
      expectedIntervalMs: r.expected_interval_s === null ? null : r.expected_interval_s * 1000,
      assetId: r.installed_asset_nk,
      ...(r.range_metrics === null ? {} : { rangeMetrics: r.range_metrics }),
    });
  }
  return map;
}

/**
 * Devices among `deviceIds` with an open maintenance work order at `at`: a dw.fact_maintenance_event that is
 * planned or in progress, started at or before `at`, and not finished by then. The fact row may point at an
 * older SCD2 version of the device, so it is matched by natural key.
 */
export async function devicesInMaintenance(
  knex: Knex,
  deviceIds: readonly string[],
  at: Date,
): Promise<Set<string>> {
  if (deviceIds.length === 0) return new Set();
  const { rows } = await knex.raw<{ rows: { device_nk: string }[] }>(
    `SELECT DISTINCT d.device_nk
       FROM dw.fact_maintenance_event m
       JOIN dw.dim_device d ON d.device_sk = m.device_sk
      WHERE d.device_nk = ANY(?)
        AND m.status IN ('planned', 'in_progress')
        AND m.started_at <= ?
        AND (m.finished_at IS NULL OR m.finished_at > ?)`,
    [[...deviceIds], at, at],
  );
  return new Set(rows.map((r) => r.device_nk));
}

/** Latest reading time per device over the last day of dw.fact_sensor_reading (heartbeat seeding). */
export async function lastReadingTimes(knex: Knex, now: Date): Promise<Map<string, number>> {
  const { rows } = await knex.raw<{ rows: { device_nk: string; last_ts: Date }[] }>(
    `SELECT d.device_nk, max(r.reading_ts) AS last_ts
       FROM dw.fact_sensor_reading r
       JOIN dw.dim_device d ON d.device_sk = r.device_sk
      WHERE r.reading_ts > ?::timestamptz - interval '1 day' AND r.reading_ts <= ?
      GROUP BY d.device_nk`,
    [now, now],
  );
  return new Map(rows.map((r) => [r.device_nk, r.last_ts.getTime()]));
}
