import type { FleetDevice } from './fleet-types.ts';
import type { SimulatedMetric } from './metric-profiles.ts';
import type { Random } from './random.ts';

/** One reading before encoding, in the canonical unit of its metric. */
export interface SimReading {
  metric: SimulatedMetric;
  value: number;
  /** The device's own quality flag; most readings are good. */
  quality: 'good' | 'uncertain';
}

/** One message as a vendor's gateway would send it, still an object so a fault can bend it. */
export interface EncodedMessage {
  deviceId: string;
  /** The reading instant the payload carries. */
  tsMs: number;
  /** Metrics of the readings the payload carries, in order; the mapping makes one row per entry. */
  metrics: readonly SimulatedMetric[];
  payload: Record<string, unknown>;
}

/**
 * A vendor's wire format: how its devices encode readings (units, names, timestamps) and how a payload
 * breaks the vendor's source contract while still routing to its mapping (so it is dead-lettered as
 * SOURCE_INVALID, not left unrouted). Formats mirror mappings/*.yaml and mappings/contracts/*.json exactly.
 */
export interface VendorFormat {
  /** Key used in the fleet (FleetDevice.vendor) and in SimulateOptions.topics. */
  readonly name: string;
  /** Id of the mapping that reads it (mappings/*.yaml), whose late_data bounds the simulated window. */
  readonly mappingId: string;
  /** The topic its mapping reads (source.topic). */
  readonly defaultTopic: string;
  /** UCUM code of the unit it sends each metric in (MDM metric_specs.native_unit). */
  readonly nativeUnits: Readonly<Record<SimulatedMetric, string>>;
  /**
   * Encodes one device's readings at one instant as one message or several (one per metric). `sequence`
   * counts the device's measurements from 0, for formats that carry a per-device sequence number.
   */
  encode(
    device: FleetDevice,
    tsMs: number,
    readings: readonly SimReading[],
    sequence: number,
  ): EncodedMessage[];
  /** A copy of `message`'s payload dated `tsMs` instead, readings unchanged (for future-dated faults). */
  redate(message: EncodedMessage, tsMs: number): Record<string, unknown>;
  /** A copy of `message` the contract rejects, with a sentence saying how it is broken. */
  breakSchema(message: EncodedMessage, random: Random): { payload: Record<string, unknown>; detail: string };
}
