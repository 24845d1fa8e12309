import type { Queryable } from '../db/index.ts';

interface Version {
  sk: number;
  from: number;
  to: number;
}

interface DeviceVersion extends Version {
  assetNk: string | null;
}

/** What enrichment resolves for one reading: surrogate keys as of the reading's time. */
export interface ResolvedKeys {
  deviceSk: number;
  assetSk: number;
  metricSk: number;
}

/** Business context of a reading from the CMMS: the work order open at its time, and the last one finished before. */
export interface MaintenanceContext {
  openWorkOrder: string | null;
  openEventType: string | null;
  lastMaintenanceAt: number | null;
}

interface MaintenanceWindow {
  workOrder: string;
  type: string;
  from: number;
  to: number;
}

export interface ReferenceCacheStats {
  devices: number;
  assets: number;
  metrics: number;
  inferredDevices: number;
}

const UNKNOWN = -1;

/**
 * Reference data for enrichment, read from the warehouse dimensions: device and asset versions (SCD2, so a
 * late reading attaches to the version valid at its timestamp) and metrics. Missing devices are looked up in
 * bulk once per batch; a device the warehouse has never seen gets an inferred member, so no reading is lost.
 */
export class ReferenceCache {
  private devices = new Map<string, DeviceVersion[]>();
  private assets = new Map<string, Version[]>();
  private metrics = new Map<string, number>();
  private maintenance = new Map<string, MaintenanceWindow[]>();
  private loadedAt = 0;
  private readonly maxAgeMs: number;
  inferredDevices = 0;

  /** @param maxAgeMs how long loaded dimensions are trusted before a full reload. */
  constructor(maxAgeMs = 60_000) {
    this.maxAgeMs = maxAgeMs;
  }

  /** Reloads everything when stale; cheap to call per batch. */
  async refresh(client: Queryable, force = false): Promise<void> {
    if (!force && Date.now() - this.loadedAt < this.maxAgeMs) return;
    const metrics = await client.query<{ metric_sk: number; metric_code: string }>(
      'SELECT metric_sk, metric_code FROM dw.dim_metric WHERE metric_sk > 0',
    );
    this.metrics = new Map(metrics.rows.map((r) => [r.metric_code, r.metric_sk]));
    this.devices = new Map();
    this.addDevices((await client.query(deviceQuery('device_sk > 0'))).rows);
    this.assets = new Map();
    const assets = await client.query<{ asset_sk: number; asset_nk: string; f: number; t: number }>(
      `SELECT asset_sk, asset_nk, ${epoch('valid_from')} AS f, ${epoch('valid_to')} AS t FROM dw.dim_asset WHERE asset_sk > 0`,
    );
    for (const r of assets.rows) push(this.assets, r.asset_nk, { sk: r.asset_sk, from: r.f, to: r.t });
    // Work orders of the last 90 days are enough context for live data and ordinary late arrivals.
    const work = await client.query<{
      device_nk: string;
      wo: string;
      event_type: string;
      f: number;
      t: number;
    }>(
      `SELECT d.device_nk, coalesce(e.work_order_number, e.source_event_id) AS wo, e.event_type,
              extract(epoch FROM e.started_at) * 1000 AS f,
              coalesce(extract(epoch FROM e.finished_at) * 1000, 'Infinity'::float8) AS t
       FROM dw.fact_maintenance_event e JOIN dw.dim_device d USING (device_sk)
       WHERE e.status <> 'cancelled' AND (e.finished_at IS NULL OR e.finished_at > now() - interval '90 days')`,
    );
    this.maintenance = new Map();
    for (const r of work.rows) {
      const list = this.maintenance.get(r.device_nk) ?? [];
      list.push({ workOrder: r.wo, type: r.event_type, from: r.f, to: r.t });
      this.maintenance.set(r.device_nk, list);
    }
    this.loadedAt = Date.now();
  }

  metricSk(code: string): number | null {
    return this.metrics.get(code) ?? null;
  }

  /**
   * Makes sure every device in `deviceIds` has at least one version: looks the unknown ones up in bulk, then
   * creates inferred members (in the caller's transaction) for those the warehouse does not have.
   */
  async ensureDevices(client: Queryable, deviceIds: Iterable<string>): Promise<string[]> {
    const missing = [...new Set(deviceIds)].filter((id) => !this.devices.has(id));
    if (missing.length === 0) return [];
    this.addDevices((await client.query(deviceQuery('device_nk = ANY($1)'), [missing])).rows);
    const stillMissing = missing.filter((id) => !this.devices.has(id));
    if (stillMissing.length === 0) return [];
    // valid from -infinity: every reading of the device, however late, attaches to the inferred member until
    // MDM describes it; the partial unique index on current rows makes concurrent inference safe.
    await client.query(
      `INSERT INTO dw.dim_device (device_nk, valid_from, is_inferred, lifecycle_status, row_hash, source_system)
       SELECT nk, '-infinity', true, 'inferred', '\\x00', 'hub-ingest' FROM unnest($1::text[]) AS nk
       ON CONFLICT (device_nk) WHERE is_current DO NOTHING`,
      [stillMissing],
    );
    this.addDevices((await client.query(deviceQuery('device_nk = ANY($1)'), [stillMissing])).rows);
    this.inferredDevices += stillMissing.length;
    return stillMissing;
  }

  /** Keys for a reading of `deviceId` at `tsMs`; metric null when the metric is unknown. */
  resolve(deviceId: string, metric: string, tsMs: number): ResolvedKeys | null {
    const metricSk = this.metrics.get(metric);
    if (metricSk === undefined) return null;
    const device = asOf(this.devices.get(deviceId), tsMs);
    const asset = device?.assetNk ? asOf(this.assets.get(device.assetNk), tsMs) : undefined;
    return { deviceSk: device?.sk ?? UNKNOWN, assetSk: asset?.sk ?? UNKNOWN, metricSk };
  }

  /** Maintenance context of `deviceId` at `tsMs`. */
  maintenanceAt(deviceId: string, tsMs: number): MaintenanceContext {
    let open: MaintenanceWindow | null = null;
    let last: number | null = null;
    for (const w of this.maintenance.get(deviceId) ?? []) {
      if (w.from <= tsMs && tsMs < w.to) open = w;
      else if (w.to <= tsMs && (last === null || w.to > last)) last = w.to;
    }
    return {
      openWorkOrder: open?.workOrder ?? null,
      openEventType: open?.type ?? null,
      lastMaintenanceAt: last,
    };
  }

  stats(): ReferenceCacheStats {
    return {
      devices: this.devices.size,
      assets: this.assets.size,
      metrics: this.metrics.size,
      inferredDevices: this.inferredDevices,
    };
  }

  private addDevices(
    rows: { device_sk: number; device_nk: string; asset_nk: string | null; f: number; t: number }[],
  ): void {
    for (const r of rows) {
      const list = this.devices.get(r.device_nk) ?? [];
      if (!list.some((v) => v.sk === r.device_sk))
        list.push({ sk: r.device_sk, from: r.f, to: r.t, assetNk: r.asset_nk });
      list.sort((a, b) => a.from - b.from);
      this.devices.set(r.device_nk, list);
    }
  }
}

// ±infinity become ±Infinity in JavaScript, so as-of comparisons need no special cases.
function epoch(column: string): string {
  return `CASE WHEN ${column} = '-infinity' THEN '-Infinity'::float8 WHEN ${column} = 'infinity' THEN 'Infinity'::float8 ELSE extract(epoch FROM ${column}) * 1000 END`;
}

function deviceQuery(where: string): string {
  return `SELECT device_sk, device_nk, installed_asset_nk AS asset_nk, ${epoch('valid_from')} AS f, ${epoch('valid_to')} AS t
          FROM dw.dim_device WHERE ${where}`;
}

function push<T extends Version>(map: Map<string, T[]>, key: string, v: T): void {
  const list = map.get(key) ?? [];
  list.push(v);
  list.sort((a, b) => a.from - b.from);
  map.set(key, list);
}

function asOf<T extends Version>(versions: T[] | undefined, ts: number): T | undefined {
  if (!versions) return undefined;
  for (const v of versions) if (v.from <= ts && ts < v.to) return v;
  // A reading before the first version attaches to the earliest one rather than to nobody.
  return versions[0];
}
