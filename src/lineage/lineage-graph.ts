import type { CompiledMapping, FieldSource } from '../mapping/index.ts';
import type { ColumnLineage, InputField, JobDataset, JobLineage } from './run-event.ts';

// The one derivation of datasets and column lineage (docs/lineage.md): the OpenLineage emitter describes jobs
// with it and GraphQL's lineage(field:) answers from it.

/** Where the hub's datasets live, as OpenLineage namespaces (docs/lineage.md, "Naming"). */
export interface LineageSites {
  /** Namespace of the hub's jobs. @defaultValue 'iot-hub' */
  jobNamespace: string;
  /** `kafka://host:port` of the first broker. */
  kafka: string;
  /** `postgres://host:port`, and the database that prefixes table names (`db.schema.table`). */
  postgres: { namespace: string; database: string };
  /** The ServiceNow instance's origin, e.g. `https://example.service-now.com`. */
  servicenow: string;
}

/** Sites from the hub's addresses: a broker `host:port`, a PostgreSQL URL and the ServiceNow URL. */
export function lineageSites(options: {
  jobNamespace: string;
  kafkaBroker: string;
  databaseUrl: string;
  servicenowUrl: string;
}): LineageSites {
  const db = new URL(options.databaseUrl);
  return {
    jobNamespace: options.jobNamespace,
    kafka: `kafka://${options.kafkaBroker}`,
    postgres: {
      namespace: `postgres://${db.hostname}:${db.port || '5432'}`,
      database: decodeURIComponent(db.pathname.replace(/^\//, '')) || 'postgres',
    },
    servicenow: new URL(options.servicenowUrl).origin,
  };
}

/** A dataset the hub reads or writes: a Kafka topic, a PostgreSQL `schema.table` or a ServiceNow table. */
export type DatasetRef =
  | { kind: 'kafka'; topic: string }
  | { kind: 'postgres'; table: string }
  | { kind: 'servicenow'; table: string };

export function datasetOf(sites: LineageSites, ref: DatasetRef): JobDataset {
  switch (ref.kind) {
    case 'kafka':
      return { namespace: sites.kafka, name: ref.topic };
    case 'postgres':
      return { namespace: sites.postgres.namespace, name: `${sites.postgres.database}.${ref.table}` };
    case 'servicenow':
      return { namespace: sites.servicenow, name: ref.table };
  }
}

/** How a target column is filled: from which mapping field, and which source fields that field reads. */
export interface TargetColumn {
  column: string;
  field: string;
  sources: readonly FieldSource[];
  /** 'lookup' when the column is a surrogate key looked up by the field (device_sk by device_id). */
  via: 'field' | 'lookup';
}

/**
 * Tables whose loader fills columns from differently named fields; for these the list is complete, so fields
 * that are no column (unit) are left out (src/warehouse/fact-loader.ts, src/ingest/stages/load.ts).
 */
const LOADED_COLUMNS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'dw.fact_sensor_reading': { reading_ts: 'ts', value: 'value', quality_code: 'quality' },
};

/** The default lookups of the telemetry ingest (src/ingest/stages/enrich.ts), when a mapping declares none. */
const DEFAULT_LOOKUPS: Readonly<Record<string, ReadonlyArray<{ dimension: string; field: string }>>> = {
  'dw.fact_sensor_reading': [
    { dimension: 'dim_device', field: 'device_id' },
    { dimension: 'dim_metric', field: 'metric' },
  ],
};

/**
 * The columns a mapping fills in its target, each with its field and the source fields behind it. A field
 * names its column, except where the loader renames it (LOADED_COLUMNS); a lookup on `dim_x` fills `x_sk`.
 * Empty for a mapping without a target table.
 */
export function targetColumnsOf(mapping: CompiledMapping): TargetColumn[] {
  const table = mapping.target.table;
  if (!table) return [];
  const sourcesOf = (field: string) => mapping.fieldSources.fields[field] ?? [];
  const loaded = LOADED_COLUMNS[table];
  const columns: TargetColumn[] = loaded
    ? Object.entries(loaded)
        .filter(([, field]) => mapping.fieldNames.includes(field))
        .map(([column, field]) => ({ column, field, sources: sourcesOf(field), via: 'field' as const }))
    : mapping.fieldNames.map((field) => ({
        column: field,
        field,
        sources: sourcesOf(field),
        via: 'field' as const,
      }));
  const lookups =
    mapping.lookups.length > 0
      ? mapping.lookups.map((l) => ({ dimension: l.dimension, field: Object.values(l.naturalKey)[0] }))
      : (DEFAULT_LOOKUPS[table] ?? []);
  for (const { dimension, field } of lookups) {
    if (!field || !mapping.fieldNames.includes(field)) continue;
    const column = `${dimension.replace(/^dim_/, '')}_sk`;
    if (columns.some((c) => c.column === column)) continue;
    columns.push({ column, field, sources: sourcesOf(field), via: 'lookup' });
  }
  return columns;
}

/** What a mapping reads: its Kafka topic, or for a mapping of the hub's alerts, hub.alert. */
export function mappingInput(mapping: CompiledMapping, topic = mapping.source.topic): DatasetRef | null {
  if (topic) return { kind: 'kafka', topic };
  if (mapping.source.kind === 'alert') return { kind: 'postgres', table: 'hub.alert' };
  return null;
}

/** What a mapping writes: a warehouse table, or a table of ServiceNow for target.system servicenow. */
export function mappingOutput(mapping: CompiledMapping): DatasetRef | null {
  const table = mapping.target.table;
  if (!table) return null;
  return mapping.target.system === 'servicenow' ? { kind: 'servicenow', table } : { kind: 'postgres', table };
}

/**
 * The job that runs a mapping, with column lineage on its output: `ingest.<topic>.<mapping id>` for telemetry,
 * `cdc.<topic>.<mapping id>` for change events, `tickets.<system>.<table>` for alerts to ServiceNow. `topic`
 * overrides the mapping's (tests prefix topics).
 */
export function mappingJob(sites: LineageSites, mapping: CompiledMapping, topic?: string): JobLineage {
  const inputRef = mappingInput(mapping, topic ?? mapping.source.topic);
  const outputRef = mappingOutput(mapping);
  const input = inputRef ? datasetOf(sites, inputRef) : null;
  const kind = mapping.source.kind === 'telemetry' || !mapping.source.kind ? 'ingest' : mapping.source.kind;
  const name =
    mapping.source.kind === 'alert'
      ? `tickets.${mapping.target.system ?? 'servicenow'}.${mapping.target.table}`
      : `${kind}.${inputRef?.kind === 'kafka' ? inputRef.topic : mapping.source.table}.${mapping.id}`;
  const outputs: JobDataset[] = [];
  if (outputRef) {
    // A ServiceNow record takes the mapping's fields as they are; a table may rename them (targetColumnsOf).
    const columns =
      outputRef.kind === 'servicenow'
        ? mapping.fieldNames.map((field) => ({
            column: field,
            field,
            sources: mapping.fieldSources.fields[field] ?? [],
            via: 'field' as const,
          }))
        : targetColumnsOf(mapping);
    const fields: ColumnLineage['fields'] = {};
    for (const c of input ? columns : []) {
      if (c.sources.length === 0) continue;
      fields[c.column] = {
        inputFields: c.sources.map((s) =>
          inputField(input!, s.path, c.via === 'lookup' ? lookupOf(c.field) : transformOf(s.identity)),
        ),
      };
    }
    const filters = input ? mapping.fieldSources.filters.map((s) => inputField(input, s.path, FILTER)) : [];
    outputs.push({
      ...datasetOf(sites, outputRef),
      columnLineage: { fields, ...(filters.length > 0 && { dataset: filters }) },
    });
  }
  return {
    namespace: sites.jobNamespace,
    name,
    processingType: 'STREAMING',
    inputs: input ? [input] : [],
    outputs,
  };
}

/**
 * Columns of the hourly rollups and the reading columns each is computed from (src/warehouse/rollup.ts):
 * dw.fact_sensor_hourly per device, dw.fact_asset_hourly per asset.
 */
export const ROLLUP_COLUMNS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'dw.fact_sensor_hourly': {
    hour_start: ['reading_ts'],
    n_expected: ['reading_ts'],
    n_received: ['reading_ts'],
    n_suspect: ['quality_code'],
    n_fail: ['quality_code'],
    min_value: ['value'],
    max_value: ['value'],
    avg_value: ['value'],
    last_value: ['value', 'reading_ts'],
    completeness: ['reading_ts'],
  },
};

/** The table the rollups read. */
export const ROLLUP_INPUT = 'dw.fact_sensor_reading';

/** The hourly rollup job: dw.fact_sensor_reading into the hourly tables, with their column lineage. */
export function rollupJob(sites: LineageSites): JobLineage {
  const input = datasetOf(sites, { kind: 'postgres', table: ROLLUP_INPUT });
  const outputs = Object.entries(ROLLUP_COLUMNS).map(([table, columns]): JobDataset => {
    const fields: ColumnLineage['fields'] = {};
    for (const [column, from] of Object.entries(columns))
      fields[column] = {
        inputFields: from.map((f) => inputField(input, f, { type: 'DIRECT', subtype: 'AGGREGATION' })),
      };
    return { ...datasetOf(sites, { kind: 'postgres', table }), columnLineage: { fields } };
  });
  outputs.push(datasetOf(sites, { kind: 'postgres', table: 'dw.fact_asset_hourly' }));
  return {
    namespace: sites.jobNamespace,
    name: 'warehouse.hourly_rollup',
    processingType: 'BATCH',
    inputs: [input],
    outputs,
  };
}

/** A job between datasets without column lineage (the data-quality jobs, which derive events, not columns). */
export function datasetJob(
  sites: LineageSites,
  name: string,
  inputs: readonly DatasetRef[],
  outputs: readonly DatasetRef[],
): JobLineage {
  return {
    namespace: sites.jobNamespace,
    name,
    processingType: 'BATCH',
    inputs: inputs.map((r) => datasetOf(sites, r)),
    outputs: outputs.map((r) => datasetOf(sites, r)),
  };
}

/**
 * The periodic data-quality checks (src/quality/monitor/jobs.ts) and the tables each reads and writes; they
 * derive events from series, not columns from columns, so they carry no column lineage.
 */
const QUALITY_CHECKS: Readonly<Record<string, { inputs: string[]; outputs: string[] }>> = {
  gap: {
    inputs: ['hub.dq_series_state', 'dw.dim_device', 'dw.dim_metric', 'dw.dim_asset'],
    outputs: ['dw.fact_dq_event', 'hub.dq_series_state', 'hub.dq_alert_outbox'],
  },
  drift: {
    inputs: ['dw.fact_sensor_hourly', 'hub.dq_series_state', 'dw.dim_device', 'dw.dim_metric'],
    outputs: ['dw.fact_dq_event', 'hub.dq_series_state', 'hub.dq_alert_outbox'],
  },
  calibration: {
    inputs: ['dw.dim_device', 'dw.fact_dq_event'],
    outputs: ['dw.fact_dq_event', 'hub.dq_alert_outbox'],
  },
  step: {
    inputs: ['dw.fact_maintenance_event', 'dw.fact_sensor_hourly', 'hub.dq_series_state', 'dw.dim_device'],
    outputs: [
      'hub.dq_series_state',
      'hub.dq_calibration_step_done',
      'dw.fact_dq_event',
      'hub.dq_alert_outbox',
    ],
  },
};

/** The job of a data-quality check by its name in jobs.ts (`quality.gap`, …); null for other names. */
export function qualityCheckJob(sites: LineageSites, check: string): JobLineage | null {
  const tables = QUALITY_CHECKS[check];
  if (!tables) return null;
  const ref = (table: string): DatasetRef => ({ kind: 'postgres', table });
  return datasetJob(sites, `quality.${check}`, tables.inputs.map(ref), tables.outputs.map(ref));
}

type Transformation = InputField['transformations'][number];
const FILTER: Transformation = { type: 'INDIRECT', subtype: 'FILTER' };
const transformOf = (identity: boolean): Transformation => ({
  type: 'DIRECT',
  subtype: identity ? 'IDENTITY' : 'TRANSFORMATION',
});
const lookupOf = (field: string): Transformation => ({
  type: 'DIRECT',
  subtype: 'TRANSFORMATION',
  description: `surrogate key looked up by ${field}`,
});

function inputField(input: JobDataset, field: string, transformation: Transformation): InputField {
  return { namespace: input.namespace, name: input.name, field, transformations: [transformation] };
}
