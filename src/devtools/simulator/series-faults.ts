import type { PlannedExcursion } from './excursions.ts';
import type { FaultRates } from './fault-rates.ts';
import type { FleetDevice } from './fleet-types.ts';
import type { GroundTruthFault } from './ground-truth.ts';
import type { Random } from './random.ts';
import { createSignalSeries, quantize, type SignalSeries } from './signal.ts';
import type { SimReading } from './vendor-format.ts';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

interface SeriesState {
  signal: SignalSeries;
  drift: { startMs: number; slopePerDay: number } | null;
  /** `value` null: an episode drawn on a series that cannot show a freeze; its readings stay healthy. */
  stuck: { untilMs: number; value: number | null } | null;
  excursions: PlannedExcursion[];
}

/** The value side of one device: its series, with drift, stuck, spike and out-of-range faults applied. */
export interface DeviceReadings {
  /** The readings at `tsMs`, in the device's metric order, quantized to each sensor's resolution. */
  read(tsMs: number): SimReading[];
}

export interface DeviceReadingsContext {
  device: FleetDevice;
  startMs: number;
  endMs: number;
  faults: FaultRates;
  /** The device's signal streams: fork(`signal/<metric>`) per series, independent of faults. */
  signalRandom: Random;
  /** Draws every value-fault decision of this device. */
  faultRandom: Random;
  onFault: (fault: GroundTruthFault) => void;
  /** This device's planned process excursions (planExcursions). */
  excursions?: readonly PlannedExcursion[];
  /** The noise of readings during an excursion: a stream of its own, so excursions change nothing else. */
  excursionRandom?: Random;
}

/**
 * Builds the value side of one device. A drifting series is chosen up front (rate per series) and drifts
 * from a random instant in the first 90 % of the window to its end, by 3–10 noise sigmas per day. Stuck
 * episodes (rate per reading) freeze a series for 1–6 h; spikes jump 10–25 noise sigmas (staying inside
 * the spec range); out-of-range readings land 5–50 % of the span beyond it. Stuck wins over the others.
 *
 * Stuck and drift are injected only where they change what the sensor reports (docs/data-quality.md,
 * "Evaluation"): a freeze only where the noise moves a healthy reading by at least its resolution (a battery
 * gauge in whole percent shows one value for hours anyway), a drift only on a signal without a trend of its own
 * (a drift on a discharging battery reads as another discharge rate). Elsewhere the draws are still made, so
 * every other fault of the run stays where it was.
 */
export function createDeviceReadings(c: DeviceReadingsContext): DeviceReadings {
  const { device, faults, faultRandom: random } = c;
  const series: SeriesState[] = device.metrics.map((m) => {
    const drifting = random.chance(faults.drift ?? 0);
    const drawn = drifting
      ? {
          startMs: Math.round(c.startMs + random.between(0, 0.9) * (c.endMs - c.startMs)),
          slopePerDay: (random.chance(0.5) ? 1 : -1) * random.between(3, 10) * m.signal.noise,
        }
      : null;
    const drift = m.signal.trendPerDay === 0 ? drawn : null;
    if (drift) {
      c.onFault({
        kind: 'drift',
        device_id: device.deviceId,
        metric: m.metric,
        start: iso(drift.startMs),
        slope_per_day: round6(drift.slopePerDay),
        unit: m.unit,
      });
    }
    return {
      signal: createSignalSeries(m, c.signalRandom.fork(`signal/${m.metric}`), c.startMs),
      drift,
      stuck: null,
      excursions: (c.excursions ?? []).filter((e) => e.metric === m.metric),
    };
  });

  return {
    read(tsMs) {
      return series.map((s) => ({
        metric: s.signal.metric.metric,
        value: readValue(s, tsMs),
        quality: quality(),
      }));
    },
  };

  function quality(): SimReading['quality'] {
    return random.chance(0.001) ? 'uncertain' : 'good';
  }

  // Every draw of the faulted value is made even during an excursion, so excursions change nothing else.
  function readValue(s: SeriesState, tsMs: number): number {
    const value = readFaulted(s, tsMs);
    return readExcursion(s, tsMs) ?? value;
  }

  function readFaulted(s: SeriesState, tsMs: number): number {
    const m = s.signal.metric;
    let value = s.signal.measure(tsMs);
    if (s.drift && tsMs >= s.drift.startMs) value += (s.drift.slopePerDay * (tsMs - s.drift.startMs)) / dayMs;
    value = quantize(value, m.resolution);
    if (s.stuck && tsMs < s.stuck.untilMs) return s.stuck.value ?? value;
    s.stuck = null;
    if (random.chance(faults.stuck ?? 0)) {
      const untilMs = Math.min(c.endMs, tsMs + Math.round(random.between(1, 6) * hourMs));
      if (m.signal.noise < m.resolution) {
        s.stuck = { untilMs, value: null };
        return value;
      }
      s.stuck = { untilMs, value };
      c.onFault({
        kind: 'stuck',
        device_id: device.deviceId,
        metric: m.metric,
        start: iso(tsMs),
        end: iso(untilMs),
        value,
        unit: m.unit,
      });
      return value;
    }
    if (random.chance(faults.spike ?? 0)) {
      const jump = random.between(10, 25) * m.signal.noise;
      const up = value + jump <= m.rangeMax;
      const down = value - jump >= m.rangeMin;
      const sign = up && down ? (random.chance(0.5) ? 1 : -1) : up ? 1 : -1;
      const spiked = quantize(Math.min(m.rangeMax, Math.max(m.rangeMin, value + sign * jump)), m.resolution);
      c.onFault({
        kind: 'spike',
        device_id: device.deviceId,
        metric: m.metric,
        ts: iso(tsMs),
        value: spiked,
        expected: value,
        unit: m.unit,
      });
      return spiked;
    }
    if (random.chance(faults.out_of_range ?? 0)) {
      const span = m.rangeMax - m.rangeMin;
      const beyond = random.between(0.05, 0.5) * span;
      const wild = quantize(random.chance(0.5) ? m.rangeMax + beyond : m.rangeMin - beyond, m.resolution);
      c.onFault({
        kind: 'out_of_range',
        device_id: device.deviceId,
        metric: m.metric,
        ts: iso(tsMs),
        value: wild,
        range_min: m.rangeMin,
        range_max: m.rangeMax,
        unit: m.unit,
      });
      return wild;
    }
    return value;
  }

  // A process excursion (a machine running hot, a bearing failing) is real, so the sensor reports it: the
  // series reads past the top of its measuring range, where the alert rules (connectors/alert-rules.yaml) look.
  function readExcursion(s: SeriesState, tsMs: number): number | null {
    const e = s.excursions.find((x) => x.startMs <= tsMs && tsMs < x.endMs);
    if (!e || !c.excursionRandom) return null;
    const m = s.signal.metric;
    return quantize(e.level + c.excursionRandom.gaussian() * m.signal.noise, m.resolution);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
