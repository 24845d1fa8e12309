import { createHash } from 'node:crypto';
import { createKnex } from '../../db/index.ts';
import type { Fleet, FleetAsset } from './fleet-types.ts';

/** Current dimension rows seedWarehouseDimensions inserted or changed; 0 everywhere on an identical rerun. */
export interface SeedWarehouseResult {
  assets: number;
  bridgeRows: number;
  devices: number;
}

/**
 * Writes the fleet's current rows into dw.dim_asset, dw.bridge_asset_hierarchy and dw.dim_device of the hub
 * database at `databaseUrl` (migrated), so telemetry enriches before CDC exists.
 *
 * A devtools shortcut until a CDC loader syncs these dimensions from MDM through Debezium: it writes the
 * same content seedMdm puts in MDM, as each key's first version (valid_from -infinity,
 * docs/architecture.md, "Warehouse schema"). Idempotent: a key's current row is updated in place when its
 * row_hash differs (or it is an inferred member, overwritten in place so its facts keep their key),
 * never duplicated. Unknown devices are not written. Takes the same advisory locks as the SCD2 merges, so
 * it does not interleave with them. Errors propagate and roll the transaction back.
 */
export async function seedWarehouseDimensions(
  databaseUrl: string,
  fleet: Fleet,
): Promise<SeedWarehouseResult> {
  const byId = new Map(fleet.assets.map((a) => [a.assetId, a]));
  const parents = new Set(fleet.assets.map((a) => a.parentId).filter((p) => p !== null));
  const levelOf = (a: FleetAsset, level: FleetAsset['level']) => {
    const id = a.path.find((p) => byId.get(p)?.level === level);
    return id ? byId.get(id)! : null;
  };
  const assets = fleet.assets.map((a) => ({
    asset_nk: a.assetId,
    asset_level: a.level,
    parent_asset_nk: a.parentId,
    asset_name: a.name,
    site_nk: levelOf(a, 'site')?.assetId ?? null,
    site_name: levelOf(a, 'site')?.name ?? null,
    area_nk: levelOf(a, 'area')?.assetId ?? null,
    area_name: levelOf(a, 'area')?.name ?? null,
    line_nk: levelOf(a, 'line')?.assetId ?? null,
    line_name: levelOf(a, 'line')?.name ?? null,
    hierarchy_path: a.path.map(pathLabel).join('.'),
    criticality: a.criticality,
  }));
  const bridge = fleet.assets.flatMap((a) =>
    a.path.map((ancestor, i) => ({
      ancestor_asset_nk: ancestor,
      descendant_asset_nk: a.assetId,
      depth_from_ancestor: a.path.length - 1 - i,
      is_leaf: !parents.has(a.assetId),
    })),
  );
  const devices = fleet.devices
    .filter((d) => d.registered)
    .map((d) => ({
      device_nk: d.deviceId,
      serial_number: d.serialNumber,
      model: d.model,
      manufacturer: d.manufacturer,
      firmware_version: d.firmwareVersion,
      installed_asset_nk: d.assetId,
      measurement_unit: d.metrics[0].unit,
      range_min: d.metrics[0].rangeMin,
      range_max: d.metrics[0].rangeMax,
      resolution: d.metrics[0].resolution,
      expected_interval_s: d.expectedIntervalS,
      calibration_interval_days: d.calibrationIntervalDays,
      last_calibrated_at: d.lastCalibratedAt.toISOString(),
      lifecycle_status: 'active',
    }));

  const knex = createKnex(databaseUrl, 1);
  try {
    return await knex.transaction(async (trx) => {
      await trx.raw(
        `SELECT pg_advisory_xact_lock(hashtext('dw.dim_asset')), pg_advisory_xact_lock(hashtext('dw.dim_device'))`,
      );
      const assetRows = await trx.raw(
        `WITH x AS (
           SELECT x.*, sha256(convert_to(jsonb_build_array(x.asset_level, x.parent_asset_nk, x.asset_name,
                    x.site_nk, x.site_name, x.area_nk, x.area_name, x.line_nk, x.line_name, x.hierarchy_path,
                    x.criticality)::text, 'UTF8')) AS row_hash
           FROM jsonb_to_recordset(?::jsonb) AS x(asset_nk text, asset_level text, parent_asset_nk text,
             asset_name text, site_nk text, site_name text, area_nk text, area_name text, line_nk text,
             line_name text, hierarchy_path text, criticality text))
         INSERT INTO dw.dim_asset AS t (asset_nk, asset_level, parent_asset_nk, asset_name, site_nk, site_name,
           area_nk, area_name, line_nk, line_name, hierarchy_path, criticality, valid_from, row_hash, source_system)
         SELECT asset_nk, asset_level, parent_asset_nk, asset_name, site_nk, site_name, area_nk, area_name,
                line_nk, line_name, hierarchy_path::ltree, criticality, '-infinity', row_hash, 'mdm'
         FROM x
         ON CONFLICT (asset_nk) WHERE is_current DO UPDATE
           SET asset_level = EXCLUDED.asset_level, parent_asset_nk = EXCLUDED.parent_asset_nk,
               asset_name = EXCLUDED.asset_name, site_nk = EXCLUDED.site_nk, site_name = EXCLUDED.site_name,
               area_nk = EXCLUDED.area_nk, area_name = EXCLUDED.area_name, line_nk = EXCLUDED.line_nk,
               line_name = EXCLUDED.line_name, hierarchy_path = EXCLUDED.hierarchy_path,
               criticality = EXCLUDED.criticality, row_hash = EXCLUDED.row_hash, is_inferred = false,
               source_system = EXCLUDED.source_system
           WHERE t.row_hash IS DISTINCT FROM EXCLUDED.row_hash OR t.is_inferred`,
        [JSON.stringify(assets)],
      );
      const bridgeRows = await trx.raw(
        `INSERT INTO dw.bridge_asset_hierarchy AS t
           SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(ancestor_asset_nk text, descendant_asset_nk text,
             depth_from_ancestor smallint, is_leaf boolean)
         ON CONFLICT (ancestor_asset_nk, descendant_asset_nk) DO UPDATE
           SET depth_from_ancestor = EXCLUDED.depth_from_ancestor, is_leaf = EXCLUDED.is_leaf
           WHERE (t.depth_from_ancestor, t.is_leaf) IS DISTINCT FROM (EXCLUDED.depth_from_ancestor, EXCLUDED.is_leaf)`,
        [JSON.stringify(bridge)],
      );
      const deviceRows = await trx.raw(
        `WITH x AS (
           SELECT x.*, sha256(convert_to(jsonb_build_array(x.serial_number, x.model, x.manufacturer,
                    x.firmware_version, x.installed_asset_nk, x.measurement_unit, x.range_min, x.range_max,
                    x.resolution, x.expected_interval_s, x.calibration_interval_days, x.last_calibrated_at,
                    x.lifecycle_status)::text, 'UTF8')) AS row_hash
           FROM jsonb_to_recordset(?::jsonb) AS x(device_nk text, serial_number text, model text,
             manufacturer text, firmware_version text, installed_asset_nk text, measurement_unit text,
             range_min double precision, range_max double precision, resolution double precision,
             expected_interval_s integer, calibration_interval_days integer, last_calibrated_at timestamptz,
             lifecycle_status text))
         INSERT INTO dw.dim_device AS t (device_nk, serial_number, model, manufacturer, firmware_version,
           installed_asset_nk, measurement_unit, range_min, range_max, resolution, expected_interval_s,
           calibration_interval_days, last_calibrated_at, lifecycle_status, valid_from, row_hash, source_system)
         SELECT device_nk, serial_number, model, manufacturer, firmware_version, installed_asset_nk,
                measurement_unit, range_min, range_max, resolution, expected_interval_s,
                calibration_interval_days, last_calibrated_at, lifecycle_status, '-infinity', row_hash, 'mdm'
         FROM x
         ON CONFLICT (device_nk) WHERE is_current DO UPDATE
           SET serial_number = EXCLUDED.serial_number, model = EXCLUDED.model,
               manufacturer = EXCLUDED.manufacturer, firmware_version = EXCLUDED.firmware_version,
               installed_asset_nk = EXCLUDED.installed_asset_nk, measurement_unit = EXCLUDED.measurement_unit,
               range_min = EXCLUDED.range_min, range_max = EXCLUDED.range_max, resolution = EXCLUDED.resolution,
               expected_interval_s = EXCLUDED.expected_interval_s,
               calibration_interval_days = EXCLUDED.calibration_interval_days,
               last_calibrated_at = EXCLUDED.last_calibrated_at, lifecycle_status = EXCLUDED.lifecycle_status,
               row_hash = EXCLUDED.row_hash, is_inferred = false, source_system = EXCLUDED.source_system
           WHERE t.row_hash IS DISTINCT FROM EXCLUDED.row_hash OR t.is_inferred`,
        [JSON.stringify(devices)],
      );
      return {
        assets: assetRows.rowCount ?? 0,
        bridgeRows: bridgeRows.rowCount ?? 0,
        devices: deviceRows.rowCount ?? 0,
      };
    });
  } finally {
    await knex.destroy();
  }
}

// ltree labels allow few characters (docs/architecture.md), so they are built from ids, never names: the same
// label mappings/mdm-asset-v1.yaml gives a node (path_label: "n" + the first 8 hex digits of sha256(id)).
function pathLabel(assetId: string): string {
  return `n${createHash('sha256').update(assetId).digest('hex').slice(0, 8)}`;
}
