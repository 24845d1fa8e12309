import type { FaultRates } from './fault-rates.ts';
import type { Fleet } from './fleet-types.ts';
import type { LateDataBounds } from './late-data-bounds.ts';

/** What a simulation generates: the fleet, the window and the faults. Everything here is deterministic. */
export interface SimulationSpec {
  /** Seed of every random choice; the same spec gives the same fleet, records and ledger. @defaultValue 1 */
  seed?: number | string;
  /** Registered devices. @defaultValue 20 */
  devices?: number;
  /** @defaultValue 2 */
  sites?: number;
  /** Length of the simulated window. @defaultValue 1 hour */
  durationMs?: number;
  /** Reporting interval of every device, a whole number of seconds. @defaultValue 60 s */
  intervalMs?: number;
  /**
   * First instant of the window. @defaultValue the top of the current hour minus durationMs, so the data
   * ends about now (for --realtime: now). Pass it explicitly for byte-identical reruns across hours.
   */
  start?: Date;
  faults?: FaultRates;
  /**
   * Process excursions, not data faults: how many times a registered device's temperature or vibration runs
   * past the top of its measuring range for 10–40 min, so alert rules open (and later clear) incidents. Drawn
   * from streams of their own: any number leaves the faults and the other values unchanged. @defaultValue 0
   */
  excursions?: number;
  /** Wire formats to split devices across, round robin. @defaultValue ['acme', 'flatline'] */
  vendors?: readonly string[];
  /** Vendor → topic. @defaultValue each mapping's source.topic: telemetry.acme, telemetry.flatline */
  topics?: Readonly<Record<string, string>>;
  /** Prefixed to asset and device ids, to keep concurrent runs' master data apart. @defaultValue '' */
  idPrefix?: string;
  /** Dates the fleet's installation and calibration dates are drawn before. @defaultValue start's UTC day */
  fleetAsOf?: Date;
}

/** Progress of a running simulation, reported every progressIntervalMs and once at the end. */
export interface SimulationProgress {
  messagesSent: number;
  readingsSent: number;
  /** Messages per second since the previous report. */
  messagesPerSecond: number;
  elapsedMs: number;
  /** Reading time of the latest record sent, ISO-8601. */
  simulatedTime: string | null;
  done: boolean;
}

/**
 * How fast records go out: as fast as possible (the default), at a fixed rate, or on the wall clock
 * (realtime: the window starts now and each record waits for its time). A rate and realtime exclude each other.
 */
export type SimulationPacing =
  | {
      /** Messages per second; null or absent sends as fast as possible. */
      rate?: number | null;
      realtime?: false;
    }
  | { realtime: true; rate?: never };

/** A simulation plus where it goes: Kafka, the MDM database, the warehouse, the ground-truth file. */
export type SimulateOptions = SimulationSpec & SimulationPacing & SimulateTargets;

export interface SimulateTargets {
  /** Records per producer send. @defaultValue 2000 */
  batchSize?: number;
  /**
   * Partitions of topics the run creates (existing ones are left alone), as in connectors/telemetry.yaml.
   * @defaultValue 4
   */
  partitions?: number;
  /** @defaultValue 'none' */
  compression?: 'none' | 'gzip';
  /** Upserts the registered devices and assets into the sample MDM database. @defaultValue true */
  seedMdm?: boolean;
  /** Writes a few maintenance work orders (src/devtools/simulator/seed-cmms.ts) into the sample CMMS. @defaultValue true */
  seedCmms?: boolean;
  /** Upserts current rows into dw.dim_asset, dw.bridge_asset_hierarchy, dw.dim_device. @defaultValue true */
  seedWarehouse?: boolean;
  /**
   * Called after the source systems are written and before any telemetry is sent, e.g. to wait until CDC has
   * carried the fleet into the warehouse dimensions (the demo).
   */
  beforeSend?: (fleet: Fleet) => Promise<void>;
  /** Writes the ground truth (faults and ledger) as JSON here. @defaultValue not written */
  groundTruthFile?: string | null;
  /** @defaultValue loadConfig().kafka */
  kafka?: { brokers: string[]; clientId?: string };
  /** The hub database (warehouse dimensions). @defaultValue loadConfig().database.url */
  databaseUrl?: string;
  /** Any URL on the server holding the `mdm` database (user and database are replaced). @defaultValue databaseUrl */
  mdmServerUrl?: string;
  /**
   * The pipeline's late_data bounds the window is checked against; null skips the check (e.g. to produce
   * history for a backfill, whose ledger then no longer matches a live load).
   * @defaultValue read from the vendors' mappings in ./mappings (5 min / 7 d when unreadable)
   */
  lateData?: LateDataBounds | null;
  onProgress?: (progress: SimulationProgress) => void;
  /** @defaultValue 5000 */
  progressIntervalMs?: number;
  /** Stops sending between batches; the result then covers what was sent. */
  signal?: AbortSignal;
}
