import type pg from 'pg';
import { inTransaction, type Queryable } from '../db/index.ts';
import {
  type AssetVersion,
  type DeviceVersion,
  groupVersions,
  type MaintenanceWindow,
  type MetricInfo,
  ReferenceSnapshot,
} from './reference-snapshot.ts';

/** What a batch does with a device the warehouse has no row for (a mapping's `lookups.device.on_missing`). */
export type MissingDevicePolicy = 'infer' | 'quarantine' | 'unknown_member';

export interface DeviceLookup {
  /** The batch's view: the shared snapshot plus the devices (and their assets) this batch fetched or inferred. */
  snapshot: ReferenceSnapshot;
  /** Devices given an inferred member in the caller's transaction; visible to others only once it commits. */
  inferred: string[];
  /** Devices with no row, left unresolved by the policy (quarantine, unknown_member). */
  missing: string[];
}

export interface ReferenceCacheOptions {
  /** A full reload at least this often, whatever the change check says. @defaultValue 60 s */
  maxAgeMs?: number;
  /** How often the cheap change check (one row read) runs at most. @defaultValue 200 ms */
  checkIntervalMs?: number;
}

/**
 * Reference data for enrichment. Batches read an immutable ReferenceSnapshot that is replaced whole, never
 * emptied in place. A committed change to a dimension bumps hub.reference_version (a trigger, see
 * docs/architecture.md), and `current()` compares that version at most every checkIntervalMs, so a change is
 * seen within a fraction of a second of its commit, in every hub process. A process that applied a change
 * itself (CDC) can call markChanged() to skip the wait.
 */
export class ReferenceCache {
  private readonly pool: pg.Pool;
  private readonly maxAgeMs: number;
  private readonly checkIntervalMs: number;
  private snapshot = ReferenceSnapshot.empty();
  private checkedAt = 0;
  private changed = true;
  private inflight: Promise<ReferenceSnapshot> | null = null;
  /** Devices inferred by committed batches of this process, for the metrics. */
  inferredDevices = 0;

  constructor(pool: pg.Pool, options: ReferenceCacheOptions = {}) {
    this.pool = pool;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.checkIntervalMs = options.checkIntervalMs ?? 200;
  }

  /** The snapshot as it is now, without checking for changes. */
  peek(): ReferenceSnapshot {
    return this.snapshot;
  }

  /** The next call of current() reloads (a change this process applied itself). */
  markChanged(): void {
    this.changed = true;
  }

  /** The snapshot a batch should use: reloaded first when the dimensions changed or it is older than maxAgeMs. */
  async current(): Promise<ReferenceSnapshot> {
    const now = Date.now();
    if (!this.changed && now - this.snapshot.loadedAt < this.maxAgeMs) {
      if (now - this.checkedAt < this.checkIntervalMs) return this.snapshot;
      this.checkedAt = now;
      const { rows } = await this.pool.query<{ version: number }>(
        'SELECT version FROM hub.reference_version',
      );
      if (Number(rows[0]?.version) === this.snapshot.version) return this.snapshot;
    }
    return this.reload();
  }

  /** Reloads everything now; concurrent callers share one reload. */
  reload(): Promise<ReferenceSnapshot> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /**
   * Makes sure each of `deviceNks` resolves in the batch's snapshot: devices the warehouse has (committed by
   * others since the snapshot was taken) are fetched with their assets and the assets' ancestors, and join
   * the shared snapshot too; under 'infer', the rest get an inferred member in the caller's transaction, which
   * only this batch sees until it commits (a rollback leaves no trace in any snapshot).
   */
  async lookupDevices(
    client: Queryable,
    snapshot: ReferenceSnapshot,
    deviceNks: Iterable<string>,
    policy: MissingDevicePolicy,
    /** For inferred members: the asset each device reports itself on (a mapping's asset lookup), if any. */
    assetOf?: ReadonlyMap<string, string>,
  ): Promise<DeviceLookup> {
    const unseen = [...new Set(deviceNks)].filter((nk) => !snapshot.hasDevice(nk)).sort();
    if (unseen.length === 0) return { snapshot, inferred: [], missing: [] };
    const committed = await fetchDevices(client, unseen, snapshot);
    let view = snapshot.with(committed.devices, committed.assets);
    // Committed rows are truth for everyone: later batches need not fetch them again. Keys the shared
    // snapshot learnt meanwhile (a reload) are not overwritten with what may be older rows.
    const fresh = new Map([...committed.devices].filter(([nk]) => !this.snapshot.hasDevice(nk)));
    if (fresh.size > 0) this.snapshot = this.snapshot.with(fresh, committed.assets);

    const stillMissing = unseen.filter((nk) => !committed.devices.has(nk));
    if (stillMissing.length === 0 || policy !== 'infer')
      return { snapshot: view, inferred: [], missing: stillMissing };
    // valid from -infinity: every reading of the device, however late, attaches to the inferred member until
    // MDM describes it. The partial unique index on current rows makes concurrent inference safe: a second
    // batch inferring the same device waits for the first to commit, then finds its row. Sorted keys keep two
    // batches from locking the same keys in opposite orders.
    await client.query(
      `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, valid_from, is_inferred, lifecycle_status, row_hash,
         source_system)
       SELECT nk, asset_nk, '-infinity', true, 'inferred', '\\x00', 'hub-ingest'
       FROM unnest($1::text[], $2::text[]) AS m(nk, asset_nk) ORDER BY nk
       ON CONFLICT (device_nk) WHERE is_current DO NOTHING`,
      [stillMissing, stillMissing.map((nk) => assetOf?.get(nk) ?? null)],
    );
    const inferred = await fetchDevices(client, stillMissing, view);
    view = view.with(inferred.devices, inferred.assets);
    return { snapshot: view, inferred: stillMissing, missing: [] };
  }

  private async load(): Promise<ReferenceSnapshot> {
    // One snapshot of the database for every query, so the version read names exactly what was loaded; the
    // held connection has an error path (inTransaction), so a connection dropped mid-reload fails the reload,
    // never the process.
    const snapshot = await inTransaction(
      this.pool,
      async (client) => {
        const version = await client.query<{ version: number }>('SELECT version FROM hub.reference_version');
        const metrics = await client.query<{
          metric_sk: number;
          metric_code: string;
          canonical_unit: string | null;
        }>('SELECT metric_sk, metric_code, canonical_unit FROM dw.dim_metric WHERE metric_sk > 0');
        const devices = await client.query<DeviceRow>(deviceQuery('device_sk > 0'));
        const assets = await client.query<AssetRow>(assetQuery('asset_sk > 0'));
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
        const maintenance = new Map<string, MaintenanceWindow[]>();
        for (const r of work.rows) {
          const list = maintenance.get(r.device_nk) ?? [];
          list.push({ workOrder: r.wo, type: r.event_type, from: r.f, to: r.t });
          maintenance.set(r.device_nk, list);
        }
        // bigint columns arrive as strings unless the pool parses them: compare and key by numbers.
        return new ReferenceSnapshot(Number(version.rows[0]?.version ?? 0), {
          metrics: new Map<string, MetricInfo>(
            metrics.rows.map((r) => [
              r.metric_code,
              { sk: Number(r.metric_sk), code: r.metric_code, canonicalUnit: r.canonical_unit },
            ]),
          ),
          devices: groupVersions(devices.rows.map(toDevice)),
          assets: groupVersions(assets.rows.map(toAsset)),
          maintenance,
        });
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
    this.snapshot = snapshot;
    this.changed = false;
    this.checkedAt = Date.now();
    return snapshot;
  }
}

interface DeviceRow {
  device_sk: number;
  device_nk: string;
  asset_nk: string | null;
  f: number;
  t: number;
}

interface AssetRow {
  asset_sk: number;
  asset_nk: string;
  site_nk: string | null;
  area_nk: string | null;
  line_nk: string | null;
  site_name: string | null;
  f: number;
  t: number;
}

/** Devices by key with every version, plus the versions of their assets and of those assets' ancestors. */
async function fetchDevices(
  client: Queryable,
  deviceNks: string[],
  known: ReferenceSnapshot,
): Promise<{ devices: Map<string, DeviceVersion[]>; assets: Map<string, AssetVersion[]> }> {
  const devices = groupVersions(
    (await client.query<DeviceRow>(deviceQuery('device_nk = ANY($1)'), [deviceNks])).rows.map(toDevice),
  );
  const assetNks = new Set<string>();
  for (const versions of devices.values())
    for (const v of versions) if (v.assetNk && !known.hasAsset(v.assetNk)) assetNks.add(v.assetNk);
  if (assetNks.size === 0) return { devices, assets: new Map() };
  // The asset rows name their site, area and line: fetch those ancestors in the same statement.
  const rows = (
    await client.query<AssetRow>(
      assetQuery(`asset_nk IN (
        SELECT unnest(ARRAY[a.asset_nk, a.site_nk, a.area_nk, a.line_nk]) FROM dw.dim_asset a
        WHERE a.asset_nk = ANY($1))`),
      [[...assetNks]],
    )
  ).rows;
  return { devices, assets: groupVersions(rows.map(toAsset)) };
}

function toDevice(r: DeviceRow): [string, DeviceVersion] {
  return [r.device_nk, { sk: Number(r.device_sk), from: r.f, to: r.t, assetNk: r.asset_nk }];
}

function toAsset(r: AssetRow): [string, AssetVersion] {
  const ancestors = [r.site_nk, r.area_nk, r.line_nk].filter(
    (nk): nk is string => nk !== null && nk !== r.asset_nk,
  );
  return [r.asset_nk, { sk: Number(r.asset_sk), from: r.f, to: r.t, ancestors, siteName: r.site_name }];
}

// ±infinity become ±Infinity in JavaScript, so as-of comparisons need no special cases.
function epoch(column: string): string {
  return `CASE WHEN ${column} = '-infinity' THEN '-Infinity'::float8 WHEN ${column} = 'infinity' THEN 'Infinity'::float8 ELSE extract(epoch FROM ${column}) * 1000 END`;
}

function deviceQuery(where: string): string {
  return `SELECT device_sk, device_nk, installed_asset_nk AS asset_nk, ${epoch('valid_from')} AS f, ${epoch('valid_to')} AS t
          FROM dw.dim_device WHERE ${where}`;
}

function assetQuery(where: string): string {
  return `SELECT asset_sk, asset_nk, site_nk, area_nk, line_nk, site_name, ${epoch('valid_from')} AS f, ${epoch('valid_to')} AS t
          FROM dw.dim_asset WHERE ${where}`;
}
