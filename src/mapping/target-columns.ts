import { MappingError, MappingErrorCode } from './errors.ts';
import type { MappingSpec } from './mapping-spec.ts';
import type { YamlLocator } from './yaml-locator.ts';

/**
 * How a mapped row fills one NOT NULL column (without a default) of a fact table: from a field, or from
 * a lookup's surrogate key, keyed by a field (the ingest's default field when the lookup is left out).
 */
type RequiredColumn =
  | { column: string; field: string }
  | { column: string; dimension: string; keyColumn: string; defaultField: string | null };

/**
 * The fact tables the hub loads, with their required columns as migrations/20261126000002_dw_facts.ts
 * creates them. Columns the loaders fill themselves (batch_id, asset_sk of a reading, date_key and time_key
 * of reading_ts, lineage) are left out. A FactMapping for another table is not checked here.
 */
const FACT_TABLES: Record<string, RequiredColumn[]> = {
  // The telemetry ingest's defaults (src/ingest/stages/enrich.ts): device_id and metric.
  'dw.fact_sensor_reading': [
    { column: 'device_sk', dimension: 'dim_device', keyColumn: 'device_nk', defaultField: 'device_id' },
    { column: 'metric_sk', dimension: 'dim_metric', keyColumn: 'metric_code', defaultField: 'metric' },
    { column: 'reading_ts', field: 'ts' },
  ],
  // Applied by src/cdc/fact-changes.ts, which needs both lookups declared.
  'dw.fact_maintenance_event': [
    { column: 'source_system', field: 'source_system' },
    { column: 'source_event_id', field: 'source_event_id' },
    { column: 'device_sk', dimension: 'dim_device', keyColumn: 'device_nk', defaultField: null },
    { column: 'asset_sk', dimension: 'dim_asset', keyColumn: 'asset_nk', defaultField: null },
    { column: 'date_key', field: 'date_key' },
    { column: 'event_type', field: 'event_type' },
    { column: 'status', field: 'status' },
    { column: 'started_at', field: 'started_at' },
  ],
};

/**
 * Checks that a FactMapping produces what its target table's required columns need
 * (MISSING_TARGET_COLUMN, at `fields`); an empty list when it does, or for other kinds and tables.
 * A lookup that names a missing field is UNKNOWN_FIELD_REF (field-references.ts), not repeated here.
 */
export function checkTargetColumns(spec: MappingSpec, locator: YamlLocator): MappingError[] {
  const required = spec.kind === 'FactMapping' ? FACT_TABLES[spec.target.table ?? ''] : undefined;
  if (!required) return [];
  const fields = new Set(Object.keys(spec.fields));
  const lookups = Object.values(spec.lookups ?? {});
  const errors: MappingError[] = [];
  const missing = (detail: string) =>
    errors.push(
      new MappingError(MappingErrorCode.MISSING_TARGET_COLUMN, detail, {
        location: locator.keyAt(['fields']),
        mappingId: spec.id,
      }),
    );
  const table = spec.target.table!;
  for (const need of required) {
    if ('field' in need) {
      if (!fields.has(need.field))
        missing(
          `${table}.${need.column} is required (NOT NULL) and comes from field '${need.field}'; add fields.${need.field}`,
        );
      continue;
    }
    const lookup = lookups.find((l) => l.dimension === need.dimension);
    if (lookup) continue;
    if (need.defaultField === null) {
      missing(
        `${table}.${need.column} is required (NOT NULL) and comes from a lookup on ${need.dimension}; add lookups: { <name>: { dimension: ${need.dimension}, natural_key: { ${need.keyColumn}: <field> } } }`,
      );
    } else if (!fields.has(need.defaultField)) {
      missing(
        `${table}.${need.column} is required (NOT NULL) and is looked up in ${need.dimension} by field '${need.defaultField}' (or the field a ${need.dimension} lookup names); add fields.${need.defaultField}`,
      );
    }
  }
  return errors;
}
