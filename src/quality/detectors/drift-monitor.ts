import { notEvaluated, result } from './flags.ts';
import { median, newRing, pushRing, type Ring, robustScale } from './robust.ts';
import type { CheckParameters, CheckResult, SeriesState } from './types.ts';

const HOUR_MS = 3_600_000;

interface DriftState {
  version: 1;
  lastHour: number | null;
  /** Hour starts and residuals (device − peer median) of evaluated hours, same order and length. */
  hours: Ring;
  residuals: Ring;
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
    version: 1,
    lastHour: null,
    hours: newRing(capacity),
    residuals: newRing(capacity),
    cusumPos: 0,
    cusumNeg: 0,
    ewma: 0,
    ewmaHours: 0,
  };
}

/**
 * Drift against peers on hourly means (docs/data-quality.md, "Checks and QARTOD flags"): the residual
 * r = device − median(peers) is standardised with the median and 1.4826 × MAD of the residuals in a baseline
 * window that ends `baselineLagHours` before the hour (so a slow drift does not become its own baseline),
 * then fed to a tabular CUSUM (k, h) and an EWMA (λ, L). Both flag 3 (suspect) while in alarm.
 */
export class DriftMonitor {
  readonly #params: CheckParameters;
  #s: DriftState;

  constructor(params: CheckParameters, state?: SeriesState) {
    this.#params = params;
    this.#s =
      state && (state as { version?: unknown }).version === 1 ? restore(state, params) : freshState(params);
  }

  /**
   * `value`: the device's hourly mean; `peers`: the other sensors' hourly means (same metric, same asset or
   * line). An hour at or before the last one observed returns no results.
   */
  observeHour(hourStart: number, value: number, peers: number[]): CheckResult[] {
    const s = this.#s;
    const p = this.#params.drift;
    if (s.lastHour !== null && hourStart <= s.lastHour) return [];
    s.lastHour = hourStart;
    const usable = peers.filter(Number.isFinite);
    if (!Number.isFinite(value)) return both('no hourly mean for the device this hour');
    if (usable.length < p.minPeers)
      return both(`${usable.length} peer sensor(s) this hour; drift needs at least ${p.minPeers}`, {
        peers: usable.length,
      });
    const residual = value - median(usable);
    const from = hourStart - (p.baselineLagHours + p.baselineHours) * HOUR_MS;
    const to = hourStart - p.baselineLagHours * HOUR_MS;
    const baseline = s.residuals.items.filter((_, i) => s.hours.items[i]! >= from && s.hours.items[i]! < to);
    pushRing(s.hours, hourStart);
    pushRing(s.residuals, residual);
    if (baseline.length < p.minBaselineHours)
      return both(`baseline has ${baseline.length} of the ${p.minBaselineHours} hours it needs`, {
        residual,
      });
    const { centre, sigma } = robustScale(baseline);
    if (!(sigma > 0)) return both('the baseline residuals have no spread', { residual });
    const z = (residual - centre) / sigma;
    const evidence = { residual, baselineCentre: centre, baselineSigma: sigma, z, peers: usable.length };

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

  /** A calibration restarts the CUSUM and EWMA (the baseline residuals stay: they describe a sound sensor). */
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
  for (const ring of [s.hours, s.residuals]) {
    ring.capacity = capacity;
    if (ring.items.length > capacity) ring.items.splice(0, ring.items.length - capacity);
  }
  return s;
}

function both(reason: string, details: Record<string, unknown> = {}): CheckResult[] {
  return [notEvaluated('drift_cusum', reason, details), notEvaluated('drift_ewma', reason, details)];
}
