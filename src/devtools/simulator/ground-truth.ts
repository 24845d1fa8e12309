import type { FaultKind } from './fault-rates.ts';
import type { SimulationLedger } from './ledger.ts';

/**
 * One injected fault, as evaluation needs it. Times are ISO-8601 UTC; `seq` is the x-sim-seq header of the
 * Kafka record concerned (its index in send order), so a dead letter or a loaded row can be matched to it.
 */
export type GroundTruthFault =
  | { kind: 'drift'; device_id: string; metric: string; start: string; slope_per_day: number; unit: string }
  | {
      kind: 'stuck';
      device_id: string;
      metric: string;
      start: string;
      end: string;
      value: number;
      unit: string;
    }
  | { kind: 'gap'; device_id: string; start: string; end: string; missed_slots: number }
  | {
      kind: 'spike';
      device_id: string;
      metric: string;
      ts: string;
      value: number;
      expected: number;
      unit: string;
    }
  | {
      kind: 'out_of_range';
      device_id: string;
      metric: string;
      ts: string;
      value: number;
      range_min: number;
      range_max: number;
      unit: string;
    }
  | {
      kind: 'malformed';
      variant: 'broken_json' | 'schema_invalid';
      topic: string;
      device_id: string;
      ts: string;
      seq: number;
      detail: string;
    }
  | { kind: 'future'; topic: string; device_id: string; ts: string; true_ts: string; seq: number }
  | { kind: 'duplicate'; topic: string; device_id: string; ts: string; seq: number; readings: number }
  | { kind: 'out_of_order'; topic: string; device_id: string; ts: string; seq: number; overtaken_by: number }
  | { kind: 'late'; topic: string; device_id: string; ts: string; seq: number; late_by_s: number }
  | { kind: 'unknown_device'; topic: string; device_id: string; readings: number };

/**
 * A process excursion (SimulationSpec.excursions): from `start` to `end` the series reads about `level`, past
 * the device's measuring range, so a threshold alert rule on it should open once and clear afterwards.
 */
export interface GroundTruthExcursion {
  device_id: string;
  metric: string;
  start: string;
  end: string;
  level: number;
  range_max: number;
  unit: string;
}

/** The ground-truth file `simulate` writes: what was sent, what was wrong with it, and the exact ledger. */
export interface GroundTruth {
  generator: 'iot-hub simulate';
  seed: number | string;
  /** Simulated window [start, end) of the regular readings. */
  start: string;
  end: string;
  interval_s: number;
  /** Vendor format → topic. */
  topics: Record<string, string>;
  fault_rates: Partial<Record<FaultKind, number>>;
  fleet: { sites: number; assets: number; devices: number; unknown_devices: number; id_prefix: string };
  ledger: SimulationLedger;
  /** Injected faults per kind (entries in `faults`). */
  fault_counts: Partial<Record<FaultKind, number>>;
  faults: GroundTruthFault[];
  /** The process excursions injected (SimulationSpec.excursions), by start. */
  excursions: GroundTruthExcursion[];
}
