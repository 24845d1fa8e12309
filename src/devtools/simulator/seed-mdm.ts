import { createKnex } from '../../db/index.ts';
import type { Fleet } from './fleet-types.ts';
import { mdmDatabaseUrl, migrateMdm } from './source-schemas.ts';
import { vendorFormats } from './vendor-formats.ts';

/** Rows seedMdm wrote: inserted or changed (an unchanged row is not touched, so CDC sees no event). */
export interface SeedMdmResult {
  assets: number;
  devices: number;
}

/**
 * Writes the fleet's assets and registered devices (never the unknown ones) into the sample MDM database on
 * the server of `serverUrl`, migrating its schema first. Upserts by id in one transaction, parents before
 * children; rows already equal are left alone, and rows of other fleets (other id prefixes) are kept.
 * Connection and constraint errors propagate, and the transaction rolls back.
 */
export async function seedMdm(serverUrl: string, fleet: Fleet): Promise<SeedMdmResult> {
  await migrateMdm(serverUrl);
  const assets = fleet.assets.map((a) => ({
    asset_id: a.assetId,
    parent_id: a.parentId,
    level: a.level,
    name: a.name,
    asset_type: a.assetType,
    criticality: a.criticality,
    time_zone: a.timeZone,
  }));
  const devices = fleet.devices
    .filter((d) => d.registered)
    .map((d) => {
      const primary = d.metrics[0];
      return {
        device_id: d.deviceId,
        serial_number: d.serialNumber,
        vendor: d.vendor,
        manufacturer: d.manufacturer,
        model: d.model,
        firmware_version: d.firmwareVersion,
        asset_id: d.assetId,
        installed_at: d.installedAt.toISOString(),
        primary_metric: primary.metric,
        measurement_unit: primary.unit,
        range_min: primary.rangeMin,
        range_max: primary.rangeMax,
        resolution: primary.resolution,
        metrics: d.metrics.map((m) => m.metric),
        metric_specs: Object.fromEntries(
          d.metrics.map((m) => [
            m.metric,
            {
              unit: m.unit,
              native_unit: vendorFormats[d.vendor]?.nativeUnits[m.metric] ?? m.unit,
              range_min: m.rangeMin,
              range_max: m.rangeMax,
              resolution: m.resolution,
            },
          ]),
        ),
        expected_interval_s: d.expectedIntervalS,
        calibration_interval_days: d.calibrationIntervalDays,
        last_calibrated_at: d.lastCalibratedAt.toISOString(),
        calibration_due: d.calibrationDue,
      };
    });

  const knex = createKnex(mdmDatabaseUrl(serverUrl), 1);
  try {
    return await knex.transaction(async (trx) => {
      const assetResult = await trx.raw(
        `INSERT INTO public.asset AS t (asset_id, parent_id, level, name, asset_type, criticality, time_zone)
         SELECT asset_id, parent_id, level, name, asset_type, criticality, time_zone
         FROM jsonb_to_recordset(?::jsonb) AS x(asset_id text, parent_id text, level text, name text,
                                                asset_type text, criticality text, time_zone text)
         ON CONFLICT (asset_id) DO UPDATE
           SET parent_id = EXCLUDED.parent_id, level = EXCLUDED.level, name = EXCLUDED.name,
               asset_type = EXCLUDED.asset_type, criticality = EXCLUDED.criticality,
               time_zone = EXCLUDED.time_zone, status = 'active', updated_at = now()
           WHERE (t.parent_id, t.level, t.name, t.asset_type, t.criticality, t.time_zone, t.status)
                 IS DISTINCT FROM (EXCLUDED.parent_id, EXCLUDED.level, EXCLUDED.name, EXCLUDED.asset_type,
                                   EXCLUDED.criticality, EXCLUDED.time_zone, 'active')`,
        [JSON.stringify(assets)],
      );
      const deviceResult = await trx.raw(
        `INSERT INTO public.device AS t (device_id, serial_number, vendor, manufacturer, model, firmware_version,
           asset_id, installed_at, primary_metric, measurement_unit, range_min, range_max, resolution, metrics,
           metric_specs, expected_interval_s, calibration_interval_days, last_calibrated_at, calibration_due)
         SELECT device_id, serial_number, vendor, manufacturer, model, firmware_version, asset_id, installed_at,
                primary_metric, measurement_unit, range_min, range_max, resolution, metrics, metric_specs,
                expected_interval_s, calibration_interval_days, last_calibrated_at, calibration_due
         FROM jsonb_to_recordset(?::jsonb) AS x(device_id text, serial_number text, vendor text,
           manufacturer text, model text, firmware_version text, asset_id text, installed_at timestamptz,
           primary_metric text, measurement_unit text, range_min double precision, range_max double precision,
           resolution double precision, metrics text[], metric_specs jsonb, expected_interval_s integer,
           calibration_interval_days integer, last_calibrated_at timestamptz, calibration_due date)
         ON CONFLICT (device_id) DO UPDATE
           SET serial_number = EXCLUDED.serial_number, vendor = EXCLUDED.vendor,
               manufacturer = EXCLUDED.manufacturer, model = EXCLUDED.model,
               firmware_version = EXCLUDED.firmware_version, asset_id = EXCLUDED.asset_id,
               installed_at = EXCLUDED.installed_at, lifecycle_status = 'active',
               primary_metric = EXCLUDED.primary_metric, measurement_unit = EXCLUDED.measurement_unit,
               range_min = EXCLUDED.range_min, range_max = EXCLUDED.range_max, resolution = EXCLUDED.resolution,
               metrics = EXCLUDED.metrics, metric_specs = EXCLUDED.metric_specs,
               expected_interval_s = EXCLUDED.expected_interval_s,
               calibration_interval_days = EXCLUDED.calibration_interval_days,
               last_calibrated_at = EXCLUDED.last_calibrated_at, calibration_due = EXCLUDED.calibration_due,
               updated_at = now()
           WHERE (t.serial_number, t.vendor, t.manufacturer, t.model, t.firmware_version, t.asset_id,
                  t.installed_at, t.lifecycle_status, t.primary_metric, t.measurement_unit, t.range_min,
                  t.range_max, t.resolution, t.metrics, t.metric_specs, t.expected_interval_s,
                  t.calibration_interval_days, t.last_calibrated_at, t.calibration_due)
                 IS DISTINCT FROM
                 (EXCLUDED.serial_number, EXCLUDED.vendor, EXCLUDED.manufacturer, EXCLUDED.model,
                  EXCLUDED.firmware_version, EXCLUDED.asset_id, EXCLUDED.installed_at, 'active',
                  EXCLUDED.primary_metric, EXCLUDED.measurement_unit, EXCLUDED.range_min, EXCLUDED.range_max,
                  EXCLUDED.resolution, EXCLUDED.metrics, EXCLUDED.metric_specs, EXCLUDED.expected_interval_s,
                  EXCLUDED.calibration_interval_days, EXCLUDED.last_calibrated_at, EXCLUDED.calibration_due)`,
        [JSON.stringify(devices)],
      );
      return { assets: assetResult.rowCount ?? 0, devices: deviceResult.rowCount ?? 0 };
    });
  } finally {
    await knex.destroy();
  }
}
