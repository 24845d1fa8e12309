import { notEvaluated, result } from './flags.ts';
import { median, newRing, pushRing, type Ring, robustScale } from './robust.ts';
import type { CheckParameters, CheckResult, SeriesState } from './types.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface DriftState {
  version: 2;
  lastHour: number | null;
  /** Hour starts and the device's hourly means, same order and length: its own seasonal baseline. */
  hours: Ring;
  values: Ring;
  /** Tabular CUSUM on the standardised residual. */
  cusumPos: number;
  cusumNeg: number;
  /** EWMA of the standardised residual and the number of hours in it (its control limits widen with it). */
  ewma: number;
  ewmaHours: number;
}

function freshState(params: CheckParameters): DriftState {
  const capacity = params.drift.baselineHours + params.drift.baselineLagHours;
  return {
    version: 2,
    lastHour: null,
    hours: newRing(capacity),
    values: newRing(capacity),
    cusumPos: 0,
    cusumNeg: 0,
    ewma: 0,
    ewmaHours: 0,
  };
}

/**
 * Drift against peers on hourly means (docs/data-quality.md, "Checks and QARTOD flags"). Each sensor has its
 * own level and daily shape, so it is compared first with itself: its anomaly is the hourly mean minus its
 * median at the same hour of the day in a baseline window that ends `baselineLagHours` before the hour (so a
 * slow drift does not become its own baseline). The residual is that anomaly minus the median of the peers'
 * anomalies (`anomaly()` of their monitors): what the line does together (a process change) cancels, one
 * drifting peer does not move the median. It is standardised by the sensor's own noise and fed to a tabular
 * CUSUM (k, h) and an EWMA (λ, L). Both flag 3 (suspect) while in alarm.
 */
export class DriftMonitor {
  readonly #params: CheckParameters;
  #s: DriftState;

  constructor(params: CheckParameters, state?: SeriesState) {
    this.#params = params;
    // A state of the first version (residuals against raw peer means) cannot be converted: start over.
    this.#s =
      state && (state as { version?: unknown }).version === 2 ? restore(state, params) : freshState(params);
  }

  /**
   * The device's anomaly at `hourStart`: `value` minus its own usual level at that hour of the day; null until
   * its baseline has `minBaselineHours`. Pure: peers call it on each other before `observeHour`.
   */
  anomaly(hourStart: number, value: number): number | null {
    if (!Number.isFinite(value)) return null;
    const baseline = this.#baseline(hourStart);
    return baseline ? value - baseline.centre : null;
  }

  /**
   * `value`: the device's hourly mean; `peerAnomalies`: the other sensors' `anomaly()` at this hour (same
   * metric, same asset or line; null where a peer has none yet). An hour at or before the last one observed
   * returns no results.
   */
  observeHour(hourStart: number, value: number, peerAnomalies: readonly (number | null)[]): CheckResult[] {
    const s = this.#s;
    const p = this.#params.drift;
    if (s.lastHour !== null && hourStart <= s.lastHour) return [];
    s.lastHour = hourStart;
    if (!p.enabled) return both('switched off for this series in the rules file');
    if (!Number.isFinite(value)) return both('no hourly mean for the device this hour');
    const own = this.#baseline(hourStart);
    pushRing(s.hours, hourStart);
    pushRing(s.values, value);
    const usable = peerAnomalies.filter((x): x is number => x !== null && Number.isFinite(x));
    if (usable.length < p.minPeers)
      return both(
        `${usable.length} peer sensor(s) with a baseline this hour; drift needs at least ${p.minPeers}`,
        { peers: usable.length },
      );
    if (!own)
      return both(
        `baseline has ${this.#baselineHours(hourStart)} of the ${p.minBaselineHours} hours it needs`,
      );
    if (!(own.sigma > 0)) return both('the baseline has no spread');
    const anomaly = value - own.centre;
    const peerMedian = median(usable);
    const residual = anomaly - peerMedian;
    // A median of n values has a variance of about π/2 · σ² / n: the usual level (over `own.days` values) and
    // the peers' median (of n anomalies, each with a usual level of their own) add theirs to the noise.
    const levelFactor = 1 + Math.PI / (2 * own.days);
    const sigma = own.sigma * Math.sqrt(levelFactor * (1 + (Math.PI / (2 * usable.length)) * levelFactor));
    // Standardised for CUSUM and EWMA: per hour of white noise, so their limits keep their meaning.
    const z = residual / (sigma * own.longRun);
    const evidence = {
      residual,
      anomaly,
      peerMedianAnomaly: peerMedian,
      baselineCentre: own.centre,
      baselineSigma: sigma,
      serialFactor: own.longRun,
      z,
      peers: usable.length,
    };

    // Capped at 2h so an alarm clears within a bounded time once the residual is back (h/k hours at most).
    s.cusumPos = Math.min(2 * p.cusumH, Math.max(0, s.cusumPos + z - p.cusumK));
    s.cusumNeg = Math.min(2 * p.cusumH, Math.max(0, s.cusumNeg - z - p.cusumK));
    const cusum = Math.max(s.cusumPos, s.cusumNeg);
    s.ewma = p.ewmaLambda * z + (1 - p.ewmaLambda) * s.ewma;
    s.ewmaHours += 1;
    const limit =
      p.ewmaL *
      Math.sqrt((p.ewmaLambda / (2 - p.ewmaLambda)) * (1 - (1 - p.ewmaLambda) ** (2 * s.ewmaHours)));
    return [
      result('drift_cusum', cusum > p.cusumH ? 3 : 1, cusum, p.cusumH, {
        ...evidence,
        direction: s.cusumPos >= s.cusumNeg ? 'up' : 'down',
        cusumPos: s.cusumPos,
        cusumNeg: s.cusumNeg,
        k: p.cusumK,
      }),
      result('drift_ewma', Math.abs(s.ewma) > limit ? 3 : 1, s.ewma, limit, {
        ...evidence,
        lambda: p.ewmaLambda,
        L: p.ewmaL,
      }),
    ];
  }

  /** The baseline hours (hour start → value) for `hourStart`: the window ending `baselineLagHours` before it. */
  #window(hourStart: number): Map<number, number> {
    const p = this.#params.drift;
    const from = hourStart - (p.baselineLagHours + p.baselineHours) * HOUR_MS;
    const to = hourStart - p.baselineLagHours * HOUR_MS;
    const window = new Map<number, number>();
    const { hours, values } = this.#s;
    for (let i = 0; i < hours.items.length; i++) {
      const h = hours.items[i]!;
      if (h >= from && h < to) window.set(h, values.items[i]!);
    }
    return window;
  }

  #baselineHours(hourStart: number): number {
    return this.#window(hourStart).size;
  }

  /**
   * The usual level at this hour of the day (median of the baseline's values at the same hour; all of them
   * when that hour has none) and the noise: the spread of the day-over-day differences (same hour, consecutive
   * days) / √2, which the daily shape does not inflate, and their serial correlation (`clippedMoments`). Null
   * with too short a baseline.
   */
  #baseline(hourStart: number): { centre: number; sigma: number; days: number; longRun: number } | null {
    const window = this.#window(hourStart);
    if (window.size < this.#params.drift.minBaselineHours) return null;
    const hourOfDay = hourStart % DAY_MS;
    const sameHour: number[] = [];
    const dayOverDay = new Map<number, number>();
    for (const [h, v] of window) {
      if (h % DAY_MS === hourOfDay) sameHour.push(v);
      const dayBefore = window.get(h - DAY_MS);
      if (dayBefore !== undefined) dayOverDay.set(h, v - dayBefore);
    }
    const centre = sameHour.length > 0 ? median(sameHour) : median([...window.values()]);
    const days = Math.max(1, sameHour.length);
    // Too few pairs (a baseline with holes): the plain robust sigma of the values, an upper bound.
    if (dayOverDay.size < 24)
      return { centre, sigma: robustScale([...window.values()]).sigma, days, longRun: 1 };
    const { sigma, rho } = clippedMoments(dayOverDay);
    const clamped = Math.min(0.9, Math.max(0, rho));
    return { centre, sigma: sigma / Math.SQRT2, days, longRun: Math.sqrt((1 + clamped) / (1 - clamped)) };
  }

  /** A calibration restarts the CUSUM and EWMA (the baseline values stay: they describe the sound sensor). */
  calibrated(): void {
    Object.assign(this.#s, { cusumPos: 0, cusumNeg: 0, ewma: 0, ewmaHours: 0 });
  }

  state(): SeriesState {
    return structuredClone(this.#s) as unknown as SeriesState;
  }
}

/** A persisted state with its rings re-sized to the current baseline (the rules file may have changed). */
function restore(state: SeriesState, params: CheckParameters): DriftState {
  const s = structuredClone(state) as unknown as DriftState;
  const capacity = params.drift.baselineHours + params.drift.baselineLagHours;
  for (const ring of [s.hours, s.values]) {
    ring.capacity = capacity;
    if (ring.items.length > capacity) ring.items.splice(0, ring.items.length - capacity);
  }
  return s;
}

/**
 * The standard deviation and lag-1 correlation of the day-over-day differences (hour start → difference), each
 * clipped to its median ± 3 robust sigmas (1.4826 × MAD) first, so a spike in the baseline weighs no more than a
 * 3-sigma value. Moments of clipped values rather than MADs: the drift monitor divides by both, and with 4 days
 * of baseline a ratio of MADs (the earlier estimate) put 1 sensor in 100 at a long-run factor of 1.1 instead of 2
 * (simulated AR(1) noise, ρ 0.6; 1.4 with clipped moments), standardising its noise up to 1.8 × too large.
 * Noise correlated from hour to hour makes runs of same-signed residuals that CUSUM and EWMA would take for a
 * drift; the day-over-day differences carry the noise's correlation (the daily shape cancels), and sums of such
 * noise grow by √((1 + ρ) / (1 − ρ)) over white noise. `rho` is 0 with fewer than 24 neighbouring pairs or no
 * spread.
 */
function clippedMoments(dayOverDay: ReadonlyMap<number, number>): { sigma: number; rho: number } {
  const { centre, sigma: robust } = robustScale([...dayOverDay.values()]);
  const clipped = new Map<number, number>();
  for (const [h, v] of dayOverDay) clipped.set(h, Math.max(-3 * robust, Math.min(3 * robust, v - centre)));
  let squares = 0;
  let lagged = 0;
  let laggedSquares = 0;
  let pairs = 0;
  for (const [h, v] of clipped) {
    squares += v * v;
    const before = clipped.get(h - HOUR_MS);
    if (before === undefined) continue;
    lagged += v * before;
    laggedSquares += v * v;
    pairs++;
  }
  const sigma = Math.sqrt(squares / clipped.size);
  return { sigma, rho: pairs >= 24 && laggedSquares > 0 ? lagged / laggedSquares : 0 };
}

function both(reason: string, details: Record<string, unknown> = {}): CheckResult[] {
  return [notEvaluated('drift_cusum', reason, details), notEvaluated('drift_ewma', reason, details)];
}
