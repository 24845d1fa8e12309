// NAB evaluation of the data-quality detectors (docs/data-quality.md, "NAB scoring"): the realKnownCause
// files of the Numenta Anomaly Benchmark, scored with NAB's rules (bench/lib/nab-scoring.ts) beside the
// published Numenta HTM score on the same files (55.5 standard, normalised over these files).
//
//   node bench/quality-nab.ts        prints the per-file and total scores (bench/quality.ts records them)
//
// The detector sees each row once, in order, with nothing after it (no look-ahead): a robust z-score of the
// value against the trailing 7 days (median and 1.4826 × MAD, the detectors' robustScale), or of its residual
// against the same 15-minute slot of the week over the last 4 weeks when that residual is clearly less spread
// (a seasonal series such as taxi demand), feeds a two-sided tabular CUSUM (k = 1.5, h = 10, z capped at 8).
// An alarm scores 0.5–1 by the mean |z| of the excursion that raised it (a sharp change outranks a slow
// creep, so NAB's threshold sweep can drop weak alarms), then the CUSUM restarts and the detector stays quiet
// for a day (the CUSUM keeps running meanwhile). Below an alarm the score is CUSUM / (2h), under 0.5.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, robustScale } from '../src/quality/detectors/index.ts';
import {
  bestThreshold,
  NAB_PROFILES,
  type NabProfile,
  normalisedScore,
  readNabFile,
  readNabWindows,
  type SweepRow,
  scoreAtThreshold,
  sweepRows,
} from './lib/nab-scoring.ts';

const NAB_DIR = '/work/shared/data/nab';
const CATEGORY = 'realKnownCause';
/** Numenta HTM on these files with NAB's own thresholds, normalised over them (docs/data-quality.md). */
const HTM_STANDARD = 55.5;
const HTM_OTHER: Record<string, number> = { reward_low_FP_rate: 49.3, reward_low_FN_rate: 61.5 };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The detector's parameters; the defaults are the ones reported. */
export interface NabDetectorParameters {
  /** Trailing window of the robust z-score, and the history it needs before it scores. */
  windowMs: number;
  minHistoryMs: number;
  /** Seasonal reference: the same slot of the week, over this many past weeks. */
  slotMs: number;
  seasonWeeks: number;
  /** Use the seasonal residual when its sigma is below this fraction of the raw value's. */
  seasonalRatio: number;
  cusumK: number;
  cusumH: number;
  zCap: number;
  /** Quiet period after an alarm. */
  refractoryMs: number;
}

export const NAB_DETECTOR: NabDetectorParameters = {
  windowMs: 7 * DAY,
  minHistoryMs: DAY,
  slotMs: 15 * 60_000,
  seasonWeeks: 4,
  seasonalRatio: 0.85,
  cusumK: 1.5,
  cusumH: 10,
  zCap: 8,
  refractoryMs: DAY,
};

/** A trailing window's robust z-score; the median and MAD are refreshed once an hour of data. */
class TrailingZ {
  #values: number[] = [];
  #times: number[] = [];
  #first = 0;
  #refreshedAt = Number.NEGATIVE_INFINITY;
  scale = { centre: 0, sigma: 0 };

  readonly p: NabDetectorParameters;

  constructor(p: NabDetectorParameters) {
    this.p = p;
  }

  /** The z-score of `x` against the values before it (null until there is enough history), then keeps `x`. */
  next(ts: number, x: number): number | null {
    while (this.#first < this.#times.length && this.#times[this.#first]! < ts - this.p.windowMs)
      this.#first++;
    let z: number | null = null;
    const n = this.#times.length - this.#first;
    if (n >= 20 && ts - this.#times[this.#first]! >= this.p.minHistoryMs) {
      if (ts - this.#refreshedAt >= HOUR) {
        this.scale = robustScale(this.#values.slice(this.#first));
        this.#refreshedAt = ts;
      }
      z = (x - this.scale.centre) / (this.scale.sigma > 0 ? this.scale.sigma : Number.EPSILON);
    }
    this.#values.push(x);
    this.#times.push(ts);
    if (this.#first > 10_000) {
      this.#values = this.#values.slice(this.#first);
      this.#times = this.#times.slice(this.#first);
      this.#first = 0;
    }
    return z;
  }
}

/** Anomaly scores in [0, 1] for one file, each from the rows up to it only. */
export function nabAnomalyScores(
  timestamps: readonly number[],
  values: readonly number[],
  p: NabDetectorParameters = NAB_DETECTOR,
): number[] {
  const raw = new TrailingZ(p);
  const seasonal = new TrailingZ(p);
  const slots = new Map<number, number[]>();
  const week = 7 * DAY;
  let up = 0;
  let down = 0;
  let upRows = 0;
  let downRows = 0;
  let quietUntil = Number.NEGATIVE_INFINITY;
  return timestamps.map((ts, i) => {
    const value = values[i]!;
    const slot = Math.floor((ts % week) / p.slotMs);
    const history = slots.get(slot) ?? [];
    const reference = history.length >= 2 ? median(history) : null;
    slots.set(slot, [...history, value].slice(-p.seasonWeeks));
    const zRaw = raw.next(ts, value);
    const zSeasonal = reference === null ? null : seasonal.next(ts, value - reference);
    const useSeasonal =
      zSeasonal !== null && zRaw !== null && seasonal.scale.sigma < p.seasonalRatio * raw.scale.sigma;
    const zFree = useSeasonal ? zSeasonal : zRaw;
    if (zFree === null) return 0;
    const z = Math.max(-p.zCap, Math.min(p.zCap, zFree));
    up = Math.max(0, up + z - p.cusumK);
    down = Math.max(0, down - z - p.cusumK);
    upRows = up > 0 ? upRows + 1 : 0;
    downRows = down > 0 ? downRows + 1 : 0;
    // While quiet the CUSUM keeps accumulating: a change that persists alarms again when the day is over.
    if (ts < quietUntil) return 0;
    const statistic = Math.max(up, down);
    if (statistic < p.cusumH) return statistic / (2 * p.cusumH);
    // Mean |z| over the excursion: S = Σ(z − k) over its rows.
    const meanZ = up >= down ? up / upRows + p.cusumK : down / downRows + p.cusumK;
    up = down = upRows = downRows = 0;
    quietUntil = ts + p.refractoryMs;
    return 0.5 + 0.5 * (meanZ / (meanZ + 3));
  });
}

export interface NabFileResult {
  file: string;
  rows: number;
  windows: number;
  windowsHit: number;
  falsePositiveRows: number;
  rawScore: number;
}

export interface NabEvaluation {
  score: number;
  htm: 55.5;
  ratio: number;
  perFile: NabFileResult[];
  detector: string;
  threshold: number;
  parameters: NabDetectorParameters;
  /** The other NAB profiles, each at its own best threshold, beside HTM's. */
  otherProfiles: { profile: string; score: number; htm: number; threshold: number }[];
}

/** Scores the detector on NAB realKnownCause with the standard profile (and the other two for reference). */
export async function runNabEvaluation(log: (line: string) => void = () => {}): Promise<NabEvaluation> {
  const windows = readNabWindows(path.join(NAB_DIR, 'labels/combined_windows.json'));
  const files = readdirSync(path.join(NAB_DIR, CATEGORY))
    .filter((f) => f.endsWith('.csv'))
    .sort();
  if (files.length === 0) throw new Error(`no NAB files in ${path.join(NAB_DIR, CATEGORY)}`);
  const scored = files.map((file) => {
    const { timestamps, values } = readNabFile(path.join(NAB_DIR, CATEGORY, file));
    const fileWindows = windows.get(`${CATEGORY}/${file}`) ?? [];
    const t0 = performance.now();
    const scores = nabAnomalyScores(timestamps, values);
    log(
      `${file}: ${timestamps.length} rows, ${fileWindows.length} windows, scored in ${Math.round(performance.now() - t0)} ms`,
    );
    return { file, timestamps, scores, fileWindows };
  });
  const totalWindows = scored.reduce((n, f) => n + f.fileWindows.length, 0);
  const evaluate = (profile: NabProfile) => {
    const perFile = scored.map((f) => ({
      file: f.file,
      rows: sweepRows(f.timestamps, f.scores, f.fileWindows, f.file, profile),
    }));
    const best = bestThreshold(
      perFile.flatMap((f): SweepRow[] => f.rows),
      profile,
    );
    return { best, perFile, score: normalisedScore(best.score, totalWindows, profile) };
  };

  const standard = evaluate(NAB_PROFILES.standard);
  const perFile = standard.perFile.map((f, i): NabFileResult => {
    const s = scoreAtThreshold(f.rows, NAB_PROFILES.standard, standard.best.threshold);
    return {
      file: f.file,
      rows: f.rows.length,
      windows: scored[i]!.fileWindows.length,
      windowsHit: s.windowsHit,
      falsePositiveRows: s.fpRows,
      rawScore: round(s.score, 4),
    };
  });
  for (const f of perFile)
    log(
      `  ${f.file.padEnd(44)} hit ${f.windowsHit}/${f.windows}, ${f.falsePositiveRows} false positives, raw ${f.rawScore}`,
    );
  const otherProfiles = (['reward_low_FP_rate', 'reward_low_FN_rate'] as const).map((name) => {
    const e = evaluate(NAB_PROFILES[name]);
    return {
      profile: name,
      score: round(e.score, 1),
      htm: HTM_OTHER[name]!,
      threshold: round(e.best.threshold, 4),
    };
  });
  const score = round(standard.score, 1);
  log(
    `NAB ${CATEGORY} standard: ${score} (Numenta HTM ${HTM_STANDARD}), ratio ${round(score / HTM_STANDARD, 3)}, ` +
      `${standard.best.windowsHit}/${totalWindows} windows, threshold ${round(standard.best.threshold, 4)}`,
  );
  for (const o of otherProfiles) log(`NAB ${CATEGORY} ${o.profile}: ${o.score} (Numenta HTM ${o.htm})`);
  return {
    score,
    htm: HTM_STANDARD,
    ratio: round(score / HTM_STANDARD, 3),
    perFile,
    detector:
      'robust z (trailing 7 d, or weekly-seasonal residual) → two-sided CUSUM k=1.5 h=10, 1-day refractory',
    threshold: round(standard.best.threshold, 4),
    parameters: NAB_DETECTOR,
    otherProfiles,
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runNabEvaluation((line) => console.log(line));
  console.log(JSON.stringify({ score: result.score, ratio: result.ratio, threshold: result.threshold }));
}
