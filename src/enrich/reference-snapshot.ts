/** One SCD2 version: valid from `from` (inclusive) to `to` (exclusive), epoch ms; ±Infinity for open ends. */
export interface Version {
  sk: number;
  from: number;
  to: number;
}

export interface DeviceVersion extends Version {
  assetNk: string | null;
}

export interface AssetVersion extends Version {
  /** The asset's ancestors (site, area, line) as natural keys, nearest last; empty for a site. */
  ancestors: string[];
  siteName: string | null;
}

export interface MetricInfo {
  sk: number;
  code: string;
  /** UCUM code values of this metric are stored in. */
  canonicalUnit: string | null;
}

/** Business context of a reading from the CMMS: the work order open at its time, and the last one finished before. */
export interface MaintenanceContext {
  openWorkOrder: string | null;
  openEventType: string | null;
  lastMaintenanceAt: number | null;
}

export interface MaintenanceWindow {
  workOrder: string;
  type: string;
  from: number;
  to: number;
}

/** The unknown member's surrogate key in every dimension. */
export const UNKNOWN_SK = -1;

export interface SnapshotParts {
  devices: ReadonlyMap<string, readonly DeviceVersion[]>;
  assets: ReadonlyMap<string, readonly AssetVersion[]>;
  metrics: ReadonlyMap<string, MetricInfo>;
  maintenance: ReadonlyMap<string, readonly MaintenanceWindow[]>;
}

/**
 * An immutable view of the reference data enrichment reads: device and asset versions (SCD2, so a late reading
 * attaches to the version valid at its time), metrics and maintenance windows. Nothing mutates a snapshot:
 * a reload builds a new one and a batch extends one with `with()`, so a batch sees one consistent state from
 * its start to its end, whatever other batches or reloads do meanwhile.
 */
export class ReferenceSnapshot {
  readonly version: number;
  readonly loadedAt: number;
  private readonly parts: SnapshotParts;

  constructor(version: number, parts: SnapshotParts, loadedAt = Date.now()) {
    this.version = version;
    this.parts = parts;
    this.loadedAt = loadedAt;
  }

  static empty(): ReferenceSnapshot {
    return new ReferenceSnapshot(-1, {
      devices: new Map(),
      assets: new Map(),
      metrics: new Map(),
      maintenance: new Map(),
    });
  }

  metric(code: string): MetricInfo | undefined {
    return this.parts.metrics.get(code);
  }

  hasDevice(deviceNk: string): boolean {
    return this.parts.devices.has(deviceNk);
  }

  hasAsset(assetNk: string): boolean {
    return this.parts.assets.has(assetNk);
  }

  /** The device version valid at `tsMs` (the earliest for a reading before its first version). */
  device(deviceNk: string, tsMs: number): DeviceVersion | undefined {
    return asOf(this.parts.devices.get(deviceNk), tsMs);
  }

  /** Surrogate keys of a reading of `deviceNk` at `tsMs`: the device version then, and its asset's version then. */
  keysAt(deviceNk: string, tsMs: number): { deviceSk: number; assetSk: number } {
    const device = asOf(this.parts.devices.get(deviceNk), tsMs);
    if (!device) return { deviceSk: UNKNOWN_SK, assetSk: UNKNOWN_SK };
    const asset = device.assetNk ? asOf(this.parts.assets.get(device.assetNk), tsMs) : undefined;
    return { deviceSk: device.sk, assetSk: asset?.sk ?? UNKNOWN_SK };
  }

  /** The asset version valid at `tsMs`. */
  asset(assetNk: string, tsMs: number): AssetVersion | undefined {
    return asOf(this.parts.assets.get(assetNk), tsMs);
  }

  maintenanceAt(deviceNk: string, tsMs: number): MaintenanceContext {
    let open: MaintenanceWindow | null = null;
    let last: number | null = null;
    for (const w of this.parts.maintenance.get(deviceNk) ?? []) {
      if (w.from <= tsMs && tsMs < w.to) open = w;
      else if (w.to <= tsMs && (last === null || w.to > last)) last = w.to;
    }
    return {
      openWorkOrder: open?.workOrder ?? null,
      openEventType: open?.type ?? null,
      lastMaintenanceAt: last,
    };
  }

  /** True when this snapshot has no maintenance windows at all (the common case: skip the lookup). */
  get hasMaintenance(): boolean {
    return this.parts.maintenance.size > 0;
  }

  /**
   * A new snapshot with these devices' and assets' versions in place of any it had for the same keys; this one
   * is unchanged. Copies the key maps (not the versions), so it is for the rare batch that meets a new device.
   */
  with(
    devices: ReadonlyMap<string, readonly DeviceVersion[]>,
    assets: ReadonlyMap<string, readonly AssetVersion[]>,
  ): ReferenceSnapshot {
    if (devices.size === 0 && assets.size === 0) return this;
    return new ReferenceSnapshot(
      this.version,
      {
        ...this.parts,
        devices: new Map([...this.parts.devices, ...devices]),
        assets: new Map([...this.parts.assets, ...assets]),
      },
      this.loadedAt,
    );
  }

  stats(): { devices: number; assets: number; metrics: number; version: number } {
    return {
      devices: this.parts.devices.size,
      assets: this.parts.assets.size,
      metrics: this.parts.metrics.size,
      version: this.version,
    };
  }
}

/** Groups versions by key, each list sorted by valid-from. */
export function groupVersions<T extends Version>(rows: Iterable<[string, T]>): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const [key, v] of rows) {
    const list = map.get(key);
    if (list) list.push(v);
    else map.set(key, [v]);
  }
  for (const list of map.values()) list.sort((a, b) => a.from - b.from);
  return map;
}

function asOf<T extends Version>(versions: readonly T[] | undefined, ts: number): T | undefined {
  if (!versions || versions.length === 0) return undefined;
  // Outside every version (before the first, in a gap, after a closed last one): the latest version that
  // started before the reading, else the earliest, rather than nobody.
  let before: T | undefined;
  for (const v of versions) {
    if (v.from <= ts && ts < v.to) return v;
    if (v.from <= ts) before = v;
  }
  return before ?? versions[0];
}
