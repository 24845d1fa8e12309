import type pg from 'pg';

/** SQL LIKE pattern for ids starting with `prefix` (the run's id prefix has no wildcards, but be exact). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface DeadLetterCause {
  error_code: string;
  n: number;
  /** One of the messages, to show what the cause looks like. */
  example: string;
}

/** Pending dead letters of the run's records (Kafka key = device id, which starts with the prefix), by cause. */
export async function deadLettersByCause(pool: pg.Pool, idPrefix: string): Promise<DeadLetterCause[]> {
  const { rows } = await pool.query<DeadLetterCause>(
    `SELECT error_code, count(*)::int AS n, min(left(error_message, 100)) AS example
       FROM hub.dead_letter
      WHERE status = 'pending' AND substr(message_key, 1, length($1::bytea)) = $1::bytea
      GROUP BY 1 ORDER BY 2 DESC, 1`,
    [Buffer.from(idPrefix, 'utf8')],
  );
  return rows;
}

export interface SiteAverage {
  site: string;
  metric: string;
  hours: number;
  avg: string;
  completeness: string;
  readings: number;
}

/**
 * The run's hourly rollup (dw.fact_sensor_hourly) averaged by site and metric for the alerting metrics. Site
 * names come from dw.dim_asset; readings of devices not in MDM sit under the Unknown member (asset_sk -1).
 */
export async function hourlyAverageBySite(pool: pg.Pool, idPrefix: string): Promise<SiteAverage[]> {
  const { rows } = await pool.query<SiteAverage>(
    `SELECT coalesce(a.site_name, a.asset_name) AS site, m.metric_code AS metric,
            count(DISTINCT h.hour_start)::int AS hours, round(avg(h.avg_value)::numeric, 2)::text AS avg,
            round(avg(h.completeness)::numeric, 3)::text AS completeness, sum(h.n_received)::int AS readings
       FROM dw.fact_sensor_hourly h
       JOIN dw.dim_asset a USING (asset_sk)
       JOIN dw.dim_metric m USING (metric_sk)
       JOIN dw.dim_device d USING (device_sk)
      WHERE d.device_nk LIKE $1 AND m.metric_code IN ('temperature', 'vibration')
      GROUP BY 1, 2 ORDER BY (min(h.asset_sk) < 0), 1, 2`,
    [likePrefix(idPrefix)],
  );
  return rows;
}

/**
 * Readings of the run's registered devices (installed on an asset the warehouse knows) that were enriched to
 * the Unknown asset anyway: an enrichment fault, since the device and its asset were seeded before sending.
 */
export async function misplacedReadings(pool: pg.Pool, idPrefix: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n
       FROM dw.fact_sensor_reading r
       JOIN dw.dim_device d ON d.device_sk = r.device_sk
      WHERE d.device_nk LIKE $1 AND r.asset_sk = -1
        AND EXISTS (SELECT 1 FROM dw.dim_device c JOIN dw.dim_asset a ON a.asset_nk = c.installed_asset_nk
                     WHERE c.device_nk = d.device_nk AND c.is_current AND NOT c.is_inferred)`,
    [likePrefix(idPrefix)],
  );
  return rows[0]!.n;
}

/** Ticket intents of the run's alerts by state (hub.alert.ticket_state); `none` for alerts without a ticket. */
export async function ticketStates(pool: pg.Pool, idPrefix: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ state: string; n: number }>(
    `SELECT coalesce(ticket_state, 'none') AS state, count(*)::int AS n
       FROM hub.alert WHERE device_id LIKE $1 GROUP BY 1`,
    [likePrefix(idPrefix)],
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
