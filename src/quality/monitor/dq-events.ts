import type { Queryable } from '../../db/index.ts';
import type { AlertEvent } from '../alert-events.ts';
import type { Transition } from './event-tracker.ts';

/** Written into dw.fact_dq_event.detector_version and the alert evidence. */
export const detectorVersion = 'dq-monitor-1';

/** A transition with the series it belongs to (natural keys for the alert, surrogate keys for the event). */
export interface SeriesTransition {
  transition: Transition;
  deviceSk: number;
  assetSk: number;
  /** Null for device-level checks (calibration_due). */
  metricSk: number | null;
  deviceNk: string;
  assetNk: string | null;
  metricCode: string | null;
  /** The check's parameters, put in the evidence. */
  parameters?: unknown;
  /** Record the event but raise no alert (a gap seen only once readings resumed: already over). */
  silent?: boolean;
}

/**
 * Writes transitions to dw.fact_dq_event (open: insert, unless one is open already; escalate: raise severity;
 * close: set closed_at) and their alert events to hub.dq_alert_outbox, in the caller's transaction. A few
 * statements per call, none when there is nothing to write.
 */
export async function writeTransitions(client: Queryable, items: readonly SeriesTransition[]): Promise<void> {
  if (items.length === 0) return;
  const opens: Record<string, unknown>[] = [];
  const escalations: Record<string, unknown>[] = [];
  const closes: Record<string, unknown>[] = [];
  const alerts: AlertEvent[] = [];
  for (const item of items) {
    const t = item.transition;
    const keys = {
      device_sk: item.deviceSk,
      device_nk: item.deviceNk,
      metric_sk: item.metricSk,
      check_name: t.check,
    };
    const at = new Date(t.at);
    if (t.kind === 'close') {
      closes.push({ ...keys, at: at.toISOString(), details: t.result ? { closing: t.result.details } : {} });
      if (!item.silent)
        alerts.push({
          kind: 'clear',
          deviceId: item.deviceNk,
          rule: t.check,
          metric: item.metricCode,
          at,
          evidence: { check: t.check, closed_at: at.toISOString(), detector: detectorVersion },
        });
      continue;
    }
    const evidence = {
      check: t.check,
      severity: t.severity,
      observed: t.result.observed,
      threshold: t.result.threshold,
      details: t.result.details,
      parameters: item.parameters ?? null,
      excerpt: t.excerpt.map(([ts, value]) => ({ ts: new Date(ts).toISOString(), value })),
      at: at.toISOString(),
      detector: detectorVersion,
    };
    const row = {
      ...keys,
      asset_sk: item.assetSk,
      severity: t.severity,
      at: at.toISOString(),
      observed: t.result.observed,
      threshold: t.result.threshold,
      details: evidence,
    };
    (t.kind === 'open' ? opens : escalations).push(row);
    if (!item.silent)
      alerts.push({
        kind: 'raise',
        deviceId: item.deviceNk,
        assetId: item.assetNk,
        rule: t.check,
        metric: item.metricCode,
        severity: t.severity,
        at,
        evidence,
      });
  }
  if (opens.length > 0)
    await client.query(
      `INSERT INTO dw.fact_dq_event (device_sk, asset_sk, metric_sk, check_name, severity, opened_at, observed_value,
         threshold, details, detector_version)
       SELECT device_sk, asset_sk, metric_sk, check_name, severity, at, observed, threshold, details, $2
       FROM jsonb_to_recordset($1::jsonb) AS v(device_sk bigint, asset_sk bigint, metric_sk smallint, check_name text,
         severity text, at timestamptz, observed double precision, threshold double precision, details jsonb)
       ON CONFLICT (device_sk, coalesce(metric_sk, -1), check_name) WHERE closed_at IS NULL DO NOTHING`,
      [JSON.stringify(opens), detectorVersion],
    );
  if (escalations.length > 0)
    await client.query(
      `UPDATE dw.fact_dq_event e SET severity = v.severity, observed_value = v.observed, threshold = v.threshold,
         details = e.details || jsonb_build_object('escalated', v.details)
       FROM jsonb_to_recordset($1::jsonb) AS v(device_nk text, metric_sk smallint, check_name text, severity text,
         observed double precision, threshold double precision, details jsonb)
       WHERE e.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = v.device_nk)
         AND coalesce(e.metric_sk, -1) = coalesce(v.metric_sk, -1)
         AND e.check_name = v.check_name AND e.closed_at IS NULL`,
      [JSON.stringify(escalations)],
    );
  if (closes.length > 0)
    await client.query(
      `UPDATE dw.fact_dq_event e SET closed_at = greatest(e.opened_at, v.at), details = e.details || v.details
       FROM jsonb_to_recordset($1::jsonb) AS v(device_nk text, metric_sk smallint, check_name text, at timestamptz,
         details jsonb)
       WHERE e.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = v.device_nk)
         AND coalesce(e.metric_sk, -1) = coalesce(v.metric_sk, -1)
         AND e.check_name = v.check_name AND e.closed_at IS NULL`,
      [JSON.stringify(closes)],
    );
  if (alerts.length > 0)
    await client.query(
      'INSERT INTO hub.dq_alert_outbox (event) SELECT e FROM jsonb_array_elements($1::jsonb) AS e',
      [JSON.stringify(alerts)],
    );
}

/** Records a gap seen only when readings resumed (opened and closed at once, no alert: it is already over). */
export async function recordPastEvent(
  client: Queryable,
  e: {
    deviceSk: number;
    assetSk: number;
    metricSk: number | null;
    check: string;
    severity: string;
    from: number;
    to: number;
    observed: number | null;
    threshold: number | null;
    details: Record<string, unknown>;
  },
): Promise<void> {
  await client.query(
    `INSERT INTO dw.fact_dq_event (device_sk, asset_sk, metric_sk, check_name, severity, opened_at, closed_at,
       observed_value, threshold, details, detector_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      e.deviceSk,
      e.assetSk,
      e.metricSk,
      e.check,
      e.severity,
      new Date(e.from),
      new Date(Math.max(e.from, e.to)),
      e.observed,
      e.threshold,
      JSON.stringify(e.details),
      detectorVersion,
    ],
  );
}
