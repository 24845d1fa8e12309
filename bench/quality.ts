// `npm run bench -- quality`: how well the data-quality detectors find injected faults, and NAB.
//
// The simulator (src/devtools/simulator) generates a fleet of ≥ 1,000 devices with every value fault injected
// at known times (its ground truth). Its Kafka records are mapped by the real mapping files into canonical
// readings and run in process through the same detector pipeline the ingest runs (SeriesMonitor per series,
// the event hysteresis of src/quality/monitor), without Kafka or PostgreSQL: the full fleet through the real
// ingest takes far longer than a bench should on a shared 2-core machine. Drift needs weeks of hourly means
// with peers, so it has a run of its own (hourly readings over 16 days) through DriftMonitor with the same
// peer grouping as the hub's drift job (same metric, same line). Calibration due is computed from the fleet's
// MDM dates. E1's NAB evaluation (bench/quality-nab.ts) runs when present.
//
// Scoring, per fault type:
//   spike, out_of_range: a reading-level verdict (spike check ≥ 3 on that reading; gross range ≥ 3) on the
//     faulty reading; a detection is a false alarm unless it lies within one slot of an injected spike or
//     out-of-range reading on that series. Delay 0 (the spike verdict comes with the next reading: one slot).
//   stuck: a flat_line event (hysteresis included) opening inside the episode; delay from its start.
//   gap: a gap verdict when readings resume, spanning the injected gap; delay = when the gap sweep (every 60 s)
//     sees the silence pass warn_intervals × the cadence.
//   drift: a drift_cusum or drift_ewma event on the series after the drift started; delay from its start.
//   Every injected fault is scored: one on a series whose rules switch its check off is a miss
//   (faults_where_check_off). The simulator injects stuck and drift only where they change the readings
//   (src/devtools/simulator/series-faults.ts; docs/data-quality.md, "Evaluation").
// --explain N logs N missed faults and false alarms per type with the readings around them; --seed picks the
// fleet (the drift run uses seed + 1), so a second seed checks what was tuned on the first.
// Writes bench/results/quality.json with ratios { recall_min, precision_min, nab_vs_htm }.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSimulationRun, type GroundTruthFault } from '../src/devtools/index.ts';
import { type CompiledMapping, createMappingRouter, loadMappings } from '../src/mapping/index.ts';
import {
  type CheckResult,
  calibrationDue,
  DriftMonitor,
  loadQualityRules,
  parametersFor,
  SeriesMonitor,
} from '../src/quality/detectors/index.ts';
import { emptyTracker, type TrackerState, trackResults } from '../src/quality/monitor/event-tracker.ts';
import { fmt, log, machineInfo, median, round, writeResults } from './lib/bench-kit.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOUR = 3_600_000;
const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '24' },
    interval: { type: 'string', default: '60' },
    'drift-days': { type: 'string', default: '16' },
    seed: { type: 'string', default: '13' },
    /** Run only the fast faults or only drift (for tuning); the results then cover that part. */
    only: { type: 'string' },
    /** Another rules file (for tuning); default connectors/quality-rules.yaml. */
    rules: { type: 'string' },
    out: { type: 'string', default: path.join(here, 'results', 'quality.json') },
    /** Print this many missed faults and false alarms per fault type with the readings around them. */
    explain: { type: 'string', default: '0' },
  },
});
const devices = Number(args.devices);
const explain = Number(args.explain);
const intervalS = Number(args.interval);
const rules = loadQualityRules(args.rules);
const router = createMappingRouter(
  loadMappings(['mappings']).mappings.filter((m: CompiledMapping) => m.source.kind === 'telemetry'),
);
const start = new Date('2026-11-01T00:00:00Z');

interface Series {
  monitor: SeriesMonitor;
  tracker: TrackerState;
  params: ReturnType<typeof parametersFor>;
  lastTs: number | null;
}

interface Score {
  faults: number;
  detected: number;
  detections: number;
  falseAlarms: number;
  delaysS: number[];
  /** Faults on series whose rules switch the check off: misses by configuration. */
  checkOff: number;
  /** False alarms by metric, to see where the parameters need work. */
  falseByMetric: Record<string, number>;
}
const emptyScore = (): Score => ({
  faults: 0,
  detected: 0,
  detections: 0,
  falseAlarms: 0,
  delaysS: [],
  checkOff: 0,
  falseByMetric: {},
});
const falseAlarm = (s: Score, key: string) => {
  s.falseAlarms++;
  const metric = key.split('|')[1] ?? '?';
  s.falseByMetric[metric] = (s.falseByMetric[metric] ?? 0) + 1;
};

/** Maps a simulator record to canonical readings with the real mapping files. */
function readingsOf(
  topic: string,
  value: string,
): { device: string; metric: string; ts: number; value: number }[] {
  const payload = JSON.parse(value);
  const mapping = router.route(payload, { topic } as never);
  if (!mapping) return [];
  const out = [];
  for (const row of mapping.map(payload, { topic } as never).rows) {
    const v = row.value;
    const ts = Date.parse(String(row.ts));
    if (typeof v === 'number' && Number.isFinite(v) && Number.isFinite(ts))
      out.push({ device: String(row.device_id), metric: String(row.metric), ts, value: v });
  }
  return out;
}

/** Spike, out of range, stuck and gap over the full fleet at the device cadence. */
function fastFaults() {
  const run = createSimulationRun({
    seed: Number(args.seed),
    devices,
    durationMs: Number(args.hours) * HOUR,
    intervalMs: intervalS * 1000,
    start,
    faults: { spike: 0.0001, out_of_range: 0.00005, stuck: 0.00002, gap: 0.00005 },
  });
  const specs = new Map<
    string,
    { rangeMin: number; rangeMax: number; resolution: number; criticality: string | null }
  >();
  const assets = new Map(run.fleet.assets.map((a) => [a.assetId, a]));
  for (const d of run.fleet.devices)
    for (const m of d.metrics)
      specs.set(`${d.deviceId}|${m.metric}`, {
        rangeMin: m.rangeMin,
        rangeMax: m.rangeMax,
        resolution: m.resolution,
        criticality: (d.assetId && assets.get(d.assetId)?.criticality) || null,
      });
  const firstMetric = new Map(run.fleet.devices.map((d) => [d.deviceId, d.metrics[0].metric as string]));
  const series = new Map<string, Series>();
  const history = new Map<string, [number, number][]>();
  const spikeSigma = new Map<string, number>();
  const spikeFlags = new Map<string, Set<number>>();
  const rangeFlags = new Map<string, Set<number>>();
  const flatOpens: { key: string; at: number }[] = [];
  const gapsSeen: { device: string; from: number; to: number }[] = [];
  let readings = 0;
  const started = performance.now();
  const add = (m: Map<string, Set<number>>, key: string, ts: number) => {
    const s = m.get(key) ?? new Set<number>();
    s.add(ts);
    m.set(key, s);
  };
  for (const record of run.records()) {
    for (const r of readingsOf(record.topic, record.value)) {
      readings++;
      const key = `${r.device}|${r.metric}`;
      let s = series.get(key);
      if (!s) {
        const spec = specs.get(key);
        const params = parametersFor(rules, r.metric, spec?.criticality ?? null);
        s = {
          monitor: new SeriesMonitor(
            {
              metric: r.metric,
              rangeMin: spec?.rangeMin,
              rangeMax: spec?.rangeMax,
              resolution: spec?.resolution,
              expectedIntervalS: intervalS,
            },
            params,
          ),
          tracker: emptyTracker(),
          params,
          lastTs: null,
        };
        series.set(key, s);
      }
      const out = s.monitor.observe({ ts: r.ts, value: r.value });
      if (!out) continue;
      if (explain > 0) {
        const h = history.get(key) ?? [];
        h.push([r.ts, r.value]);
        history.set(key, h);
      }
      for (const c of out.results) {
        if (c.flag !== 3 && c.flag !== 4) continue;
        if (c.check === 'spike') {
          add(spikeFlags, key, Number(c.details.readingTs));
          if (explain > 0) spikeSigma.set(`${key}|${c.details.readingTs}`, Number(c.details.sigma));
        } else if (c.check === 'gross_range') add(rangeFlags, key, r.ts);
        else if (c.check === 'gap' && s.lastTs !== null && r.metric === firstMetric.get(r.device))
          gapsSeen.push({ device: r.device, from: s.lastTs, to: r.ts });
      }
      const flat = out.results.filter((c) => c.check === 'flat_line');
      for (const t of trackResults(s.tracker, flat, r.ts, s.params))
        if (t.kind === 'open') flatOpens.push({ key, at: t.at });
      s.lastTs = r.ts;
    }
  }
  // The gap sweep at the end of the window: series still silent (a gap running past the end) are seen then.
  for (const [key, s] of series) {
    const [device, metric] = key.split('|') as [string, string];
    if (metric !== firstMetric.get(device) || s.lastTs === null) continue;
    const gap = s.monitor.gapAt(run.endMs);
    if (gap.flag === 3 || gap.flag === 4) gapsSeen.push({ device, from: s.lastTs, to: run.endMs });
  }
  const seconds = (performance.now() - started) / 1000;
  const truth = run.faults;
  return {
    truth,
    spikeFlags,
    rangeFlags,
    flatOpens,
    gapsSeen,
    firstMetric,
    readings,
    seconds,
    series: series.size,
    fleet: run.fleet,
    endMs: run.endMs,
    history,
    spikeSigma,
  };
}

/** The readings of a series around `ts` (for --explain). */
function around(f: ReturnType<typeof fastFaults>, key: string, ts: number, before = 3, after = 3): string {
  const h = f.history.get(key) ?? [];
  const i = h.findIndex(([t]) => t >= ts);
  const at = i < 0 ? h.length : i;
  return h
    .slice(Math.max(0, at - before), at + after + 1)
    .map(([t, v]) => (t === ts ? `[${v}]` : String(v)))
    .join(' ');
}

function scoreFast(f: ReturnType<typeof fastFaults>): Record<string, Score> {
  const slot = intervalS * 1000;
  const of = <K extends GroundTruthFault['kind']>(kind: K) =>
    f.truth.filter((t): t is Extract<GroundTruthFault, { kind: K }> => t.kind === kind);
  const valueFaults = new Map<string, number[]>();
  for (const t of [...of('spike'), ...of('out_of_range')]) {
    const key = `${t.device_id}|${t.metric}`;
    valueFaults.set(key, [...(valueFaults.get(key) ?? []), Date.parse(t.ts)]);
  }
  const nearFault = (key: string, ts: number) =>
    (valueFaults.get(key) ?? []).some((x) => Math.abs(x - ts) <= slot * 1.5);
  const readingScore = (kind: 'spike' | 'out_of_range', flags: Map<string, Set<number>>): Score => {
    const s = emptyScore();
    for (const t of of(kind)) {
      s.faults++;
      const ts = Date.parse(t.ts);
      const key = `${t.device_id}|${t.metric}`;
      if ([...(flags.get(key) ?? [])].some((x) => Math.abs(x - ts) < slot / 2)) {
        s.detected++;
        s.delaysS.push(kind === 'spike' ? intervalS : 0);
      } else if (s.faults - s.detected <= explain)
        log(`  missed ${kind} ${key} ${t.ts}: ${around(f, key, ts)}`);
    }
    for (const [key, set] of flags)
      for (const ts of set) {
        s.detections++;
        if (!nearFault(key, ts)) {
          falseAlarm(s, key);
          if (s.falseAlarms <= explain)
            log(
              `  false ${kind} ${key} ${new Date(ts).toISOString()} sigma ${f.spikeSigma.get(`${key}|${ts}`)}: ${around(f, key, ts)}`,
            );
        }
      }
    return s;
  };
  const stuck = emptyScore();
  const allStuck = of('stuck').map((t) => ({
    key: `${t.device_id}|${t.metric}`,
    metric: t.metric,
    from: Date.parse(t.start),
    to: Date.parse(t.end),
  }));
  // Every episode counts: one on a series whose rules switch the flat line off is a miss (and counted in
  // faults_where_check_off), never left out of the ratios.
  for (const e of allStuck) {
    stuck.faults++;
    if (!parametersFor(rules, e.metric).flatLine.enabled) stuck.checkOff++;
    const hit = f.flatOpens.find((o) => o.key === e.key && o.at >= e.from && o.at <= e.to + slot);
    if (hit) {
      stuck.detected++;
      stuck.delaysS.push((hit.at - e.from) / 1000);
    } else if (stuck.faults - stuck.detected <= explain)
      log(
        `  missed stuck ${e.key} ${new Date(e.from).toISOString()} for ${round((e.to - e.from) / HOUR, 2)} h: ${around(f, e.key, e.from, 5, 5)}`,
      );
  }
  for (const o of f.flatOpens) {
    stuck.detections++;
    if (!allStuck.some((e) => e.key === o.key && o.at >= e.from && o.at <= e.to + slot)) {
      falseAlarm(stuck, o.key);
      if (stuck.falseAlarms <= explain)
        log(`  false stuck ${o.key} ${new Date(o.at).toISOString()}: ${around(f, o.key, o.at, 8, 2)}`);
    }
  }
  const gap = emptyScore();
  const gapTruth = of('gap').map((t) => ({
    device: t.device_id,
    from: Date.parse(t.start),
    to: Date.parse(t.end),
  }));
  const warn = parametersFor(rules, 'temperature').gap.warnIntervals;
  for (const g of gapTruth) {
    gap.faults++;
    const hit = f.gapsSeen.find((s) => s.device === g.device && s.from < g.to && s.to > g.from);
    if (hit) {
      gap.detected++;
      // The sweep (every 60 s) sees the silence once it passes warn_intervals × the cadence.
      const seenAt = hit.from + warn * intervalS * 1000;
      gap.delaysS.push((Math.ceil(seenAt / 60_000) * 60_000 - g.from) / 1000);
    }
  }
  for (const s of f.gapsSeen) {
    gap.detections++;
    if (!gapTruth.some((g) => g.device === s.device && s.from < g.to && s.to > g.from))
      falseAlarm(gap, `${s.device}|${f.firstMetric.get(s.device)}`);
  }
  return {
    spike: readingScore('spike', f.spikeFlags),
    out_of_range: readingScore('out_of_range', f.rangeFlags),
    stuck,
    gap,
  };
}

/** Drift over hourly readings (hourly means), peers on the same line. */
function driftRun(): { score: Score; readings: number; seconds: number; series: number } {
  const days = Number(args['drift-days']);
  const run = createSimulationRun({
    seed: Number(args.seed) + 1,
    devices,
    durationMs: days * 24 * HOUR,
    intervalMs: HOUR,
    start,
    faults: { drift: 0.05 },
  });
  const assets = new Map(run.fleet.assets.map((a) => [a.assetId, a]));
  const lineOf = new Map(
    run.fleet.devices.map((d) => [d.deviceId, (d.assetId && assets.get(d.assetId)?.path[2]) || d.deviceId]),
  );
  const byHour = new Map<number, { device: string; metric: string; value: number }[]>();
  let readings = 0;
  const started = performance.now();
  for (const record of run.records())
    for (const r of readingsOf(record.topic, record.value)) {
      readings++;
      const hour = Math.floor(r.ts / HOUR) * HOUR;
      const list = byHour.get(hour) ?? [];
      list.push({ device: r.device, metric: r.metric, value: r.value });
      byHour.set(hour, list);
    }
  const monitors = new Map<
    string,
    { drift: DriftMonitor; tracker: TrackerState; params: ReturnType<typeof parametersFor> }
  >();
  const opens: { key: string; at: number }[] = [];
  let explainedDrift = 0;
  const driftStart = new Map(
    run.faults.flatMap((t) =>
      t.kind === 'drift' ? [[`${t.device_id}|${t.metric}`, Date.parse(t.start)]] : [],
    ),
  );
  const drifting = new Set(driftStart.keys());
  // The asset's criticality is its asset class in the rules (critical assets alarm sooner), as in the hub.
  const criticalityOf = new Map(
    run.fleet.devices.map((d) => [d.deviceId, (d.assetId && assets.get(d.assetId)?.criticality) || null]),
  );
  const monitorOf = (key: string, metric: string) => {
    let m = monitors.get(key);
    if (!m) {
      const params = parametersFor(rules, metric, criticalityOf.get(key.split('|')[0]!) ?? null);
      m = { drift: new DriftMonitor(params), tracker: emptyTracker(), params };
      monitors.set(key, m);
    }
    return m;
  };
  for (const hour of [...byHour.keys()].sort((a, b) => a - b)) {
    const rows = byHour.get(hour)!;
    // Every series' own anomaly first (the drift job does the same): they are each other's peers.
    const groups = new Map<string, { device: string; anomaly: number | null }[]>();
    for (const r of rows) {
      const g = `${lineOf.get(r.device)}|${r.metric}`;
      const anomaly = monitorOf(`${r.device}|${r.metric}`, r.metric).drift.anomaly(hour, r.value);
      groups.set(g, [...(groups.get(g) ?? []), { device: r.device, anomaly }]);
    }
    for (const r of rows) {
      const key = `${r.device}|${r.metric}`;
      const m = monitorOf(key, r.metric);
      const peers = groups
        .get(`${lineOf.get(r.device)}|${r.metric}`)!
        .filter((p) => p.device !== r.device)
        .map((p) => p.anomaly);
      const results: CheckResult[] = m.drift.observeHour(hour, r.value, peers);
      for (const t of trackResults(m.tracker, results, hour + HOUR, m.params))
        if (t.kind === 'open') {
          opens.push({ key, at: t.at });
          if (explain > 0 && !drifting.has(key) && explainedDrift++ < explain * 3) {
            const d = t.result.details;
            // Peers already drifting at this hour move the peers' median (with few peers, by a noise sigma).
            const line = groups.get(`${lineOf.get(r.device)}|${r.metric}`)!;
            const peersDrifting = line.filter(
              (p) => p.device !== r.device && (driftStart.get(`${p.device}|${r.metric}`) ?? Infinity) <= hour,
            ).length;
            log(
              `  drift open ${key} ${new Date(hour).toISOString()} ${t.check} obs ${round(Number(t.result.observed), 2)} z ${round(Number(d.z), 2)} r ${round(Number(d.residual), 2)} centre ${round(Number(d.baselineCentre), 2)} sigma ${round(Number(d.baselineSigma), 3)} serial ${round(Number(d.serialFactor), 2)} peers ${line.length - 1} (${peersDrifting} drifting)`,
            );
          }
        }
    }
  }
  const score = emptyScore();
  // Every drift counts: one on a series whose rules switch drift off is a miss (faults_where_check_off).
  const truth = run.faults.flatMap((t) =>
    t.kind === 'drift'
      ? [{ key: `${t.device_id}|${t.metric}`, metric: t.metric, from: Date.parse(t.start) }]
      : [],
  );
  for (const t of truth) {
    score.faults++;
    if (!parametersFor(rules, t.metric).drift.enabled) score.checkOff++;
    const hit = opens.filter((o) => o.key === t.key && o.at >= t.from).sort((a, b) => a.at - b.at)[0];
    if (hit) {
      score.detected++;
      score.delaysS.push((hit.at - t.from) / 1000);
    }
  }
  const firstOpen = new Map<string, number>();
  for (const o of opens) {
    score.detections++;
    if (!truth.some((t) => t.key === o.key && o.at >= t.from)) falseAlarm(score, o.key);
    if (!firstOpen.has(o.key)) firstOpen.set(o.key, o.at);
  }
  return { score, readings, seconds: (performance.now() - started) / 1000, series: monitors.size };
}

let fast: ReturnType<typeof fastFaults> | null = null;
let drift: ReturnType<typeof driftRun> | null = null;

function summary(s: Score) {
  return {
    faults: s.faults,
    detected: s.detected,
    detections: s.detections,
    false_alarms: s.falseAlarms,
    recall: s.faults ? round(s.detected / s.faults, 3) : null,
    precision: s.detections ? round((s.detections - s.falseAlarms) / s.detections, 3) : null,
    median_delay_s: s.delaysS.length ? round(median(s.delaysS), 0) : null,
    faults_where_check_off: s.checkOff,
    false_alarms_by_metric: s.falseByMetric,
  };
}

const scores: Record<string, ReturnType<typeof summary>> = {};
if (args.only !== 'drift') {
  log(`fast faults: ${fmt(devices)} devices, ${args.hours} h at ${intervalS} s`);
  fast = fastFaults();
  log(`  ${fmt(fast.readings)} readings, ${fmt(fast.series)} series in ${round(fast.seconds, 1)} s`);
  for (const [kind, s] of Object.entries(scoreFast(fast))) scores[kind] = summary(s);
}
if (args.only !== 'fast') {
  log(`drift: ${fmt(devices)} devices, ${args['drift-days']} days of hourly readings`);
  drift = driftRun();
  log(`  ${fmt(drift.readings)} readings, ${fmt(drift.series)} series in ${round(drift.seconds, 1)} s`);
  scores.drift = summary(drift.score);
}

// Calibration due: the fleet's MDM dates at the end of the window, against the due dates MDM states.
const calibration = emptyScore();
for (const d of fast?.fleet.devices ?? []) {
  const dueMs = Date.parse(d.calibrationDue);
  const endMs = fast?.endMs ?? 0;
  const truthDue = dueMs - 14 * 24 * HOUR <= endMs;
  const r = calibrationDue(
    { lastCalibratedAt: d.lastCalibratedAt.getTime(), intervalDays: d.calibrationIntervalDays },
    endMs,
    parametersFor(rules, d.metrics[0].metric),
  );
  const flagged = r.flag === 3 || r.flag === 4;
  if (truthDue) calibration.faults++;
  if (truthDue && flagged) calibration.detected++;
  if (flagged) calibration.detections++;
  if (flagged && !truthDue) calibration.falseAlarms++;
}
const calibrationSummary = summary(calibration);
for (const [k, v] of Object.entries(scores)) log(`  ${k.padEnd(13)} ${JSON.stringify(v)}`);
log(
  `  calibration_due ${JSON.stringify(calibrationSummary)} (same formula as MDM's due date: a consistency check)`,
);

let nab: { score?: unknown; [k: string]: unknown } | null = null;
const nabFile = path.join(here, 'quality-nab.ts');
if (existsSync(nabFile) && !args.only) {
  const mod = (await import(nabFile)) as { runNabEvaluation?: () => Promise<unknown> | unknown };
  if (mod.runNabEvaluation) nab = (await mod.runNabEvaluation()) as { score?: unknown };
}
const nabScore = nab && typeof nab.score === 'number' ? nab.score : null;
if (nab) log(`NAB (realKnownCause, standard profile): ${nabScore}`);
else log('NAB: bench/quality-nab.ts (runNabEvaluation) not present; nab_vs_htm is null');

const kinds = ['drift', 'stuck', 'gap', 'spike', 'out_of_range'] as const;
const recalls = kinds.map((k) => scores[k]?.recall).filter((x): x is number => typeof x === 'number');
const precisions = kinds.map((k) => scores[k]?.precision).filter((x): x is number => typeof x === 'number');
const ratios = {
  recall_min: recalls.length ? Math.min(...recalls) : null,
  precision_min: precisions.length ? Math.min(...precisions) : null,
  nab_vs_htm: nabScore === null ? null : round(nabScore / 55.5, 3),
};
log(`ratios ${JSON.stringify(ratios)}`);
writeResults(args.out, {
  command: 'npm run bench -- quality',
  measured_at: new Date().toISOString(),
  method:
    'simulator ground truth; readings mapped by the real mapping files and run in process through SeriesMonitor / DriftMonitor and the event hysteresis of src/quality/monitor (not through Kafka and PostgreSQL). Every injected fault is scored, none left out of the ratios (a fault where the rules switch its check off counts as a miss: faults_where_check_off). The simulator injects a stuck episode only on series whose noise moves a healthy reading by at least its resolution, and a drift only on series without a trend of their own: a healthy battery gauge (whole percent, noise 0.2 %) shows one value for hours, so a 1–6 h freeze changes nothing it reports; a drift on a battery discharging 0.2–1.2 % a day reads as another discharge rate (only an upward drift faster than the discharge, a gauge that climbs, could be told apart, and no check looks for that yet) (docs/data-quality.md, "Evaluation").',
  fast_run: fast && {
    devices,
    hours: Number(args.hours),
    interval_s: intervalS,
    readings: fast.readings,
    series: fast.series,
    seconds: round(fast.seconds, 1),
  },
  drift_run: drift && {
    devices,
    days: Number(args['drift-days']),
    interval_s: 3600,
    readings: drift.readings,
    series: drift.series,
    seconds: round(drift.seconds, 1),
  },
  per_fault: { ...scores, calibration_due: calibrationSummary },
  nab,
  ratios,
  goals: {
    'recall_min>=0.95': ratios.recall_min !== null && ratios.recall_min >= 0.95,
    'precision_min>=0.9': ratios.precision_min !== null && ratios.precision_min >= 0.9,
    'nab_vs_htm>=1': ratios.nab_vs_htm !== null && ratios.nab_vs_htm >= 1,
  },
  machine: machineInfo({}),
});
