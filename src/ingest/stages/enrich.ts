import type { Queryable } from '../../db/index.ts';
import type { MissingDevicePolicy, ReferenceCache, ReferenceSnapshot } from '../../enrich/index.ts';
import type { HubMessage } from '../../kafka/index.ts';
import type { CompiledMapping } from '../../mapping/index.ts';
import type { FactReading } from '../../warehouse/index.ts';
import type { BatchLedger } from './batch-ledger.ts';
import type { MappedReading } from './map.ts';

/** How a FactMapping's `lookups` resolve a reading's device and metric (defaults when a lookup is absent). */
export interface FactLookups {
  /** Field of the mapped row with the device's natural key (dim_device.device_nk). */
  deviceField: string;
  /** Field with the time the device version is taken at; null: the current version. */
  deviceAsOf: string | null;
  onMissingDevice: MissingDevicePolicy;
  /** Field with the metric code (dim_metric.metric_code). */
  metricField: string;
  onMissingMetric: 'quarantine' | 'unknown_member';
  /**
   * Field with the asset the device reports itself on (a lookup on dim_asset), or null. It only places devices
   * MDM does not know yet: an inferred member is installed on that asset, so its readings get a site and line.
   */
  assetField: string | null;
}

const lookupCache = new WeakMap<CompiledMapping, FactLookups>();

/**
 * The lookups of a FactMapping for dw.fact_sensor_reading, checked: only dim_device and dim_metric by their
 * natural keys, and no inferred metrics (a metric needs its canonical unit). Throws an error naming the
 * mapping file and what to write instead.
 */
export function factLookups(mapping: CompiledMapping): FactLookups {
  const cached = lookupCache.get(mapping);
  if (cached) return cached;
  const where = `${mapping.file} (mapping ${mapping.id} v${mapping.version})`;
  const result: FactLookups = {
    deviceField: 'device_id',
    deviceAsOf: 'ts',
    onMissingDevice: 'infer',
    metricField: 'metric',
    onMissingMetric: 'quarantine',
    assetField: null,
  };
  for (const lookup of mapping.lookups) {
    const at = `${lookup.location.file}:${lookup.location.line}:${lookup.location.col}`;
    const keyField = (column: string): string => {
      const field = lookup.naturalKey[column];
      if (!field || Object.keys(lookup.naturalKey).length !== 1)
        throw new Error(`${at}: lookup '${lookup.name}' must be natural_key: { ${column}: <field> }`);
      if (!mapping.fieldNames.includes(field))
        throw new Error(
          `${at}: lookup '${lookup.name}' reads field '${field}', which the mapping does not output`,
        );
      return field;
    };
    if (lookup.dimension === 'dim_device') {
      result.deviceField = keyField('device_nk');
      result.deviceAsOf = lookup.asOf;
      result.onMissingDevice = lookup.onMissing;
    } else if (lookup.dimension === 'dim_metric') {
      result.metricField = keyField('metric_code');
      if (lookup.onMissing === 'infer')
        throw new Error(
          `${at}: lookup '${lookup.name}': on_missing: infer is not possible for dim_metric (a metric needs its canonical unit); use quarantine or unknown_member`,
        );
      result.onMissingMetric = lookup.onMissing;
    } else if (lookup.dimension === 'dim_asset') {
      result.assetField = keyField('asset_nk');
    } else {
      throw new Error(
        `${at}: lookup '${lookup.name}' on ${lookup.dimension}: the telemetry ingest resolves dim_device, dim_metric and dim_asset only`,
      );
    }
  }
  for (const field of [result.deviceField, result.metricField, 'ts', 'value'])
    if (!mapping.fieldNames.includes(field))
      throw new Error(`${where}: a FactMapping must output field '${field}'`);
  lookupCache.set(mapping, result);
  return result;
}

export interface EnrichContext {
  client: Queryable;
  cache: ReferenceCache;
  snapshot: ReferenceSnapshot;
  now: number;
  collectValues: boolean;
}

/** A loaded reading's value by natural keys, for listeners such as the alert rules. */
export interface LoadedValue {
  deviceId: string;
  metric: string;
  value: number;
  ts: number;
}

export interface EnrichResult {
  facts: FactReading[];
  values: LoadedValue[];
  inferredDevices: string[];
  duringMaintenance: number;
  newestReadingMs: number | null;
  /** The snapshot the batch resolved against, with the devices it fetched or inferred. */
  snapshot: ReferenceSnapshot;
}

interface Candidate {
  m: MappedReading;
  lookups: FactLookups;
  deviceNk: string;
  tsMs: number;
  metricSk: number;
}

/**
 * enrich: each reading's time within the mapping's late-data limits, its metric, its unit (the metric's
 * canonical unit), and its device and asset as of its time. A reading that fails any of these is a dead letter
 * of its own; a message whose readings all fail for one reason is one dead letter.
 */
export async function enrichReadings(
  mapped: readonly MappedReading[],
  ctx: EnrichContext,
  ledger: BatchLedger,
): Promise<EnrichResult> {
  const candidates: Candidate[] = [];
  const drop = (m: MappedReading, code: string, message: string) =>
    ledger.dropReading({
      stage: 'enrich',
      record: m.record,
      code,
      message,
      mappingId: m.mapping.id,
      mappingVersion: m.mapping.version,
      readingIndex: m.element,
    });
  // The rows of one message usually share its timestamp text: parse each distinct text once.
  let lastTs: unknown;
  let lastTsMs = Number.NaN;
  let lastMapping: CompiledMapping | null = null;
  let lookups: FactLookups | null = null;
  for (const m of mapped) {
    if (ledger.isDead(m.record)) continue;
    if (m.mapping !== lastMapping) {
      lastMapping = m.mapping;
      lookups = factLookups(m.mapping);
    }
    if (!lookups) continue;
    if (m.row.ts !== lastTs) {
      lastTs = m.row.ts;
      lastTsMs = typeof lastTs === 'string' ? Date.parse(lastTs) : Number.NaN;
    }
    const tsMs = lastTsMs;
    const late = lateDataProblem(tsMs, ctx.now, m.mapping);
    if (late) {
      drop(m, late.code, late.message);
      continue;
    }
    const code = String(m.row[lookups.metricField]);
    const metric = ctx.snapshot.metric(code);
    if (!metric && lookups.onMissingMetric === 'quarantine') {
      drop(
        m,
        'UNKNOWN_METRIC',
        `metric '${code}' is not in dw.dim_metric; add it there or map it to a known metric`,
      );
      continue;
    }
    const unit = m.row.unit;
    if (metric?.canonicalUnit && typeof unit === 'string' && unit !== metric.canonicalUnit) {
      drop(
        m,
        'UNIT_MISMATCH',
        `unit '${unit}' is not the canonical unit '${metric.canonicalUnit}' of metric '${code}' in dw.dim_metric; convert it in ${m.mapping.file} (convert_unit)`,
      );
      continue;
    }
    const deviceNk = m.row[lookups.deviceField];
    if (typeof deviceNk !== 'string' || deviceNk.length === 0) {
      drop(m, 'NO_DEVICE_ID', `field '${lookups.deviceField}' holds no device id`);
      continue;
    }
    candidates.push({ m, lookups, deviceNk, tsMs, metricSk: metric?.sk ?? -1 });
  }

  // Devices, per missing-device policy: the mappings of one batch may differ in it.
  let snapshot = ctx.snapshot;
  const inferredDevices: string[] = [];
  const missing = new Set<string>();
  const byPolicy = new Map<MissingDevicePolicy, string[]>();
  const assetOf = new Map<string, string>();
  for (const c of candidates) {
    const list = byPolicy.get(c.lookups.onMissingDevice);
    if (list) list.push(c.deviceNk);
    else byPolicy.set(c.lookups.onMissingDevice, [c.deviceNk]);
    const asset = c.lookups.assetField === null ? null : c.m.row[c.lookups.assetField];
    if (typeof asset === 'string' && asset.length > 0 && !assetOf.has(c.deviceNk))
      assetOf.set(c.deviceNk, asset);
  }
  for (const [policy, nks] of byPolicy) {
    const found = await ctx.cache.lookupDevices(ctx.client, snapshot, nks, policy, assetOf);
    snapshot = found.snapshot;
    inferredDevices.push(...found.inferred);
    if (policy === 'quarantine') for (const nk of found.missing) missing.add(nk);
  }

  const facts: FactReading[] = [];
  const values: LoadedValue[] = [];
  const survivors = new Map<HubMessage, number>();
  let newest: number | null = null;
  let duringMaintenance = 0;
  const checkMaintenance = snapshot.hasMaintenance;
  for (const c of candidates) {
    const { m, deviceNk, tsMs } = c;
    if (missing.has(deviceNk)) {
      drop(
        m,
        'UNKNOWN_DEVICE',
        `device '${deviceNk}' is not in dw.dim_device (lookups on_missing: quarantine in ${m.mapping.file}); replay once MDM has it`,
      );
      continue;
    }
    const asOfField = c.lookups.deviceAsOf;
    const asOf =
      asOfField === 'ts' ? tsMs : asOfField === null ? ctx.now : Date.parse(String(m.row[asOfField]));
    const keys = snapshot.keysAt(deviceNk, Number.isFinite(asOf) ? asOf : tsMs);
    let quality = typeof m.row.quality === 'number' ? m.row.quality : 2;
    // A reading taken while a work order is open on its device (calibration, repair) is QARTOD "suspect":
    // rollups and detectors can discount it, and nobody is paged for a sensor a technician has in hand.
    if (checkMaintenance && quality <= 2 && snapshot.maintenanceAt(deviceNk, tsMs).openWorkOrder !== null) {
      quality = 3;
      duringMaintenance += 1;
    }
    const value = typeof m.row.value === 'number' && Number.isFinite(m.row.value) ? m.row.value : null;
    facts.push({
      deviceSk: keys.deviceSk,
      assetSk: keys.assetSk,
      metricSk: c.metricSk,
      tsMs,
      value,
      quality,
      mappingId: m.mapping.id,
      mappingVersion: m.mapping.version,
      topic: m.record.topic,
      partition: m.record.partition,
      offset: m.record.offset,
    });
    survivors.set(m.record, (survivors.get(m.record) ?? 0) + 1);
    if (ctx.collectValues && value !== null)
      values.push({ deviceId: deviceNk, metric: String(m.row[c.lookups.metricField]), value, ts: tsMs });
    if (newest === null || tsMs > newest) newest = tsMs;
  }
  ledger.collapse((record) => survivors.get(record) ?? 0);
  return { facts, values, inferredDevices, duringMaintenance, newestReadingMs: newest, snapshot };
}

function lateDataProblem(
  tsMs: number,
  now: number,
  mapping: CompiledMapping,
): { code: string; message: string } | null {
  if (!Number.isFinite(tsMs))
    return { code: 'INVALID_TIMESTAMP', message: 'the mapped ts is not a timestamp' };
  const { futureSkewMs, maxLatenessMs } = mapping.lateData;
  if (futureSkewMs !== null && tsMs > now + futureSkewMs) {
    return {
      code: 'FUTURE_TIMESTAMP',
      message: `reading time ${new Date(tsMs).toISOString()} is more than ${futureSkewMs / 1000} s ahead of the hub's clock (late_data.future_skew in ${mapping.file}); fix the device clock, then replay`,
    };
  }
  if (maxLatenessMs !== null && tsMs < now - maxLatenessMs) {
    return {
      code: 'TOO_LATE',
      message: `reading time ${new Date(tsMs).toISOString()} is older than late_data.max_lateness (${maxLatenessMs / 1000} s) in ${mapping.file}; load it as a backfill`,
    };
  }
  return null;
}
