import type { Queryable } from '../../db/index.ts';
import {
  type CheckParameters,
  loadQualityRules,
  parametersFor,
  type QartodFlag,
  type QualityRules,
  SeriesMonitor,
  type SeriesSpec,
  type SeriesState,
} from '../detectors/index.ts';
import { recordPastEvent, type SeriesTransition, writeTransitions } from './dq-events.ts';
import {
  combineFlags,
  markClosed,
  noteReading,
  type TrackerState,
  trackerFrom,
  trackResults,
} from './event-tracker.ts';

/** The part of a fact the stage reads and flags (src/warehouse FactReading has these fields). */
export interface MonitoredFact {
  deviceSk: number;
  assetSk: number;
  metricSk: number;
  tsMs: number;
  value: number | null;
  quality: number;
}

/** One device × metric series as this process last saw it in hub.dq_series_state. */
interface SeriesEntry {
  deviceNk: string;
  metricSk: number;
  /** hub.dq_series_state.version; 0: no row yet. */
  version: number;
  referenceVersion: number;
  spec: SeriesSpec;
  params: CheckParameters;
  assetNk: string | null;
  metricCode: string;
  /**
   * The live detector and event tracker, as of `version` once a write succeeded. A batch advances them in place;
   * when its write then finds another version stored (another process, or this batch's own rollback), the entry
   * is read again, so a rolled-back batch never leaves its readings in what the next batch builds on.
   */
  monitor: SeriesMonitor;
  tracker: TrackerState;
  lastTs: number | null;
}

interface SpecRow {
  device_sk: string | number;
  metric_sk: number;
  device_nk: string;
  installed_asset_nk: string | null;
  metric_code: string;
  canonical_unit: string | null;
  range_min: number | null;
  range_max: number | null;
  resolution: number | null;
  expected_interval_s: number | null;
  criticality: string | null;
  version: string | number | null;
  monitor_state: SeriesState | null;
  tracker_state: unknown;
  last_ts: Date | null;
}

const yieldEveryReadings = 2_000;

export interface StreamStats {
  series: number;
  /** Series read from the database (cache misses, reference changes, conflicts with another process). */
  loaded: number;
  conflicts: number;
  transitions: number;
}

/**
 * The streaming data-quality stage of the ingest (docs/data-quality.md, "In the pipeline"): between enrich and
 * load, in the batch's transaction. It runs each series' SeriesMonitor over the batch's readings in time order,
 * sets each fact's quality_code, and writes the series states, dq events and alert outbox rows in that same
 * transaction, so a rollback takes them back with the readings.
 *
 * States are cached per instance (one per ingest) keyed by their row version, so the usual batch reads nothing:
 * the write is conditional on the cached version, and a series another process wrote in between (a partition
 * handed over) is read again under a row lock and evaluated again before anything else is written.
 */
export class StreamQualityStage {
  private readonly rules: QualityRules;
  private readonly entries = new Map<string, SeriesEntry>();
  /** device_sk → device_nk: a version key always belongs to one device. */
  private readonly deviceNks = new Map<number, string>();

  constructor(rules?: QualityRules) {
    this.rules = rules ?? loadQualityRules();
  }

  async assess(client: Queryable, facts: MonitoredFact[], referenceVersion: number): Promise<StreamStats> {
    const stats: StreamStats = { series: 0, loaded: 0, conflicts: 0, transitions: 0 };
    const bySeries = new Map<string, MonitoredFact[]>();
    const skOf = new Map<string, number>();
    const unknownSks = new Set<number>();
    for (const f of facts) {
      if (f.value === null || f.deviceSk <= 0 || f.metricSk <= 0 || !Number.isFinite(f.tsMs)) continue;
      const nk = this.deviceNks.get(f.deviceSk);
      const key = nk === undefined ? `#${f.deviceSk}:${f.metricSk}` : seriesKey(nk, f.metricSk);
      if (nk === undefined) unknownSks.add(f.deviceSk);
      const list = bySeries.get(key);
      if (list) list.push(f);
      else bySeries.set(key, [f]);
      skOf.set(key, f.deviceSk);
    }
    if (bySeries.size === 0) return stats;
    // Series this process does not know (or knows from before a reference change): one statement.
    const toLoad: [number, number][] = [];
    for (const [key, list] of bySeries) {
      const entry = this.entries.get(key);
      if (!entry || entry.referenceVersion !== referenceVersion)
        toLoad.push([list[0]!.deviceSk, list[0]!.metricSk]);
    }
    if (toLoad.length > 0) {
      stats.loaded += await this.load(client, toLoad, referenceVersion, false);
      // Keys by device_sk become keys by device: merge series of one device seen under several versions.
      if (unknownSks.size > 0) {
        for (const [key, list] of [...bySeries]) {
          if (!key.startsWith('#')) continue;
          bySeries.delete(key);
          const nk = this.deviceNks.get(list[0]!.deviceSk);
          if (nk === undefined) continue; // not in dw.dim_device: left unflagged
          const real = seriesKey(nk, list[0]!.metricSk);
          const other = bySeries.get(real);
          if (other) other.push(...list);
          else bySeries.set(real, list);
        }
      }
    }
    for (const list of bySeries.values()) list.sort((a, b) => a.tsMs - b.tsMs);
    const original = new Map<MonitoredFact, number>();
    for (const list of bySeries.values()) for (const f of list) original.set(f, f.quality);

    try {
      return await this.evaluateAndWrite(client, bySeries, skOf, original, referenceVersion, stats);
    } catch (err) {
      // The live monitors may hold readings nothing was written for: read these series again next time.
      for (const key of bySeries.keys()) this.entries.delete(key);
      throw err;
    }
  }

  private async evaluateAndWrite(
    client: Queryable,
    bySeries: Map<string, MonitoredFact[]>,
    skOf: Map<string, number>,
    original: Map<MonitoredFact, number>,
    referenceVersion: number,
    stats: StreamStats,
  ): Promise<StreamStats> {
    let pending = [...bySeries.keys()].filter((k) => this.entries.has(k)).sort();
    stats.series = pending.length;
    const results = new Map<string, Evaluation>();
    for (let attempt = 0; pending.length > 0; attempt++) {
      let sinceYield = 0;
      for (const key of pending) {
        const list = bySeries.get(key)!;
        for (const f of list) f.quality = original.get(f)!;
        results.set(key, evaluate(this.entries.get(key)!, list));
        // A large batch is seconds of detector work: let the Kafka heartbeats (and other partitions) run.
        sinceYield += list.length;
        if (sinceYield >= yieldEveryReadings) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const conflicts = await this.persist(
        client,
        pending.map((k) => [this.entries.get(k)!, results.get(k)!] as const),
      );
      if (conflicts.length === 0) break;
      if (attempt >= 3)
        throw new Error(`dq series state kept changing under this batch: ${conflicts.join(', ')}`);
      stats.conflicts += conflicts.length;
      // Another process wrote these series: read them again, locked, and evaluate them again.
      const reload = conflicts.map(
        (k) =>
          [skOf.get(k) ?? bySeries.get(k)![0]!.deviceSk, this.entries.get(k)!.metricSk] as [number, number],
      );
      stats.loaded += await this.load(client, reload, referenceVersion, true);
      pending = conflicts;
    }

    const transitions: SeriesTransition[] = [];
    for (const [key, ev] of results) {
      const entry = this.entries.get(key)!;
      for (const t of ev.transitions)
        transitions.push({
          transition: t.transition,
          deviceSk: t.fact.deviceSk,
          assetSk: t.fact.assetSk,
          metricSk: entry.metricSk,
          deviceNk: entry.deviceNk,
          assetNk: entry.assetNk,
          metricCode: entry.metricCode,
          parameters: parametersOf(entry.params, t.transition.check),
        });
      for (const gap of ev.pastGaps)
        await recordPastEvent(client, { ...gap, metricSk: entry.metricSk, check: 'gap' });
    }
    const earlier = [...results.values()].flatMap((ev) => ev.earlierFlags);
    if (earlier.length > 0)
      await client.query(
        `UPDATE dw.fact_sensor_reading f SET quality_code = v.flag
         FROM jsonb_to_recordset($1::jsonb) AS v(device_sk bigint, metric_sk smallint, ts timestamptz, flag smallint)
         WHERE f.device_sk = v.device_sk AND f.metric_sk = v.metric_sk AND f.reading_ts = v.ts
           AND (f.quality_code IN (1, 2) OR (f.quality_code = 3 AND v.flag = 4))`,
        [
          JSON.stringify(
            earlier.map((e) => ({
              device_sk: e.deviceSk,
              metric_sk: e.metricSk,
              ts: new Date(e.ts),
              flag: e.flag,
            })),
          ),
        ],
      );
    await writeTransitions(client, transitions);
    stats.transitions = transitions.length;
    return stats;
  }

  /** Forgets every cached series (tests; a process that lost its partitions keeps working either way). */
  clear(): void {
    this.entries.clear();
  }

  private async load(
    client: Queryable,
    keys: readonly [number, number][],
    referenceVersion: number,
    lock: boolean,
  ): Promise<number> {
    const { rows } = await client.query<SpecRow>(
      `SELECT k.device_sk, k.metric_sk, d.device_nk, d.installed_asset_nk, m.metric_code, m.canonical_unit,
              coalesce(d.range_min, m.valid_min) AS range_min, coalesce(d.range_max, m.valid_max) AS range_max,
              d.resolution, d.expected_interval_s, a.criticality, s.version, s.monitor_state, s.tracker_state, s.last_ts
       FROM unnest($1::bigint[], $2::smallint[]) AS k(device_sk, metric_sk)
       JOIN dw.dim_device d ON d.device_sk = k.device_sk
       JOIN dw.dim_metric m ON m.metric_sk = k.metric_sk
       LEFT JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
       ${lock ? 'JOIN' : 'LEFT JOIN'} hub.dq_series_state s ON s.device_nk = d.device_nk AND s.metric_sk = k.metric_sk
       ORDER BY d.device_nk, k.metric_sk
       ${lock ? 'FOR UPDATE OF s' : ''}`,
      [keys.map((k) => k[0]), keys.map((k) => k[1])],
    );
    for (const r of rows) {
      const deviceSk = Number(r.device_sk);
      this.deviceNks.set(deviceSk, r.device_nk);
      const spec: SeriesSpec = {
        metric: r.metric_code,
        unit: r.canonical_unit,
        rangeMin: r.range_min,
        rangeMax: r.range_max,
        resolution: r.resolution,
        expectedIntervalS: r.expected_interval_s,
      };
      const params = parametersFor(this.rules, r.metric_code, r.criticality);
      this.entries.set(seriesKey(r.device_nk, r.metric_sk), {
        deviceNk: r.device_nk,
        metricSk: r.metric_sk,
        version: r.version === null ? 0 : Number(r.version),
        referenceVersion,
        spec,
        params,
        assetNk: r.installed_asset_nk,
        metricCode: r.metric_code,
        monitor: new SeriesMonitor(spec, params, r.monitor_state ?? undefined),
        tracker: trackerFrom(r.tracker_state),
        lastTs: r.last_ts ? r.last_ts.getTime() : null,
      });
    }
    return rows.length;
  }

  /**
   * Writes the new states where the stored version is still the cached one (or no row exists for a new series),
   * in one statement; returns the keys another process wrote meanwhile (not written). Written entries take the
   * new state and version at once: if the batch rolls back, the next write finds the version changed and reads.
   */
  private async persist(
    client: Queryable,
    items: readonly (readonly [SeriesEntry, Evaluation])[],
  ): Promise<string[]> {
    const rows = items.map(([e, ev]) => ({
      device_nk: e.deviceNk,
      metric_sk: e.metricSk,
      expected: e.version,
      last_ts: ev.lastTs === null ? null : new Date(ev.lastTs).toISOString(),
      monitor_state: e.monitor.state(),
      tracker_state: e.tracker,
    }));
    const { rows: written } = await client.query<{
      device_nk: string;
      metric_sk: number;
      version: string | number;
    }>(
      // excluded.version carries the cached version: the update applies only where it is still the stored one.
      // A new series (cached version 0) inserts with a fresh version, or conflicts with a row another wrote.
      `INSERT INTO hub.dq_series_state AS s (device_nk, metric_sk, version, last_ts, monitor_state, tracker_state)
       SELECT device_nk, metric_sk, CASE WHEN expected = 0 THEN nextval('hub.dq_series_version') ELSE expected END,
              last_ts, monitor_state, tracker_state
       FROM jsonb_to_recordset($1::jsonb) AS v(device_nk text, metric_sk smallint, expected bigint,
              last_ts timestamptz, monitor_state jsonb, tracker_state jsonb)
       ORDER BY device_nk, metric_sk
       ON CONFLICT (device_nk, metric_sk) DO UPDATE SET version = nextval('hub.dq_series_version'),
         last_ts = excluded.last_ts, monitor_state = excluded.monitor_state, tracker_state = excluded.tracker_state,
         updated_at = now()
       WHERE s.version = excluded.version
       RETURNING device_nk, metric_sk, version`,
      [JSON.stringify(rows)],
    );
    const byKey = new Map(items.map((item) => [seriesKey(item[0].deviceNk, item[0].metricSk), item]));
    const done = new Set<string>();
    for (const w of written) {
      const key = seriesKey(w.device_nk, w.metric_sk);
      const item = byKey.get(key);
      if (!item) continue;
      done.add(key);
      const [entry, ev] = item;
      entry.version = Number(w.version);
      entry.lastTs = ev.lastTs;
    }
    return items.map(([e]) => seriesKey(e.deviceNk, e.metricSk)).filter((k) => !done.has(k));
  }
}

interface Evaluation {
  lastTs: number | null;
  transitions: { transition: SeriesTransition['transition']; fact: MonitoredFact }[];
  /** Spike verdicts on readings of an earlier batch (already stored). */
  earlierFlags: { deviceSk: number; metricSk: number; ts: number; flag: QartodFlag }[];
  pastGaps: {
    deviceSk: number;
    assetSk: number;
    severity: string;
    from: number;
    to: number;
    observed: number | null;
    threshold: number | null;
    details: Record<string, unknown>;
  }[];
}

/** Runs one series' readings (in time order), advancing the entry's live monitor and tracker. */
function evaluate(entry: SeriesEntry, facts: readonly MonitoredFact[]): Evaluation {
  const { monitor, tracker } = entry;
  const ev: Evaluation = {
    lastTs: entry.lastTs,
    transitions: [],
    pastGaps: [],
    earlierFlags: [],
  };
  const byTs = new Map<number, MonitoredFact>();
  for (const f of facts) {
    // A flat line is legitimate while a work order is open on the device (enrich marked the reading 3).
    const out = monitor.observe({ ts: f.tsMs, value: f.value! }, { assetIdle: f.quality === 3 });
    if (!out) continue; // not newer than the last reading seen: not evaluated, keeps its flag
    byTs.set(f.tsMs, f);
    // The spike check judges the previous reading (details.readingTs); the rest judge this one.
    let flag: QartodFlag = 2;
    for (const r of out.results) {
      if (r.check !== 'spike') flag = combineFlags(flag, r.flag) as QartodFlag;
      else if (r.flag === 3 || r.flag === 4) {
        const ts = Number(r.details.readingTs);
        const target = byTs.get(ts);
        if (target) target.quality = combineFlags(target.quality, r.flag);
        else ev.earlierFlags.push({ deviceSk: f.deviceSk, metricSk: f.metricSk, ts, flag: r.flag });
      } else flag = combineFlags(flag, r.flag) as QartodFlag;
    }
    f.quality = combineFlags(f.quality, flag);
    const previous = ev.lastTs;
    ev.lastTs = f.tsMs;
    // Readings resumed: a gap event (opened by the gap sweep) closes; a gap noticed only now is recorded.
    const gap = out.results.find((r) => r.check === 'gap');
    if (markClosed(tracker, 'gap'))
      ev.transitions.push({
        transition: { kind: 'close', check: 'gap', at: f.tsMs, result: gap ?? null },
        fact: f,
      });
    else if (gap && (gap.flag === 3 || gap.flag === 4) && previous !== null)
      ev.pastGaps.push({
        deviceSk: f.deviceSk,
        assetSk: f.assetSk,
        severity: gap.severity,
        from: previous,
        to: f.tsMs,
        observed: gap.observed,
        threshold: gap.threshold,
        details: { ...gap.details, noticed: 'when readings resumed' },
      });
    const others = out.results.filter((r) => r.check !== 'gap');
    for (const r of others) {
      const at = r.check === 'spike' && r.flag !== 2 ? Number(r.details.readingTs) : f.tsMs;
      for (const t of trackResults(tracker, [r], at, entry.params))
        ev.transitions.push({ transition: t, fact: f });
    }
    noteReading(tracker, f.tsMs, f.value!);
  }
  return ev;
}

function seriesKey(deviceNk: string, metricSk: number): string {
  return `${deviceNk}\u0000${metricSk}`;
}

/** The parameters of one check, for the evidence a person reads in the incident. */
export function parametersOf(params: CheckParameters, check: string): unknown {
  const byCheck: Record<string, unknown> = {
    gross_range: params.grossRange,
    spike: { ...params.spike, sigma: params.sigma },
    rate_of_change: { ...params.rateOfChange, sigma: params.sigma },
    flat_line: params.flatLine,
    gap: params.gap,
    drift_cusum: params.drift,
    drift_ewma: params.drift,
    calibration_due: params.calibrationDue,
    calibration_step: params.calibrationStep,
  };
  return {
    check: byCheck[check] ?? null,
    openAfter: params.openAfter,
    openAfterFail: params.openAfterFail,
    closeAfter: params.closeAfter,
  };
}
