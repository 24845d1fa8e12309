import type { FleetMetric } from './fleet-types.ts';
import type { Random } from './random.ts';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
/** Lag-one autocorrelation of the noise: real sensor noise is not white at minute cadence. */
const noiseCorrelation = 0.6;

/**
 * The healthy signal of one device metric: daily cycle, plant shifts (power), discharge with battery swaps,
 * and AR(1) measurement noise, in the canonical unit. Stateful (the noise), so values must be read in time
 * order; each series owns its Random stream, which keeps it independent of every other series and of faults.
 */
export interface SignalSeries {
  readonly metric: FleetMetric;
  /** The true value at `tsMs` (no noise), e.g. the level a stuck sensor freezes near. */
  level(tsMs: number): number;
  /** The next measured value at `tsMs`: level plus noise, unrounded. */
  measure(tsMs: number): number;
}

export function createSignalSeries(metric: FleetMetric, random: Random, startMs: number): SignalSeries {
  const s = metric.signal;
  let noise = 0;
  const innovation = Math.sqrt(1 - noiseCorrelation * noiseCorrelation);
  const level = (tsMs: number): number => {
    const hourUtc = (tsMs % dayMs) / hourMs;
    const daily = s.dailyAmplitude * Math.cos((2 * Math.PI * (hourUtc - s.peakHourUtc)) / 24);
    let value = s.base * shiftFactor(hourUtc, s.peakHourUtc, s.nightFactor) + daily;
    if (s.trendPerDay !== 0) value = discharge(s.base, -s.trendPerDay * ((tsMs - startMs) / dayMs));
    return value;
  };
  return {
    metric,
    level,
    measure(tsMs) {
      noise = noiseCorrelation * noise + innovation * s.noise * random.gaussian();
      return clamp(level(tsMs) + noise, s.clamp[0], s.clamp[1]);
    },
  };
}

/** Rounds to the sensor's resolution, without binary noise in the printed digits (0.1 + 0.2). */
export function quantize(value: number, resolution: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(resolution)));
  return Number((Math.round(value / resolution) * resolution).toFixed(decimals));
}

// Day shift 06:00–22:00 local time with half-hour ramps; the local clock is derived from the 15:00 peak.
function shiftFactor(hourUtc: number, peakHourUtc: number, nightFactor: number): number {
  if (nightFactor === 1) return 1;
  const local = (((hourUtc - peakHourUtc + 15) % 24) + 24) % 24;
  const rampUp = clamp((local - 5.75) / 0.5, 0, 1);
  const rampDown = clamp((22.25 - local) / 0.5, 0, 1);
  return nightFactor + (1 - nightFactor) * Math.min(rampUp, rampDown);
}

// Battery level after `drained` points of discharge: swapped for a full one at 10 %.
function discharge(start: number, drained: number): number {
  const remaining = start - drained;
  if (remaining >= 10) return remaining;
  return 100 - ((10 - remaining) % 90);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
