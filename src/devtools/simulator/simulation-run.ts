import { planExcursions } from './excursions.ts';
import { checkFaultRates, type FaultKind } from './fault-rates.ts';
import { generateFleet, startOfUtcDay } from './fleet.ts';
import type { Fleet } from './fleet-types.ts';
import type { GroundTruth, GroundTruthExcursion, GroundTruthFault } from './ground-truth.ts';
import type { SimulationLedger } from './ledger.ts';
import { createRandom } from './random.ts';
import type { SimulationSpec } from './simulation-options.ts';
import { generateTelemetry, type SimRecord } from './telemetry-stream.ts';
import { vendorFormats } from './vendor-formats.ts';

const hourMs = 3_600_000;

/** A planned simulation: the fleet, the window, and the records to send (generated lazily, once). */
export interface SimulationRun {
  fleet: Fleet;
  /** Vendor → topic, for the vendors the fleet uses. */
  topics: Record<string, string>;
  startMs: number;
  endMs: number;
  intervalMs: number;
  /** The records in send order. Single use: a second call throws. */
  records(): Generator<SimRecord>;
  /** Faults injected so far (all of them once records() is exhausted), in generation order. */
  readonly faults: readonly GroundTruthFault[];
  /** The process excursions the run injects (SimulationSpec.excursions). */
  readonly excursions: readonly GroundTruthExcursion[];
  /** The ground-truth document for `ledger` (the ledger of what was actually sent). */
  groundTruth(ledger: SimulationLedger): GroundTruth;
}

/**
 * Plans a simulation without touching Kafka or a database: a pure function of `spec` (and, only when
 * spec.start is absent, of the clock). Throws RangeError for invalid sizes, rates, vendors or interval.
 * `simulate` sends what this plans; tests use it to check determinism offline.
 */
export function createSimulationRun(spec: SimulationSpec & { realtime?: boolean }): SimulationRun {
  const seed = spec.seed ?? 1;
  const durationMs = spec.durationMs ?? hourMs;
  const intervalMs = spec.intervalMs ?? 60_000;
  const faults = spec.faults ?? {};
  checkFaultRates(faults);
  const excursionCount = spec.excursions ?? 0;
  if (!Number.isInteger(excursionCount) || excursionCount < 0)
    throw new RangeError(`excursions must be a whole number ≥ 0, got ${String(spec.excursions)}`);
  if (!(durationMs > 0)) throw new RangeError('durationMs must be > 0');
  if (!(intervalMs >= 1000) || intervalMs % 1000 !== 0) {
    throw new RangeError('interval must be a whole number of seconds, at least 1 s');
  }
  const startMs = (
    spec.start ??
    (spec.realtime
      ? new Date(Math.floor(Date.now() / 1000) * 1000)
      : new Date(Math.floor(Date.now() / hourMs) * hourMs - durationMs))
  ).getTime();
  const endMs = startMs + durationMs;
  const vendors = spec.vendors ?? Object.keys(vendorFormats);
  const unknownRate = faults.unknown_device ?? 0;
  const devices = spec.devices ?? 20;
  const fleet = generateFleet(seed, {
    devices,
    sites: spec.sites ?? 2,
    unknownDevices: unknownRate > 0 ? Math.max(1, Math.round(devices * unknownRate)) : 0,
    intervalS: intervalMs / 1000,
    vendors,
    idPrefix: spec.idPrefix ?? '',
    asOf: spec.fleetAsOf ?? startOfUtcDay(new Date(startMs)),
  });
  const formats = new Map(
    vendors.map((v) => {
      const format = vendorFormats[v];
      if (!format)
        throw new RangeError(`unknown vendor '${v}'; known: ${Object.keys(vendorFormats).join(', ')}`);
      return [v, { format, topic: spec.topics?.[v] ?? format.defaultTopic }] as const;
    }),
  );
  const topics = Object.fromEntries([...formats].map(([v, f]) => [v, f.topic]));
  const recorded: GroundTruthFault[] = [];
  const planned = planExcursions(
    fleet,
    createRandom(seed).fork('excursions'),
    { startMs, endMs, intervalMs },
    excursionCount,
  );
  const excursions: GroundTruthExcursion[] = planned.map(({ startMs: _s, endMs: _e, ...e }) => e);
  let used = false;

  return {
    fleet,
    topics,
    startMs,
    endMs,
    intervalMs,
    faults: recorded,
    excursions,
    records() {
      if (used) throw new Error('SimulationRun.records() is single use; plan the run again to regenerate');
      used = true;
      return generateTelemetry({
        fleet,
        formats,
        startMs,
        endMs,
        intervalMs,
        faults,
        random: createRandom(seed).fork('telemetry'),
        onFault: (fault) => recorded.push(fault),
        excursions: planned,
      });
    },
    groundTruth(ledger) {
      const counts: Partial<Record<FaultKind, number>> = {};
      for (const f of recorded) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      return {
        generator: 'iot-hub simulate',
        seed,
        start: new Date(startMs).toISOString(),
        end: new Date(endMs).toISOString(),
        interval_s: intervalMs / 1000,
        topics,
        fault_rates: { ...faults },
        fleet: {
          sites: fleet.assets.filter((a) => a.level === 'site').length,
          assets: fleet.assets.length,
          devices: fleet.devices.filter((d) => d.registered).length,
          unknown_devices: fleet.devices.filter((d) => !d.registered).length,
          id_prefix: fleet.idPrefix,
        },
        ledger,
        fault_counts: counts,
        faults: recorded,
        excursions,
      };
    },
  };
}
