import type { SimulatedMetric } from './metric-profiles.ts';

export type AssetLevel = 'site' | 'area' | 'line' | 'asset';

/** One node of the plant hierarchy, as MDM stores it (public.asset) and dw.dim_asset flattens it. */
export interface FleetAsset {
  assetId: string;
  parentId: string | null;
  level: AssetLevel;
  name: string;
  /** Machine type (pump, compressor, …) on level asset; null above. */
  assetType: string | null;
  criticality: 'high' | 'medium' | 'low' | null;
  /** IANA zone of the site the node belongs to. */
  timeZone: string;
  /** Ids from the site down to this node (inclusive). */
  path: readonly string[];
}

/** The healthy signal of one metric on one device, in the canonical unit. */
export interface SignalShape {
  base: number;
  dailyAmplitude: number;
  /** Hour of day (UTC) of the daily peak. */
  peakHourUtc: number;
  noise: number;
  trendPerDay: number;
  /** Power: level at night as a fraction of the day level; 1 for metrics without shifts. */
  nightFactor: number;
  clamp: readonly [number, number];
}

/** One metric a device reports, with its spec in the canonical UCUM unit. */
export interface FleetMetric {
  metric: SimulatedMetric;
  unit: string;
  rangeMin: number;
  rangeMax: number;
  resolution: number;
  signal: SignalShape;
}

export interface FleetDevice {
  deviceId: string;
  /** False for the unknown devices: they send telemetry but MDM (and the warehouse) never hear of them. */
  registered: boolean;
  /** Wire format the device speaks (a key of the simulator's vendor formats). */
  vendor: string;
  manufacturer: string;
  model: string;
  serialNumber: string;
  firmwareVersion: string;
  /** Asset the device is mounted on; null for unknown devices. */
  assetId: string | null;
  installedAt: Date;
  metrics: readonly [FleetMetric, ...FleetMetric[]];
  expectedIntervalS: number;
  calibrationIntervalDays: number;
  lastCalibratedAt: Date;
  /** yyyy-mm-dd, lastCalibratedAt + calibrationIntervalDays. */
  calibrationDue: string;
}

/** Sizes and anchors of a generated fleet. */
export interface FleetOptions {
  /** Registered devices (seeded to MDM). @defaultValue 20 */
  devices?: number;
  /** @defaultValue 2 */
  sites?: number;
  /** Devices that send telemetry but are not in MDM. @defaultValue 0 */
  unknownDevices?: number;
  /** Reporting interval of every device, seconds. @defaultValue 60 */
  intervalS?: number;
  /** Wire formats to split the devices across, round robin. @defaultValue every known vendor */
  vendors?: readonly string[];
  /**
   * Prefixed to every asset and device id, so concurrent tests (or demos) sharing the MDM and warehouse
   * databases do not overwrite each other's rows. @defaultValue ''
   */
  idPrefix?: string;
  /** Installation and calibration dates are drawn before this instant. @defaultValue start of the current UTC day */
  asOf?: Date;
}

export interface Fleet {
  seed: number | string;
  asOf: Date;
  idPrefix: string;
  /** Sites, areas, lines and machines, parents before children. */
  assets: readonly FleetAsset[];
  /** Registered devices first, then the unknown ones. */
  devices: readonly FleetDevice[];
}
