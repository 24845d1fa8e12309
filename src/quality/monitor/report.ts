import type { Queryable } from '../../db/index.ts';

export interface QualityReport {
  since: Date;
  /** Open dq events by site and check (and how many of them opened since `since`). */
  open: { site: string; check: string; open: number; fail: number; openedSince: number }[];
  /** Completeness per device since `since`: Σ n_received / Σ n_expected over dw.fact_sensor_hourly. */
  completeness: {
    device: string;
    site: string;
    received: number;
    expected: number;
    completeness: number | null;
  }[];
}

/** What `iot-hub quality report` prints (docs/data-quality.md, "Report"). */
export async function qualityReport(client: Queryable, since: Date): Promise<QualityReport> {
  const open = await client.query<{
    site: string;
    check: string;
    open: string;
    fail: string;
    opened_since: string;
  }>(
    `SELECT coalesce(a.site_name, 'Unknown') AS site, e.check_name AS check, count(*) AS open,
            count(*) FILTER (WHERE e.severity = 'fail') AS fail, count(*) FILTER (WHERE e.opened_at >= $1) AS opened_since
     FROM dw.fact_dq_event e JOIN dw.dim_asset a ON a.asset_sk = e.asset_sk
     WHERE e.closed_at IS NULL
     GROUP BY 1, 2 ORDER BY 1, 2`,
    [since],
  );
  const completeness = await client.query<{
    device: string;
    site: string;
    received: string;
    expected: string;
  }>(
    `SELECT d.device_nk AS device, coalesce(min(a.site_name), 'Unknown') AS site,
            sum(h.n_received) AS received, sum(h.n_expected) AS expected
     FROM dw.fact_sensor_hourly h
     JOIN dw.dim_device d ON d.device_sk = h.device_sk
     JOIN dw.dim_asset a ON a.asset_sk = h.asset_sk
     WHERE h.hour_start >= date_trunc('hour', $1::timestamptz)
     GROUP BY d.device_nk ORDER BY d.device_nk`,
    [since],
  );
  return {
    since,
    open: open.rows.map((r) => ({
      site: r.site,
      check: r.check,
      open: Number(r.open),
      fail: Number(r.fail),
      openedSince: Number(r.opened_since),
    })),
    completeness: completeness.rows.map((r) => {
      const received = Number(r.received);
      const expected = Number(r.expected);
      return {
        device: r.device,
        site: r.site,
        received,
        expected,
        completeness: expected > 0 ? received / expected : null,
      };
    }),
  };
}
