import { createHash } from 'node:crypto';
// SQL shared by the loaders and the root resolvers: column lists aliased to GraphQL field names, and the row
// filter (principal.sites, docs/graphql.md "Entities") for each kind of row. `$n` is the parameter holding the
// sites as text[], or NULL for no filter.

export const assetColumns = (
  a: string,
) => `${a}.asset_nk AS id, ${a}.asset_name AS name, ${a}.asset_level AS level,
  ${a}.criticality, ${a}.hierarchy_path::text AS path, ${a}.parent_asset_nk AS "parentId", ${a}.site_nk AS "siteId"`;

export const deviceColumns = (d: string) => `${d}.device_nk AS id, ${d}.serial_number AS "serialNumber",
  ${d}.model, ${d}.manufacturer, ${d}.firmware_version AS "firmwareVersion", ${d}.lifecycle_status AS "lifecycleStatus",
  ${d}.measurement_unit AS "measurementUnit", ${d}.range_min AS "rangeMin", ${d}.range_max AS "rangeMax",
  ${d}.expected_interval_s AS "expectedIntervalSeconds", ${d}.calibration_interval_days AS "calibrationIntervalDays",
  ${d}.last_calibrated_at AS "lastCalibratedAt",
  CASE WHEN isfinite(${d}.valid_from) THEN ${d}.valid_from END AS "validFrom",
  CASE WHEN isfinite(${d}.valid_to) THEN ${d}.valid_to END AS "validTo",
  ${d}.is_current AS "isCurrent", ${d}.device_sk AS "deviceSk", ${d}.installed_asset_nk AS "assetId"`;

export const metricColumns = (m: string) => `${m}.metric_code AS code, ${m}.metric_name AS name,
  ${m}.canonical_unit AS unit, ${m}.valid_min AS "validMin", ${m}.valid_max AS "validMax", ${m}.description,
  ${m}.metric_sk AS "metricSk"`;

/**
 * A reading's columns. `epoch` gives the times as epoch milliseconds, which the DateTime scalar serialises like
 * a Date: a page of readings is then parsed without a Date parse per column (docs/graphql.md, "GraphQL benchmark").
 */
export const readingColumns = (f: string, times: 'date' | 'epoch' = 'date') => {
  const time = (column: string) =>
    times === 'date' ? `${f}.${column}` : `extract(epoch FROM ${f}.${column})::float8 * 1000`;
  return `${time('reading_ts')} AS ts, ${f}.reading_ts::text AS "tsText", ${f}.value,
  ${f}.quality_code AS quality, ${time('ingested_at')} AS "ingestedAt", ${f}.mapping_id AS "mappingId",
  ${f}.mapping_version AS "mappingVersion", ${f}.source_topic AS "sourceTopic", ${f}.device_sk AS "deviceSk",
  ${f}.metric_sk AS "metricSk"`;
};

export const hourlyColumns = (h: string) => `${h}.hour_start AS "hourStart", ${h}.n_expected AS expected,
  ${h}.n_received AS received, ${h}.n_suspect AS suspect, ${h}.n_fail AS failed, ${h}.min_value AS min,
  ${h}.max_value AS max, ${h}.avg_value AS avg, ${h}.last_value AS last, ${h}.completeness,
  ${h}.device_sk AS "deviceSk", ${h}.metric_sk AS "metricSk"`;

export const dqColumns = (
  e: string,
) => `${e}.dq_event_id::text AS id, ${e}.check_name AS check, ${e}.severity,
  ${e}.opened_at AS "openedAt", ${e}.closed_at AS "closedAt", ${e}.observed_value AS "observedValue",
  ${e}.threshold, ${e}.details, ${e}.device_sk AS "deviceSk", ${e}.metric_sk AS "metricSk"`;

export const maintenanceColumns = (
  m: string,
) => `${m}.maintenance_event_id::text AS id, ${m}.event_type AS type,
  ${m}.status, ${m}.started_at AS "startedAt", ${m}.finished_at AS "finishedAt",
  ${m}.work_order_number AS "workOrderNumber", ${m}.technician, ${m}.description, ${m}.source_system AS "sourceSystem",
  ${m}.device_sk AS "deviceSk", ${m}.asset_sk AS "assetSk"`;

export const alertColumns = (
  a: string,
) => `${a}.id::text AS id, ${a}.alert_key AS key, ${a}.rule, ${a}.severity,
  ${a}.status, ${a}.opened_at AS "openedAt", ${a}.cleared_at AS "clearedAt", ${a}.updated_at AS "updatedAt",
  ${a}.evidence, ${a}.ticket_number AS "ticketNumber", ${a}.ticket_state AS "ticketState",
  ${a}.ticket_sys_id AS "ticketSysId", ${a}.device_id AS "deviceId", ${a}.metric_code AS "metricCode"`;

export const cmdbCiColumns = (c: string) => `${c}.cmdb_ci_nk AS "sysId", ${c}.ci_name AS name,
  ${c}.ci_class AS "className", ${c}.serial_number AS "serialNumber", ${c}.asset_tag AS "assetTag",
  ${c}.operational_status AS "operationalStatus", ${c}.install_status AS "installStatus",
  ${c}.location_name AS "locationName", ${c}.updated_by AS "updatedBy", ${c}.device_nk AS "deviceId"`;

/** An asset row (any version) the principal may see. */
export const assetVisible = (a: string, p: string) =>
  `(${p}::text[] IS NULL OR ${a}.site_nk = ANY(${p}::text[]))`;

/** A device version whose installed asset (current version) lies in a site the principal may see. */
export const deviceVisible = (d: string, p: string) => `(${p}::text[] IS NULL OR EXISTS (
  SELECT 1 FROM dw.dim_asset rf WHERE rf.asset_nk = ${d}.installed_asset_nk AND rf.is_current
    AND rf.site_nk = ANY(${p}::text[])))`;

/** A fact row whose asset version (asset_sk, as of the fact) lies in a site the principal may see. */
export const factVisible = (f: string, p: string) => `(${p}::text[] IS NULL OR EXISTS (
  SELECT 1 FROM dw.dim_asset rf WHERE rf.asset_sk = ${f}.asset_sk AND rf.site_nk = ANY(${p}::text[])))`;

/** An alert of an asset, or else of a device installed, in a site the principal may see. */
export const alertVisible = (a: string, p: string) => `(${p}::text[] IS NULL OR EXISTS (
  SELECT 1 FROM dw.dim_asset rf WHERE rf.is_current AND rf.site_nk = ANY(${p}::text[])
    AND rf.asset_nk = coalesce(${a}.asset_id,
      (SELECT dv.installed_asset_nk FROM dw.dim_device dv WHERE dv.device_nk = ${a}.device_id AND dv.is_current))))`;

const statementNames = new Map<string, string>();

/**
 * A statement of the API's fixed SQL as a named (prepared) statement: each connection parses and plans it once,
 * and PostgreSQL may then reuse a generic plan, instead of parsing and planning the text for every request
 * (docs/graphql.md, "Execution"). The name is a hash of the text, so the same text always has the same name.
 */
export function prepared(text: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  let name = statementNames.get(text);
  if (!name) {
    name = `hub-gql-${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}
