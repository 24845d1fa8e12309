import type pg from 'pg';
import { inTransaction, type Knex, type Queryable } from '../../db/index.ts';
import { lineage } from '../../lineage/index.ts';
import type { Logger } from '../../observability/index.ts';
import {
  type CheckResult,
  calibrationDue,
  calibrationStep,
  DriftMonitor,
  loadQualityRules,
  parametersFor,
  type QualityRules,
  SeriesMonitor,
  type SeriesState,
} from '../detectors/index.ts';
import { drainAlertOutbox } from './alert-outbox.ts';
import { type SeriesTransition, writeTransitions } from './dq-events.ts';
import { markClosed, markOpen, type Transition, trackerFrom, trackResults } from './event-tracker.ts';
import { parametersOf } from './stream-stage.ts';

// The periodic data-quality jobs (docs/data-quality.md, "Events and alerts"): what no reading triggers. Each
// runs in one transaction under a try-lock of its own, so with several hub processes one runs and the others
// skip that round.

const HOUR_MS = 3_600_000;
const jobLocks = { gap: 0x44510001, drift: 0x44510002, calibration: 0x44510003, step: 0x44510004 } as const;

export interface JobOutcome {
  /** False when another process held the job's lock. */
  ran: boolean;
  transitions: number;
}

interface SeriesRow {
  device_nk: string;
  metric_sk: number;
  monitor_state: SeriesState;
  tracker_state: unknown;
  drift_state: SeriesState | null;
  drift_hour: Date | null;
  device_sk: string | number;
  asset_sk: string | number | null;
  installed_asset_nk: string | null;
  criticality: string | null;
  metric_code: string;
  range_min: number | null;
  range_max: number | null;
  resolution: number | null;
  expected_interval_s: number | null;
}

const seriesSelect = `
  SELECT s.device_nk, s.metric_sk, s.monitor_state, s.tracker_state, s.drift_state, s.drift_hour,
         d.device_sk, coalesce(a.asset_sk, -1) AS asset_sk, d.installed_asset_nk, a.criticality, m.metric_code,
         coalesce(d.range_min, m.valid_min) AS range_min, coalesce(d.range_max, m.valid_max) AS range_max,
         d.resolution, d.expected_interval_s
  FROM hub.dq_series_state s
  JOIN dw.dim_device d ON d.device_nk = s.device_nk AND d.is_current
  JOIN dw.dim_metric m ON m.metric_sk = s.metric_sk
  LEFT JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current`;

async function tryLock(client: Queryable, key: number): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [key]);
  return rows[0]?.ok === true;
}

function transitionOf(row: SeriesRow, t: Transition, rules: QualityRules): SeriesTransition {
  return {
    transition: t,
    deviceSk: Number(row.device_sk),
    assetSk: Number(row.asset_sk ?? -1),
    metricSk: row.metric_sk,
    deviceNk: row.device_nk,
    assetNk: row.installed_asset_nk,
    metricCode: row.metric_code,
    parameters: parametersOf(parametersFor(rules, row.metric_code, row.criticality), t.check),
  };
}

/**
 * Gap sweep: series silent past their cadence × the gap factor (SeriesMonitor.gapAt, the same rule as in the
 * stream) open a gap event at `now`; the ingest closes it when readings resume. A series whose gap event is
 * open is not looked at again.
 */
export async function runGapSweep(pool: pg.Pool, rules: QualityRules, now = Date.now()): Promise<JobOutcome> {
  return inTransaction(pool, async (client) => {
    if (!(await tryLock(client, jobLocks.gap))) return { ran: false, transitions: 0 };
    // Candidates: silent for the default warn factor × the cadence (60 s where MDM has none); gapAt decides.
    const factor = parametersFor(rules, '').gap.warnIntervals;
    const { rows } = await client.query<SeriesRow>(
      `${seriesSelect}
       WHERE s.last_ts < $1::timestamptz - make_interval(secs => $2 * coalesce(d.expected_interval_s, 60))
         AND s.tracker_state #>> '{checks,gap,open}' IS NULL
       FOR UPDATE OF s SKIP LOCKED`,
      [new Date(now), factor],
    );
    const transitions: SeriesTransition[] = [];
    const updates: { device_nk: string; metric_sk: number; tracker_state: unknown }[] = [];
    for (const row of rows) {
      const params = parametersFor(rules, row.metric_code, row.criticality);
      const spec = {
        metric: row.metric_code,
        rangeMin: row.range_min,
        rangeMax: row.range_max,
        resolution: row.resolution,
        expectedIntervalS: row.expected_interval_s,
      };
      const gap = new SeriesMonitor(spec, params, row.monitor_state).gapAt(now);
      if (gap.flag !== 3 && gap.flag !== 4) continue;
      const tracker = trackerFrom(row.tracker_state);
      if (!markOpen(tracker, 'gap', gap.severity === 'info' ? 'warn' : gap.severity)) continue;
      updates.push({ device_nk: row.device_nk, metric_sk: row.metric_sk, tracker_state: tracker });
      transitions.push(
        transitionOf(
          row,
          {
            kind: 'open',
            check: 'gap',
            severity: gap.severity,
            at: now,
            result: gap,
            excerpt: tracker.excerpt,
          },
          rules,
        ),
      );
    }
    await saveSeries(client, updates);
    await writeTransitions(client, transitions);
    return { ran: true, transitions: transitions.length };
  });
}

/**
 * Hourly drift: every completed hour of dw.fact_sensor_hourly newer than a series' drift_hour (up to
 * `lookbackHours` back), in hour order, through its DriftMonitor with the hourly means of the same metric's
 * other sensors on the same line (or asset, when the asset is on no line) as peers.
 */
export async function runDrift(
  pool: pg.Pool,
  rules: QualityRules,
  now = Date.now(),
  lookbackHours = 48,
): Promise<JobOutcome> {
  return inTransaction(pool, async (client) => {
    if (!(await tryLock(client, jobLocks.drift))) return { ran: false, transitions: 0 };
    const until = Math.floor(now / HOUR_MS) * HOUR_MS;
    const { rows: hours } = await client.query<{
      device_nk: string;
      metric_sk: number;
      hour_start: Date;
      avg_value: number;
      peer_group: string;
    }>(
      `SELECT d.device_nk, h.metric_sk, h.hour_start, h.avg_value,
              coalesce(a.line_nk, a.asset_nk, '#none') || ':' || h.metric_sk AS peer_group
       FROM dw.fact_sensor_hourly h
       JOIN dw.dim_device d ON d.device_sk = h.device_sk
       LEFT JOIN dw.dim_asset a ON a.asset_sk = h.asset_sk AND h.asset_sk > 0
       WHERE h.hour_start >= $1 AND h.hour_start < $2 AND h.avg_value IS NOT NULL AND h.device_sk > 0
       ORDER BY h.hour_start`,
      [new Date(until - lookbackHours * HOUR_MS), new Date(until)],
    );
    if (hours.length === 0) return { ran: true, transitions: 0 };
    const keys = [...new Set(hours.map((h) => `${h.device_nk}\u0000${h.metric_sk}`))];
    const { rows } = await client.query<SeriesRow>(
      `${seriesSelect}
       WHERE (s.device_nk, s.metric_sk) IN (SELECT * FROM unnest($1::text[], $2::smallint[]))
       ORDER BY s.device_nk, s.metric_sk
       FOR UPDATE OF s`,
      [keys.map((k) => k.split('\u0000')[0]), keys.map((k) => Number(k.split('\u0000')[1]))],
    );
    const series = new Map(rows.map((r) => [`${r.device_nk}\u0000${r.metric_sk}`, r]));
    // Peer means by group and hour.
    const groups = new Map<string, { device: string; value: number }[]>();
    for (const h of hours) {
      const g = `${h.peer_group}@${h.hour_start.getTime()}`;
      const list = groups.get(g) ?? [];
      list.push({ device: h.device_nk, value: h.avg_value });
      groups.set(g, list);
    }
    const monitors = new Map<
      string,
      {
        row: SeriesRow;
        drift: DriftMonitor;
        tracker: ReturnType<typeof trackerFrom>;
        last: number;
        observed: boolean;
      }
    >();
    const monitorOf = (key: string, row: SeriesRow, hourMs: number) => {
      let m = monitors.get(key);
      if (!m) {
        m = {
          row,
          drift: new DriftMonitor(
            parametersFor(rules, row.metric_code, row.criticality),
            row.drift_state ?? undefined,
          ),
          tracker: trackerFrom(row.tracker_state),
          last: hourMs,
          observed: false,
        };
        monitors.set(key, m);
      }
      return m;
    };
    // Peers are compared through their own anomalies (DriftMonitor.anomaly, each against its own usual level),
    // so at each hour every series' anomaly is taken before any series observes that hour.
    const byHour = new Map<number, typeof hours>();
    for (const h of hours) {
      const list = byHour.get(h.hour_start.getTime()) ?? [];
      list.push(h);
      byHour.set(h.hour_start.getTime(), list);
    }
    const transitions: SeriesTransition[] = [];
    for (const [hourMs, hourRows] of byHour) {
      const anomalies = new Map<string, number | null>();
      for (const h of hourRows) {
        const key = `${h.device_nk}\u0000${h.metric_sk}`;
        const row = series.get(key);
        if (row) anomalies.set(key, monitorOf(key, row, hourMs).drift.anomaly(hourMs, h.avg_value));
      }
      for (const h of hourRows) {
        const key = `${h.device_nk}\u0000${h.metric_sk}`;
        const row = series.get(key);
        if (!row) continue;
        if (row.drift_hour && hourMs <= row.drift_hour.getTime()) continue;
        const m = monitorOf(key, row, hourMs);
        const peers = (groups.get(`${h.peer_group}@${hourMs}`) ?? [])
          .filter((p) => p.device !== h.device_nk)
          .map((p) => anomalies.get(`${p.device}\u0000${h.metric_sk}`) ?? null);
        const results: CheckResult[] = m.drift.observeHour(hourMs, h.avg_value, peers);
        m.last = hourMs;
        m.observed = true;
        const params = parametersFor(rules, row.metric_code, row.criticality);
        for (const t of trackResults(m.tracker, results, hourMs + HOUR_MS, params))
          transitions.push(transitionOf(row, t, rules));
      }
    }
    // Series only asked for their anomaly (as peers) were not advanced: nothing to write for them.
    const updates = [...monitors.values()]
      .filter((m) => m.observed)
      .map((m) => ({
        device_nk: m.row.device_nk,
        metric_sk: m.row.metric_sk,
        tracker_state: m.tracker,
        drift_state: m.drift.state(),
        drift_hour: new Date(m.last).toISOString(),
      }));
    await saveSeries(client, updates);
    await writeTransitions(client, transitions);
    return { ran: true, transitions: transitions.length };
  });
}

/**
 * Calibration due, per current device with a metric stream (device-level events, metric NULL): opens when
 * calibrationDue says suspect or fail, escalates to fail once due, closes once MDM records a calibration.
 */
export async function runCalibrationDue(
  pool: pg.Pool,
  rules: QualityRules,
  now = Date.now(),
): Promise<JobOutcome> {
  return inTransaction(pool, async (client) => {
    if (!(await tryLock(client, jobLocks.calibration))) return { ran: false, transitions: 0 };
    const { rows } = await client.query<{
      device_sk: string | number;
      device_nk: string;
      asset_sk: string | number;
      installed_asset_nk: string | null;
      criticality: string | null;
      last_calibrated_at: Date | null;
      calibration_interval_days: number | null;
      open_severity: string | null;
    }>(
      `SELECT d.device_sk, d.device_nk, coalesce(a.asset_sk, -1) AS asset_sk, d.installed_asset_nk, a.criticality,
              d.last_calibrated_at, d.calibration_interval_days, e.severity AS open_severity
       FROM dw.dim_device d
       LEFT JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
       LEFT JOIN LATERAL (SELECT severity FROM dw.fact_dq_event e
                          JOIN dw.dim_device v ON v.device_sk = e.device_sk
                          WHERE v.device_nk = d.device_nk AND e.check_name = 'calibration_due'
                            AND e.closed_at IS NULL LIMIT 1) e ON true
       WHERE d.is_current AND d.device_sk > 0
         AND (d.calibration_interval_days IS NOT NULL OR e.severity IS NOT NULL)`,
    );
    const transitions: SeriesTransition[] = [];
    for (const d of rows) {
      const params = parametersFor(rules, '', d.criticality);
      const r = calibrationDue(
        {
          lastCalibratedAt: d.last_calibrated_at ? d.last_calibrated_at.getTime() : null,
          intervalDays: d.calibration_interval_days,
        },
        now,
        params,
      );
      const due = r.flag === 3 || r.flag === 4;
      let t: Transition | null = null;
      if (due && !d.open_severity)
        t = { kind: 'open', check: 'calibration_due', severity: r.severity, at: now, result: r, excerpt: [] };
      else if (due && d.open_severity === 'warn' && r.severity === 'fail')
        t = { kind: 'escalate', check: 'calibration_due', severity: 'fail', at: now, result: r, excerpt: [] };
      else if (!due && d.open_severity) t = { kind: 'close', check: 'calibration_due', at: now, result: r };
      if (t)
        transitions.push({
          transition: t,
          deviceSk: Number(d.device_sk),
          assetSk: Number(d.asset_sk),
          metricSk: null,
          deviceNk: d.device_nk,
          assetNk: d.installed_asset_nk,
          metricCode: null,
          parameters: parametersOf(params, 'calibration_due'),
        });
    }
    await writeTransitions(client, transitions);
    return { ran: true, transitions: transitions.length };
  });
}

/**
 * After-calibration step: for each completed calibration (dw.fact_maintenance_event) whose window after it has
 * passed, and each metric the device streams, the hourly peer residuals (device mean − median of the same
 * metric's other sensors on its line or asset) in the window before the work started and after it finished go
 * through calibrationStep. A finding opens a `calibration_step` event; a later calibration that passes closes
 * it. Each calibration is evaluated once (hub.dq_calibration_step_done).
 */
export async function runCalibrationStep(
  pool: pg.Pool,
  rules: QualityRules,
  now = Date.now(),
): Promise<JobOutcome> {
  return inTransaction(pool, async (client) => {
    if (!(await tryLock(client, jobLocks.step))) return { ran: false, transitions: 0 };
    const windowHours = parametersFor(rules, '').calibrationStep.windowHours;
    const { rows: calibrations } = await client.query<{
      maintenance_event_id: string | number;
      device_nk: string;
      started_at: Date;
      finished_at: Date;
    }>(
      `SELECT e.maintenance_event_id, d.device_nk, e.started_at, e.finished_at
       FROM dw.fact_maintenance_event e JOIN dw.dim_device d ON d.device_sk = e.device_sk
       WHERE e.event_type = 'calibration' AND e.status = 'completed' AND e.finished_at IS NOT NULL
         AND e.finished_at <= $1::timestamptz - make_interval(hours => $2)
         AND e.finished_at > $1::timestamptz - interval '30 days'
         AND NOT EXISTS (SELECT 1 FROM hub.dq_calibration_step_done x WHERE x.maintenance_event_id = e.maintenance_event_id)
       ORDER BY e.finished_at LIMIT 200`,
      [new Date(now), windowHours],
    );
    const transitions: SeriesTransition[] = [];
    const updates: { device_nk: string; metric_sk: number; tracker_state: unknown }[] = [];
    const driftResets: { device_nk: string; metric_sk: number; drift_state: unknown }[] = [];
    for (const c of calibrations) {
      const { rows: series } = await client.query<SeriesRow>(
        `${seriesSelect} WHERE s.device_nk = $1 ORDER BY s.metric_sk FOR UPDATE OF s`,
        [c.device_nk],
      );
      for (const row of series) {
        const { rows: residuals } = await client.query<{ hour_start: Date; residual: number }>(
          `WITH dev AS (
             SELECT h.hour_start, h.avg_value, coalesce(a.line_nk, a.asset_nk) AS grp
             FROM dw.fact_sensor_hourly h
             JOIN dw.dim_device d ON d.device_sk = h.device_sk AND d.device_nk = $1
             JOIN dw.dim_asset a ON a.asset_sk = h.asset_sk
             WHERE h.metric_sk = $2 AND h.avg_value IS NOT NULL
               AND (h.hour_start >= $3::timestamptz - make_interval(hours => $5) AND h.hour_start < $3
                    OR h.hour_start >= $4 AND h.hour_start < $4::timestamptz + make_interval(hours => $5)))
           SELECT dev.hour_start,
                  dev.avg_value - percentile_cont(0.5) WITHIN GROUP (ORDER BY p.avg_value) AS residual
           FROM dev
           JOIN dw.fact_sensor_hourly p ON p.metric_sk = $2 AND p.hour_start = dev.hour_start AND p.avg_value IS NOT NULL
           JOIN dw.dim_device pd ON pd.device_sk = p.device_sk AND pd.device_nk <> $1
           JOIN dw.dim_asset pa ON pa.asset_sk = p.asset_sk AND coalesce(pa.line_nk, pa.asset_nk) = dev.grp
           GROUP BY dev.hour_start, dev.avg_value`,
          [c.device_nk, row.metric_sk, c.started_at, c.finished_at, windowHours],
        );
        const before = residuals.filter((r) => r.hour_start < c.started_at).map((r) => r.residual);
        const after = residuals.filter((r) => r.hour_start >= c.finished_at).map((r) => r.residual);
        const tracker = trackerFrom(row.tracker_state);
        const driftOpen = Boolean(tracker.checks.drift_cusum?.open || tracker.checks.drift_ewma?.open);
        const params = parametersFor(rules, row.metric_code, row.criticality);
        const result = calibrationStep(before, after, params, { driftOpen });
        // The calibration restarts the drift statistics (its baseline stays: it describes a sound sensor).
        if (row.drift_state) {
          const drift = new DriftMonitor(params, row.drift_state);
          drift.calibrated();
          driftResets.push({
            device_nk: row.device_nk,
            metric_sk: row.metric_sk,
            drift_state: drift.state(),
          });
        }
        const at = c.finished_at.getTime() + windowHours * HOUR_MS;
        let t: Transition | null = null;
        if (
          (result.flag === 3 || result.flag === 4) &&
          markOpen(tracker, 'calibration_step', result.severity)
        )
          t = { kind: 'open', check: 'calibration_step', severity: result.severity, at, result, excerpt: [] };
        else if (result.flag === 1 && markClosed(tracker, 'calibration_step'))
          t = { kind: 'close', check: 'calibration_step', at, result };
        if (!t) continue;
        result.details.maintenanceEventId = Number(c.maintenance_event_id);
        updates.push({ device_nk: row.device_nk, metric_sk: row.metric_sk, tracker_state: tracker });
        transitions.push(transitionOf(row, t, rules));
      }
      await client.query('INSERT INTO hub.dq_calibration_step_done (maintenance_event_id) VALUES ($1)', [
        c.maintenance_event_id,
      ]);
    }
    if (driftResets.length > 0)
      await client.query(
        `UPDATE hub.dq_series_state s SET drift_state = v.drift_state, version = nextval('hub.dq_series_version'),
           updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS v(device_nk text, metric_sk smallint, drift_state jsonb)
         WHERE s.device_nk = v.device_nk AND s.metric_sk = v.metric_sk`,
        [JSON.stringify(driftResets)],
      );
    await saveSeries(client, updates);
    await writeTransitions(client, transitions);
    return { ran: true, transitions: transitions.length };
  });
}

async function saveSeries(
  client: Queryable,
  updates: {
    device_nk: string;
    metric_sk: number;
    tracker_state: unknown;
    drift_state?: unknown;
    drift_hour?: string;
  }[],
): Promise<void> {
  if (updates.length === 0) return;
  // A new version: an ingest process holding the series in its cache reads it again before its next write.
  await client.query(
    `UPDATE hub.dq_series_state s SET tracker_state = v.tracker_state,
       drift_state = coalesce(v.drift_state, s.drift_state), drift_hour = coalesce(v.drift_hour, s.drift_hour),
       version = nextval('hub.dq_series_version'), updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS v(device_nk text, metric_sk smallint, tracker_state jsonb,
       drift_state jsonb, drift_hour timestamptz)
     WHERE s.device_nk = v.device_nk AND s.metric_sk = v.metric_sk`,
    [JSON.stringify(updates)],
  );
}

export interface QualityJobsOptions {
  pool: pg.Pool;
  knex: Knex;
  logger: Logger;
  rules?: QualityRules;
  /** @defaultValue drain 2 s, gap 60 s, drift 5 min, calibration due 6 h, calibration step 1 h */
  intervalsMs?: Partial<Record<'drain' | 'gap' | 'drift' | 'calibration' | 'step', number>>;
}

export interface QualityJobs {
  /** Runs every job once now (and drains the alert outbox): tests, `iot-hub quality` tooling. */
  runOnce(now?: number): Promise<void>;
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the periodic jobs and the alert outbox drain (the hub's `quality` stage). */
export function startQualityJobs(options: QualityJobsOptions): QualityJobs {
  const rules = options.rules ?? loadQualityRules();
  const { pool, knex, logger } = options;
  const every = {
    drain: 2_000,
    gap: 60_000,
    drift: 300_000,
    calibration: 6 * HOUR_MS,
    ...options.intervalsMs,
  };
  const running = new Set<Promise<unknown>>();
  let stopped = false;
  const track = (name: string, work: () => Promise<unknown>) => {
    if (stopped) return;
    // OpenLineage: a run of a check that changed something, or failed (docs/lineage.md).
    const p = lineage
      .run(lineage.qualityCheck(name), work, {
        emitIf: (r) => ((r as JobOutcome | undefined)?.transitions ?? 0) > 0,
      })
      .catch((err: unknown) =>
        logger.warn({ err, job: name }, `data-quality job '${name}' failed; will retry`),
      )
      .finally(() => running.delete(p));
    running.add(p);
    return p;
  };
  const drain = async () => {
    const batch = 1000;
    for (let result = await drainAlertOutbox(knex, batch); result?.drained === batch; )
      result = await drainAlertOutbox(knex, batch);
  };
  const jobs = {
    drain,
    gap: () => runGapSweep(pool, rules),
    drift: () => runDrift(pool, rules),
    calibration: () => runCalibrationDue(pool, rules),
    step: () => runCalibrationStep(pool, rules),
  };
  const timers = Object.entries(jobs).map(([name, job]) => {
    const t = setInterval(() => track(name, job), every[name as keyof typeof every]);
    t.unref();
    return t;
  });
  return {
    async runOnce(now = Date.now()) {
      await runGapSweep(pool, rules, now);
      await runDrift(pool, rules, now);
      await runCalibrationDue(pool, rules, now);
      await runCalibrationStep(pool, rules, now);
      await drain();
    },
    drain,
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
    },
  };
}
