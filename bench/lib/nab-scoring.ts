// NAB (Numenta Anomaly Benchmark) scoring, written from its documented rules (docs/data-quality.md, "NAB
// scoring"): anomaly windows from labels/combined_windows.json, the first 15% of each file (at most 750 rows)
// is probationary, the earliest detection in a window scores by a scaled sigmoid of its position, detections
// outside windows cost the false-positive weight (less just after a window), each missed window costs the
// false-negative weight, and one threshold per detector and profile is chosen over all files.
import { readFileSync } from 'node:fs';

export interface NabProfile {
  name: string;
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's application profiles (A_TP, A_FP, A_FN); A_TN is unused by the score. */
export const NAB_PROFILES = {
  standard: { name: 'standard', tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { name: 'reward_low_FP_rate', tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { name: 'reward_low_FN_rate', tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
} as const satisfies Record<string, NabProfile>;

/** 2/(1+e^{5y}) − 1: ~0.98661 at the window's left edge (y = −1), 0 at its right edge, −1 from y ≥ 3 on. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

/** Rows at the start of a file that are never scored: 15% of them, at most 750. */
export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

/** One data row as the threshold sweep sees it. */
export interface SweepRow {
  anomalyScore: number;
  /** The profile-weighted score this row adds when it is a detection. */
  sweepScore: number;
  /** `file|window start` inside a window, null outside, 'probationary' when not scored. */
  window: string | null;
}

/**
 * Weighs every row of one file as if it were a detection. `windows` are [start, end] epoch ms that must be
 * timestamps of the file (as NAB's windows are); `file` names the windows.
 */
export function sweepRows(
  timestamps: readonly number[],
  anomalyScores: readonly number[],
  windows: readonly (readonly [number, number])[],
  file: string,
  profile: NabProfile,
): SweepRow[] {
  if (timestamps.length !== anomalyScores.length)
    throw new Error(`${file}: ${timestamps.length} timestamps but ${anomalyScores.length} anomaly scores`);
  const maxTp = scaledSigmoid(-1);
  const probation = probationaryLength(timestamps.length);
  const pending = [...windows];
  const rows: SweepRow[] = [];
  let current: { name: string; end: number; rightIndex: number; width: number } | null = null;
  let previous: { rightIndex: number; width: number } | null = null;
  for (const [i, ts] of timestamps.entries()) {
    if (pending.length > 0 && ts === pending[0]![0]) {
      const [start, end] = pending.shift()!;
      const rightIndex = timestamps.indexOf(end);
      if (rightIndex < 0) throw new Error(`${file}: window end ${new Date(end).toISOString()} is not a row`);
      current = {
        name: `${file}|${start}`,
        end,
        rightIndex,
        width: rightIndex - timestamps.indexOf(start) + 1,
      };
    }
    let sweepScore: number;
    if (current) {
      const position = -(current.rightIndex - i + 1) / current.width;
      sweepScore = (scaledSigmoid(position) * profile.tpWeight) / maxTp;
    } else {
      const position = previous ? Math.abs(previous.rightIndex - i) / (previous.width - 1) : 3;
      sweepScore = scaledSigmoid(position) * profile.fpWeight;
    }
    rows.push({
      anomalyScore: anomalyScores[i]!,
      sweepScore,
      window: i >= probation ? (current?.name ?? null) : 'probationary',
    });
    if (current && ts === current.end) {
      previous = { rightIndex: i, width: current.width };
      current = null;
    }
  }
  return rows;
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  /** Rows at or above the threshold inside / outside windows. */
  tpRows: number;
  fpRows: number;
  windowsHit: number;
  windows: number;
}

/**
 * The raw score at every distinct threshold (a row is a detection when its anomaly score ≥ the threshold),
 * highest threshold first, over the rows of one or many files. Each window scores its best (= earliest)
 * detection, or −fnWeight when it has none; false positives add up.
 */
export function scoresByThreshold(rows: readonly SweepRow[], profile: NabProfile): ThresholdScore[] {
  const scorable = rows
    .filter((r) => r.window !== 'probationary')
    .sort((a, b) => b.anomalyScore - a.anomalyScore);
  const best = new Map<string, number>();
  for (const r of scorable) if (r.window !== null) best.set(r.window, -profile.fnWeight);
  const windows = best.size;
  let windowTotal = -profile.fnWeight * windows;
  let fp = 0;
  let tpRows = 0;
  let fpRows = 0;
  let hit = 0;
  const out: ThresholdScore[] = [];
  const save = (threshold: number) =>
    out.push({ threshold, score: windowTotal + fp, tpRows, fpRows, windowsHit: hit, windows });
  let threshold = Number.POSITIVE_INFINITY;
  for (const r of scorable) {
    if (r.anomalyScore !== threshold) {
      save(threshold);
      threshold = r.anomalyScore;
    }
    if (r.window === null) {
      fp += r.sweepScore;
      fpRows += 1;
    } else {
      const before = best.get(r.window)!;
      if (before === -profile.fnWeight) hit += 1;
      if (r.sweepScore > before) {
        windowTotal += r.sweepScore - before;
        best.set(r.window, r.sweepScore);
      }
      tpRows += 1;
    }
  }
  save(threshold);
  return out;
}

/** NAB's optimiser: the threshold with the best raw score over all files' rows (the highest on a tie). */
export function bestThreshold(rows: readonly SweepRow[], profile: NabProfile): ThresholdScore {
  return scoresByThreshold(rows, profile).reduce((best, s) => (s.score > best.score ? s : best));
}

/** The raw score of one file's rows at a given threshold. */
export function scoreAtThreshold(
  rows: readonly SweepRow[],
  profile: NabProfile,
  threshold: number,
): ThresholdScore {
  const all = scoresByThreshold(rows, profile);
  // The lowest swept threshold still at or above `threshold`: the rows ≥ threshold are detections.
  return all.filter((s) => s.threshold >= threshold).at(-1)!;
}

/** 100 × (S − S_null) / (S_perfect − S_null): the null detector misses every window, the perfect one hits each at its left edge. */
export function normalisedScore(raw: number, windows: number, profile: NabProfile): number {
  const nullScore = -profile.fnWeight * windows;
  const perfect = profile.tpWeight * windows;
  return (100 * (raw - nullScore)) / (perfect - nullScore);
}

/** NAB timestamps (`2014-07-01 00:00:00`, optionally with fractional seconds, no zone) as epoch ms read as UTC. */
export function parseNabTimestamp(text: string): number {
  const ms = Date.parse(
    `${text
      .trim()
      .replace(' ', 'T')
      .replace(/\.\d+$/, '')}Z`,
  );
  if (Number.isNaN(ms)) throw new Error(`not a NAB timestamp: ${JSON.stringify(text)}`);
  return ms;
}

/** A NAB data file: `timestamp,value` with a header row. */
export function readNabFile(path: string): { timestamps: number[]; values: number[] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const timestamps: number[] = [];
  const values: number[] = [];
  for (const line of lines) {
    const [ts, value] = line.split(',');
    timestamps.push(parseNabTimestamp(ts!));
    values.push(Number(value));
  }
  return { timestamps, values };
}

/** labels/combined_windows.json: file (e.g. `realKnownCause/nyc_taxi.csv`) → [start, end] epoch ms. */
export function readNabWindows(path: string): Map<string, [number, number][]> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, [string, string][]>;
  return new Map(
    Object.entries(raw).map(([file, ws]) => [
      file,
      ws.map(([a, b]) => [parseNabTimestamp(a), parseNabTimestamp(b)] as [number, number]),
    ]),
  );
}
