import { notEvaluated, result, worstFlag } from './flags.ts';
import { expectedIntervalS, gapCheck } from './gap.ts';
import { median, newRing, pushRing, type Ring, RollingScale } from './robust.ts';
import type {
  CheckParameters,
  CheckResult,
  QartodFlag,
  SeriesReading,
  SeriesSpec,
  SeriesState,
} from './types.ts';

/** What the caller knows about the asset at this reading (from the maintenance log and asset state). */
export interface ObserveContext {
  /** The asset is stopped or in maintenance: a flat line is legitimate then and is not evaluated. */
  assetIdle?: boolean;
}

export interface Observation {
  /** The worst flag of `results`. */
  flag: QartodFlag;
  /** Every check evaluated at this reading (spike is about the previous reading, see `details.readingTs`). */
  results: CheckResult[];
}

/** A run of values within the flat-line tolerance. */
interface FlatRun {
  startTs: number;
  count: number;
  min: number;
  max: number;
  /** The run reached the suspect span: its differences were taken out of the noise windows. */
  stuck?: boolean;
  /** The robust sigma of first differences when the run started (none of the run's own in it); absent: unknown. */
  noise?: number;
}

/** Everything a SeriesMonitor remembers; plain JSON, bounded by the rings' capacities. */
interface MonitorState {
  version: 1;
  /** The last reading's ts (any reading, also one without a value): the heartbeat. */
  lastTs: number | null;
  /** The last two readings with a finite value, oldest first: the spike test needs three in a row. */
  recent: SeriesReading[];
  /** First differences and rates (per second) of consecutive on-cadence values: the robust sigmas. */
  diffs: Ring;
  rates: Ring;
  /** Recent intervals (s) between readings: the cadence when neither device nor rules give one. */
  intervals: Ring;
  flat: FlatRun | null;
  /** The ts of the last reading of the latest stuck run: the reading after it is a recovery, not a spike. */
  stuckEnd?: number;
}

const LEARNED_INTERVALS = 31;
/** Intervals needed before a learned cadence is trusted. */
const MIN_LEARNED_INTERVALS = 5;

function freshState(params: CheckParameters): MonitorState {
  return {
    version: 1,
    lastTs: null,
    recent: [],
    diffs: newRing(params.sigma.window),
    rates: newRing(params.sigma.window),
    intervals: newRing(LEARNED_INTERVALS),
    flat: null,
  };
}

/**
 * The per-reading checks of one device+metric series: gap, gross range, spike, rate of change and flat line
 * (docs/data-quality.md, "Checks and QARTOD flags"). Streaming and bounded: the robust sigmas come from sorted
 * copies of the rings kept up to date per reading (RollingScale, no sort per reading), and `state()` is JSON
 * (the rings only) that continues the series after a restart.
 */
export class SeriesMonitor {
  readonly #spec: SeriesSpec;
  readonly #params: CheckParameters;
  #s: MonitorState;
  readonly #diffs: RollingScale;
  readonly #rates: RollingScale;

  constructor(spec: SeriesSpec, params: CheckParameters, state?: SeriesState) {
    this.#spec = spec;
    this.#params = params;
    this.#s =
      state && (state as { version?: unknown }).version === 1 ? restore(state, params) : freshState(params);
    this.#diffs = new RollingScale(this.#s.diffs);
    this.#rates = new RollingScale(this.#s.rates);
  }

  /** Evaluates one reading; a reading at or before the last seen ts is ignored (null). */
  observe(r: SeriesReading, context: ObserveContext = {}): Observation | null {
    const s = this.#s;
    if (s.lastTs !== null && r.ts <= s.lastTs) return null;
    const learned = this.#learnedIntervalS();
    const cadence = expectedIntervalS(this.#spec, this.#params, learned);
    const gap =
      s.lastTs === null ? notEvaluated('gap', 'first reading of the series') : this.#gap(r.ts, learned);
    // Learned only when needed: the ring is part of the state written every batch.
    if (s.lastTs !== null && expectedIntervalS(this.#spec, this.#params) === null)
      pushRing(s.intervals, (r.ts - s.lastTs) / 1000);
    s.lastTs = r.ts;

    if (!Number.isFinite(r.value)) {
      const missing = result('gross_range', 9, null, null, { reason: 'the reading has no numeric value' });
      return { flag: worstFlag([gap.flag, 9]), results: [gap, missing] };
    }
    // Differences across a gap (a restart, an outage) say nothing about noise or spikes: start over.
    const previous = s.recent.at(-1);
    const afterGap =
      previous !== undefined &&
      cadence !== null &&
      (r.ts - previous.ts) / 1000 > this.#params.gap.warnIntervals * cadence.intervalS;
    if (afterGap) {
      s.recent = [];
      s.flat = null;
    }
    // The noise of the values before this one: the spike's scale, and the flat run's if one starts here.
    const noise = this.#sigma(this.#diffs, this.#spec.resolution ?? 0);
    const results = [
      gap,
      this.#grossRange(r.value),
      this.#spike(r, noise),
      this.#rateOfChange(r, afterGap),
      this.#flatLine(r, context, noise),
    ];
    const last = s.recent.at(-1);
    if (last && !this.#inStuckRun()) {
      this.#diffs.push(compact(r.value - last.value));
      this.#rates.push(compact((r.value - last.value) / ((r.ts - last.ts) / 1000)));
    }
    s.recent = [...s.recent, r].slice(-2);
    return { flag: worstFlag(results.map((x) => x.flag)), results };
  }

  /** The silence now since the last reading (heartbeat), with the same cadence rules as `observe`. */
  gapAt(now: number): CheckResult {
    const s = this.#s;
    if (s.lastTs === null) return notEvaluated('gap', 'no reading yet');
    return this.#gap(now, this.#learnedIntervalS());
  }

  /**
   * A stuck stretch is not noise: once the flat run reaches the flat-line suspect span, the differences it has
   * put into the sigma windows are taken out again and it adds none, so the sigmas keep the noise from before
   * it (otherwise every wiggle after a stuck sensor recovers would be a spike). Not with the check off.
   */
  #inStuckRun(): boolean {
    const run = this.#s.flat;
    if (!run || !this.#params.flatLine.enabled) return false;
    if (run.stuck) return true;
    if (!this.#suspectRun(run, this.#s.lastTs!)) return false;
    // The run's earlier values added count − 2 differences within it (this reading's is not added yet).
    const inRun = Math.max(0, run.count - 2);
    this.#diffs.dropNewest(inRun);
    this.#rates.dropNewest(inRun);
    run.stuck = true;
    return true;
  }

  /** The median recent interval, only when neither the device nor the rules give a cadence (it is a sort). */
  #learnedIntervalS(): number | null {
    if (expectedIntervalS(this.#spec, this.#params) !== null) return null;
    const items = this.#s.intervals.items;
    return items.length >= MIN_LEARNED_INTERVALS ? median(items) : null;
  }

  state(): SeriesState {
    return structuredClone(this.#s) as unknown as SeriesState;
  }

  #gap(now: number, learned: number | null): CheckResult {
    return gapCheck(this.#s.lastTs!, now, this.#spec, this.#params, learned);
  }

  #grossRange(value: number): CheckResult {
    const { rangeMin = null, rangeMax = null } = this.#spec;
    const { suspectMin, suspectMax } = this.#params.grossRange;
    if (rangeMin === null && rangeMax === null && suspectMin === null && suspectMax === null)
      return notEvaluated(
        'gross_range',
        'no range: the device has no spec range, the rules file no suspect span',
      );
    const details = { rangeMin, rangeMax, suspectMin, suspectMax };
    if (rangeMin !== null && value < rangeMin) return result('gross_range', 4, value, rangeMin, details);
    if (rangeMax !== null && value > rangeMax) return result('gross_range', 4, value, rangeMax, details);
    if (suspectMin !== null && value < suspectMin)
      return result('gross_range', 3, value, suspectMin, details);
    if (suspectMax !== null && value > suspectMax)
      return result('gross_range', 3, value, suspectMax, details);
    return result('gross_range', 1, value, null, details);
  }

  /** The scale of first differences (or rates), floored at the device resolution; null when unknown. */
  #sigma(scale: RollingScale, floor: number): number | null {
    if (scale.size < this.#params.sigma.minSamples) return null;
    const sigma = Math.max(scale.scale().sigma, floor);
    return sigma > 0 ? sigma : null;
  }

  /**
   * QARTOD spike, method "average": |x[n-1] − (x[n] + x[n-2]) / 2|, a verdict on the previous reading. Only a
   * reading beyond both neighbours can be a spike: otherwise the neighbour of a spike would be flagged too.
   */
  #spike(r: SeriesReading, sigma: number | null): CheckResult {
    const [older, middle] = this.#s.recent;
    if (!older || !middle) return notEvaluated('spike', 'needs the two previous readings without a gap');
    // A sensor that comes back from a freeze steps to the live level: (x[n] + x[n−2]) / 2 would average a
    // frozen value with a live one.
    if (older.ts === this.#s.stuckEnd)
      return notEvaluated('spike', 'the reading before it ended a stuck run: a recovery, not a spike');
    if (sigma === null)
      return notEvaluated('spike', `needs ${this.#params.sigma.minSamples} differences with some spread`);
    const { suspectSigma, failSigma } = this.#params.spike;
    const observed = Math.abs(middle.value - (r.value + older.value) / 2);
    const extreme = Math.sign(middle.value - older.value) * Math.sign(middle.value - r.value) > 0;
    const flag = !extreme ? 1 : observed > failSigma * sigma ? 4 : observed > suspectSigma * sigma ? 3 : 1;
    return result('spike', flag, observed, (flag === 4 ? failSigma : suspectSigma) * sigma, {
      readingTs: middle.ts,
      value: middle.value,
      sigma,
      suspectSigma,
      failSigma,
    });
  }

  /** |Δx/Δt| in units per second against `suspectSigma` robust sigmas of the recent rates. */
  #rateOfChange(r: SeriesReading, afterGap: boolean): CheckResult {
    const last = this.#s.recent.at(-1);
    if (!last) return notEvaluated('rate_of_change', afterGap ? 'first value after a gap' : 'first value');
    const dtS = (r.ts - last.ts) / 1000;
    const resolution = this.#spec.resolution ?? 0;
    const sigma = this.#sigma(this.#rates, resolution / dtS);
    if (sigma === null)
      return notEvaluated('rate_of_change', `needs ${this.#params.sigma.minSamples} rates with some spread`);
    const observed = Math.abs((r.value - last.value) / dtS);
    const threshold = this.#params.rateOfChange.suspectSigma * sigma;
    return result('rate_of_change', observed > threshold ? 3 : 1, observed, threshold, {
      sigma,
      suspectSigma: this.#params.rateOfChange.suspectSigma,
      intervalS: dtS,
    });
  }

  /**
   * Values within `tolerance` of each other (max − min) for at least both a number of samples and a duration.
   * A value outside starts a new run at itself, so a run is never longer than the true flat stretch. `noise`
   * (the robust sigma of first differences before this reading) goes with a run that starts here.
   */
  #flatLine(r: SeriesReading, context: ObserveContext, noise: number | null): CheckResult {
    const p = this.#params.flatLine;
    const tolerance = this.#tolerance();
    const run = this.#s.flat;
    if (run && Math.max(run.max, r.value) - Math.min(run.min, r.value) <= tolerance) {
      run.count += 1;
      run.min = Math.min(run.min, r.value);
      run.max = Math.max(run.max, r.value);
    } else {
      const previous = this.#s.recent.at(-1);
      if (run?.stuck && previous) this.#s.stuckEnd = previous.ts;
      this.#s.flat = { startTs: r.ts, count: 1, min: r.value, max: r.value };
      if (noise !== null) this.#s.flat.noise = compact(noise);
    }
    if (!p.enabled) return notEvaluated('flat_line', 'switched off for this series in the rules file');
    if (context.assetIdle) return notEvaluated('flat_line', 'the asset is stopped or in maintenance');
    const flat = this.#s.flat!;
    const durationS = (r.ts - flat.startTs) / 1000;
    const fail = flat.count >= p.failSamples && durationS >= p.failAfterS;
    const suspect = this.#suspectRun(flat, r.ts);
    return result('flat_line', fail ? 4 : suspect ? 3 : 1, durationS, fail ? p.failAfterS : p.suspectAfterS, {
      tolerance,
      samples: flat.count,
      since: new Date(flat.startTs).toISOString(),
      ...(flat.noise === undefined
        ? {}
        : { noise: flat.noise, healthyChance: healthyRunChance(flat, tolerance) }),
    });
  }

  #tolerance(): number {
    return this.#params.flatLine.tolerance ?? this.#spec.resolution ?? 0;
  }

  /**
   * A run is suspect from `suspectSamples` on, once it has lasted `suspectAfter`, or sooner when the series'
   * noise before it makes a run that long improbable (at most `suspectChance`): a sensor whose readings move
   * by many tolerances a sample does not sit still for ten samples.
   */
  #suspectRun(run: FlatRun, now: number): boolean {
    const p = this.#params.flatLine;
    if (run.count < p.suspectSamples) return false;
    if (now - run.startTs >= p.suspectAfterS * 1000) return true;
    return (
      p.suspectChance > 0 &&
      run.noise !== undefined &&
      healthyRunChance(run, this.#tolerance()) <= p.suspectChance
    );
  }
}

/**
 * An upper bound of the chance that a healthy series stays within `tolerance` for the run's samples: each of
 * its count − 1 first differences (normal, sigma `noise`) would lie within ±tolerance, at most
 * tolerance × √(2/π) / noise each (the density's peak times the width), taken as independent. Staying within
 * the tolerance band (max − min) is stricter than each step within it, so healthy runs are rarer than this.
 */
function healthyRunChance(run: FlatRun, tolerance: number): number {
  if (run.noise === undefined || !(run.noise > 0)) return 1;
  const step = Math.min(1, (tolerance * Math.sqrt(2 / Math.PI)) / run.noise);
  return step ** Math.max(0, run.count - 1);
}

/**
 * Six significant digits for what goes into the sigma windows: the state (written every batch) stays short
 * ("0.01", not "0.010000000000005116") and a sigma moves by at most a millionth; applied when pushed, so a
 * restored monitor still continues exactly as an uninterrupted one.
 */
function compact(x: number): number {
  return Number(x.toPrecision(6));
}

/** A persisted state with the rings re-sized to the current parameters (the rules file may have changed). */
function restore(state: SeriesState, params: CheckParameters): MonitorState {
  const s = structuredClone(state) as unknown as MonitorState;
  for (const ring of [s.diffs, s.rates]) {
    ring.capacity = Math.max(1, Math.floor(params.sigma.window));
    if (ring.items.length > ring.capacity) ring.items.splice(0, ring.items.length - ring.capacity);
  }
  return s;
}
