import type { Fleet } from './fleet-types.ts';
import type { GroundTruthExcursion } from './ground-truth.ts';
import type { Random } from './random.ts';
import { quantize } from './signal.ts';

const minuteMs = 60_000;
/** The metrics a machine's trouble shows in: it runs hot, or a bearing fails and it shakes. */
const excursionMetrics = new Set(['temperature', 'vibration']);

/** A planned excursion with its times as numbers, for the series that read it. */
export interface PlannedExcursion extends GroundTruthExcursion {
  startMs: number;
  endMs: number;
}

/**
 * Plans `count` process excursions over the registered devices' temperature and vibration series: each starts
 * on a reading slot at least 15 minutes before the window's end and lasts 10–40 min (cut at the end), reading
 * 2–10 % of the measuring span past its top; the last to start is still going when the window ends, so a run
 * with excursions leaves at least one alert open (the others may clear again). Drawn from `random` alone, so
 * the rest of the run is unchanged. None when no device has such a series.
 */
export function planExcursions(
  fleet: Fleet,
  random: Random,
  window: { startMs: number; endMs: number; intervalMs: number },
  count: number,
): PlannedExcursion[] {
  const series = fleet.devices
    .filter((d) => d.registered)
    .flatMap((d) => d.metrics.filter((m) => excursionMetrics.has(m.metric)).map((m) => ({ d, m })));
  if (series.length === 0 || count <= 0) return [];
  const slots = Math.max(1, Math.floor((window.endMs - window.startMs - 15 * minuteMs) / window.intervalMs));
  const planned: PlannedExcursion[] = [];
  for (let i = 0; i < count; i++) {
    const { d, m } = random.pick(series);
    const startMs = window.startMs + random.int(0, slots - 1) * window.intervalMs;
    const endMs = Math.min(window.endMs, startMs + Math.round(random.between(10, 40)) * minuteMs);
    const level = quantize(m.rangeMax + random.between(0.02, 0.1) * (m.rangeMax - m.rangeMin), m.resolution);
    planned.push({
      device_id: d.deviceId,
      metric: m.metric,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      level,
      range_max: m.rangeMax,
      unit: m.unit,
      startMs,
      endMs,
    });
  }
  planned.sort((a, b) => a.startMs - b.startMs);
  const last = planned.at(-1)!;
  last.endMs = window.endMs;
  last.end = new Date(window.endMs).toISOString();
  return planned;
}
