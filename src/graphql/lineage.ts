import type pg from 'pg';
import { ROLLUP_COLUMNS, ROLLUP_INPUT, targetColumnsOf } from '../lineage/index.ts';
import type { CompiledMapping } from '../mapping/index.ts';
import { userError } from './args.ts';

// Lineage of a GraphQL field (docs/graphql.md, "Lineage"): the field's column from the table below, then what the
// pipeline recorded for that table — the mappings that write it (mapping files) and their load batches
// (hub.lineage). Which mapping field and source fields fill a column, and what the rollup derives from, come from
// src/lineage, the graph the OpenLineage events carry (docs/lineage.md).

interface FieldColumn {
  table: string;
  column: string;
}

const reading = 'dw.fact_sensor_reading';
const hourly = 'dw.fact_sensor_hourly';
const device = 'dw.dim_device';
const asset = 'dw.dim_asset';
const metric = 'dw.dim_metric';
const dq = 'dw.fact_dq_event';
const maintenance = 'dw.fact_maintenance_event';
const alert = 'hub.alert';
const ci = 'dw.dim_cmdb_ci';
const incident = 'servicenow:incident';

/** Every GraphQL field served from a column, as the resolvers read it. */
export const fieldColumns: Readonly<Record<string, FieldColumn>> = {
  'Site.id': { table: asset, column: 'site_nk' },
  'Site.name': { table: asset, column: 'site_name' },
  'Asset.id': { table: asset, column: 'asset_nk' },
  'Asset.name': { table: asset, column: 'asset_name' },
  'Asset.level': { table: asset, column: 'asset_level' },
  'Asset.criticality': { table: asset, column: 'criticality' },
  'Asset.path': { table: asset, column: 'hierarchy_path' },
  'Device.id': { table: device, column: 'device_nk' },
  'Device.serialNumber': { table: device, column: 'serial_number' },
  'Device.model': { table: device, column: 'model' },
  'Device.manufacturer': { table: device, column: 'manufacturer' },
  'Device.firmwareVersion': { table: device, column: 'firmware_version' },
  'Device.lifecycleStatus': { table: device, column: 'lifecycle_status' },
  'Device.measurementUnit': { table: device, column: 'measurement_unit' },
  'Device.rangeMin': { table: device, column: 'range_min' },
  'Device.rangeMax': { table: device, column: 'range_max' },
  'Device.expectedIntervalSeconds': { table: device, column: 'expected_interval_s' },
  'Device.calibrationIntervalDays': { table: device, column: 'calibration_interval_days' },
  'Device.lastCalibratedAt': { table: device, column: 'last_calibrated_at' },
  'Device.validFrom': { table: device, column: 'valid_from' },
  'Device.validTo': { table: device, column: 'valid_to' },
  'Device.isCurrent': { table: device, column: 'is_current' },
  'ConfigurationItem.sysId': { table: ci, column: 'cmdb_ci_nk' },
  'ConfigurationItem.name': { table: ci, column: 'ci_name' },
  'ConfigurationItem.className': { table: ci, column: 'ci_class' },
  'ConfigurationItem.serialNumber': { table: ci, column: 'serial_number' },
  'ConfigurationItem.assetTag': { table: ci, column: 'asset_tag' },
  'ConfigurationItem.operationalStatus': { table: ci, column: 'operational_status' },
  'ConfigurationItem.installStatus': { table: ci, column: 'install_status' },
  'ConfigurationItem.locationName': { table: ci, column: 'location_name' },
  'ConfigurationItem.updatedBy': { table: ci, column: 'updated_by' },
  'Metric.code': { table: metric, column: 'metric_code' },
  'Metric.name': { table: metric, column: 'metric_name' },
  'Metric.unit': { table: metric, column: 'canonical_unit' },
  'Metric.validMin': { table: metric, column: 'valid_min' },
  'Metric.validMax': { table: metric, column: 'valid_max' },
  'Metric.description': { table: metric, column: 'description' },
  'Reading.ts': { table: reading, column: 'reading_ts' },
  'Reading.value': { table: reading, column: 'value' },
  'Reading.quality': { table: reading, column: 'quality_code' },
  'Reading.ingestedAt': { table: reading, column: 'ingested_at' },
  'Reading.mappingId': { table: reading, column: 'mapping_id' },
  'Reading.mappingVersion': { table: reading, column: 'mapping_version' },
  'Reading.sourceTopic': { table: reading, column: 'source_topic' },
  'HourlyRollup.hourStart': { table: hourly, column: 'hour_start' },
  'HourlyRollup.expected': { table: hourly, column: 'n_expected' },
  'HourlyRollup.received': { table: hourly, column: 'n_received' },
  'HourlyRollup.suspect': { table: hourly, column: 'n_suspect' },
  'HourlyRollup.failed': { table: hourly, column: 'n_fail' },
  'HourlyRollup.min': { table: hourly, column: 'min_value' },
  'HourlyRollup.max': { table: hourly, column: 'max_value' },
  'HourlyRollup.avg': { table: hourly, column: 'avg_value' },
  'HourlyRollup.last': { table: hourly, column: 'last_value' },
  'HourlyRollup.completeness': { table: hourly, column: 'completeness' },
  'DataQualityEvent.id': { table: dq, column: 'dq_event_id' },
  'DataQualityEvent.check': { table: dq, column: 'check_name' },
  'DataQualityEvent.severity': { table: dq, column: 'severity' },
  'DataQualityEvent.openedAt': { table: dq, column: 'opened_at' },
  'DataQualityEvent.closedAt': { table: dq, column: 'closed_at' },
  'DataQualityEvent.observedValue': { table: dq, column: 'observed_value' },
  'DataQualityEvent.threshold': { table: dq, column: 'threshold' },
  'DataQualityEvent.details': { table: dq, column: 'details' },
  'Alert.id': { table: alert, column: 'id' },
  'Alert.key': { table: alert, column: 'alert_key' },
  'Alert.rule': { table: alert, column: 'rule' },
  'Alert.severity': { table: alert, column: 'severity' },
  'Alert.status': { table: alert, column: 'status' },
  'Alert.openedAt': { table: alert, column: 'opened_at' },
  'Alert.clearedAt': { table: alert, column: 'cleared_at' },
  'Alert.updatedAt': { table: alert, column: 'updated_at' },
  'Alert.evidence': { table: alert, column: 'evidence' },
  'Alert.ticketNumber': { table: alert, column: 'ticket_number' },
  'Alert.ticketState': { table: alert, column: 'ticket_state' },
  'Incident.sysId': { table: incident, column: 'sys_id' },
  'Incident.number': { table: incident, column: 'number' },
  'Incident.state': { table: incident, column: 'state' },
  'Incident.priority': { table: incident, column: 'priority' },
  'Incident.urgency': { table: incident, column: 'urgency' },
  'Incident.impact': { table: incident, column: 'impact' },
  'Incident.shortDescription': { table: incident, column: 'short_description' },
  'Incident.caller': { table: incident, column: 'caller_id' },
  'Incident.assignedTo': { table: incident, column: 'assigned_to' },
  'Incident.openedAt': { table: incident, column: 'opened_at' },
  'Incident.updatedAt': { table: incident, column: 'sys_updated_on' },
  'MaintenanceEvent.id': { table: maintenance, column: 'maintenance_event_id' },
  'MaintenanceEvent.type': { table: maintenance, column: 'event_type' },
  'MaintenanceEvent.status': { table: maintenance, column: 'status' },
  'MaintenanceEvent.startedAt': { table: maintenance, column: 'started_at' },
  'MaintenanceEvent.finishedAt': { table: maintenance, column: 'finished_at' },
  'MaintenanceEvent.workOrderNumber': { table: maintenance, column: 'work_order_number' },
  'MaintenanceEvent.technician': { table: maintenance, column: 'technician' },
  'MaintenanceEvent.description': { table: maintenance, column: 'description' },
  'MaintenanceEvent.sourceSystem': { table: maintenance, column: 'source_system' },
};

export interface LineageSource {
  system: string | null;
  topic: string | null;
  mappingId: string;
  mappingVersion: number;
  mappingField: string | null;
  sourceFields: string[];
  batches: number;
  rowsLoaded: number;
  lastLoadedAt: Date | null;
}

export interface FieldLineage {
  field: string;
  table: string;
  column: string;
  via: string | null;
  sources: LineageSource[];
}

/** The lineage of `Type.field`; a clear error naming the known fields of the type when it has none. */
export async function fieldLineage(
  db: pg.Pool,
  mappings: readonly CompiledMapping[],
  field: string,
): Promise<FieldLineage> {
  const entry = fieldColumns[field];
  if (!entry) {
    const type = field.split('.')[0] ?? '';
    const known = Object.keys(fieldColumns).filter((f) => f.startsWith(`${type}.`));
    throw userError(
      known.length > 0
        ? `no lineage for '${field}'; fields of ${type} with lineage: ${known.join(', ')}`
        : `no lineage for '${field}': write it as Type.field, e.g. Reading.value`,
    );
  }
  const via = derivedFrom(entry);
  const base = via ?? entry;
  const sources =
    base.table === incident
      ? [] // read live from ServiceNow, not loaded by a mapping
      : await recordedSources(db, mappings, base.table, base.column);
  return { field, table: entry.table, column: entry.column, via: via?.text ?? null, sources };
}

/** For a rollup column, the reading column it is computed from (src/lineage ROLLUP_COLUMNS). */
function derivedFrom(entry: FieldColumn): { text: string; table: string; column: string } | null {
  const column = ROLLUP_COLUMNS[entry.table]?.[entry.column]?.[0];
  if (!column) return null;
  return {
    text: `hourly rollup (src/warehouse/rollup.ts) of ${ROLLUP_INPUT}.${column}`,
    table: ROLLUP_INPUT,
    column,
  };
}

async function recordedSources(
  db: pg.Pool,
  mappings: readonly CompiledMapping[],
  table: string,
  column: string,
): Promise<LineageSource[]> {
  const { rows } = await db.query<{
    mapping_id: string;
    mapping_version: number;
    topic: string;
    batches: number;
    rows_loaded: number;
    last_loaded_at: Date | null;
  }>(
    `SELECT mapping_id, mapping_version, regexp_replace(source, '^kafka:(.+)/[0-9]+$', '\\1') AS topic,
            count(*)::int AS batches, coalesce(sum(rows_out), 0)::int AS rows_loaded,
            max(coalesce(finished_at, started_at)) AS last_loaded_at
     FROM hub.lineage WHERE target_table = $1 AND mapping_id IS NOT NULL
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [table],
  );
  const writers = mappings.filter((m) => m.target.table === table);
  const filledBy = (m: CompiledMapping | undefined) =>
    m && targetColumnsOf(m).find((c) => c.column === column);
  const fieldOf = (m: CompiledMapping | undefined) => filledBy(m)?.field ?? null;
  const sourceFieldsOf = (m: CompiledMapping | undefined) => filledBy(m)?.sources.map((s) => s.path) ?? [];
  const sources: LineageSource[] = rows.map((r) => {
    const m = writers.find((w) => w.id === r.mapping_id && w.version === r.mapping_version);
    const sameId = writers.find((w) => w.id === r.mapping_id);
    return {
      system: (m ?? sameId)?.source.system ?? (m ?? sameId)?.source.kind ?? null,
      topic: r.topic,
      mappingId: r.mapping_id,
      mappingVersion: r.mapping_version,
      mappingField: fieldOf(m ?? sameId),
      sourceFields: sourceFieldsOf(m ?? sameId),
      batches: r.batches,
      rowsLoaded: r.rows_loaded,
      lastLoadedAt: r.last_loaded_at,
    };
  });
  // Mappings that write the table but have loaded nothing yet are part of the path too.
  for (const m of writers) {
    if (sources.some((s) => s.mappingId === m.id && s.mappingVersion === m.version)) continue;
    sources.push({
      system: m.source.system ?? m.source.kind ?? null,
      topic: m.source.topic ?? m.source.table ?? null,
      mappingId: m.id,
      mappingVersion: m.version,
      mappingField: fieldOf(m),
      sourceFields: sourceFieldsOf(m),
      batches: 0,
      rowsLoaded: 0,
      lastLoadedAt: null,
    });
  }
  return sources;
}
