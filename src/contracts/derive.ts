import { Kind, parse, type StringValueNode } from 'graphql';
import { parse as parseYaml } from 'yaml';
import type { CatalogColumn, CatalogTable } from './catalog.ts';
import type {
  Classification,
  DataContract,
  LogicalType,
  QualityRule,
  SchemaObject,
  SchemaProperty,
  Server,
} from './contract.ts';

// `contracts export` (docs/data-products.md, "Export"): what a contract says that the hub already knows is
// derived, one mechanism for every table: the columns, types, nullability and keys from the migrated catalog,
// each column's classification from the @classified directive of the GraphQL fields that read it, descriptions
// from column comments, the GraphQL schema and the semantic model, and the value ranges from dw.dim_metric. What
// people wrote (descriptions, owner, support, objectives, quality rules) is kept when the file is merged.

/** Where a column's knowledge comes from outside the catalog, keyed `schema.table.column` or `schema.table`. */
export interface DerivationSources {
  classifications: ReadonlyMap<string, Classification>;
  descriptions: ReadonlyMap<string, string>;
  metricRanges: readonly MetricRange[];
}

export interface MetricRange {
  code: string;
  min: number | null;
  max: number | null;
  unit: string | null;
}

/** How restrictive a class is; a column read by several fields takes the most restrictive. */
const classRank: Record<Classification, number> = { PUBLIC: 0, OPERATIONAL: 1, CONFIDENTIAL: 2, PII: 3 };

/**
 * The classification and description of each warehouse column read by a GraphQL field: `sdl` is the text of the
 * schema/*.graphql files, `fieldColumns` maps `Type.field` to the table and column its resolver reads
 * (src/graphql/lineage.ts). Fields without @classified and columns no field reads are absent.
 */
export function graphqlColumnKnowledge(
  sdl: readonly string[],
  fieldColumns: Readonly<Record<string, { table: string; column: string }>>,
): { classifications: Map<string, Classification>; descriptions: Map<string, string> } {
  const classifications = new Map<string, Classification>();
  const descriptions = new Map<string, string>();
  const document = parse(sdl.join('\n'));
  for (const def of document.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const field of def.fields ?? []) {
      const target = fieldColumns[`${def.name.value}.${field.name.value}`];
      if (!target) continue;
      const key = `${target.table}.${target.column}`;
      const directive = field.directives?.find((d) => d.name.value === 'classified');
      const level = directive?.arguments?.find((a) => a.name.value === 'level')?.value;
      if (level?.kind === Kind.ENUM) {
        const next = level.value as Classification;
        const current = classifications.get(key);
        if (!current || classRank[next] > classRank[current]) classifications.set(key, next);
      }
      const description = (field.description as StringValueNode | undefined)?.value;
      if (description && !descriptions.has(key)) descriptions.set(key, description);
    }
  }
  return { classifications, descriptions };
}

interface SemanticCube {
  table?: string;
  description?: string;
  joins?: Record<string, { table?: string }>;
  dimensions?: Record<string, { sql?: string; join?: string; description?: string }>;
}

/**
 * Descriptions from the semantic model (schema/semantic/*.yaml): each cube's description for its table, and a
 * dimension's description for the column it reads when its SQL is a plain `alias.column`.
 */
export function semanticDescriptions(cubes: readonly string[]): Map<string, string> {
  const descriptions = new Map<string, string>();
  for (const text of cubes) {
    const cube = parseYaml(text) as SemanticCube;
    if (cube.table && cube.description) descriptions.set(cube.table, cube.description);
    for (const dimension of Object.values(cube.dimensions ?? {})) {
      const match = /^(\w+)\.(\w+)$/.exec(dimension.sql ?? '');
      const table = match && (dimension.join ? cube.joins?.[dimension.join]?.table : cube.table);
      if (match && table && dimension.description)
        descriptions.set(`${table}.${match[2]}`, dimension.description);
    }
  }
  return descriptions;
}

/** The ODCS logical type of a PostgreSQL type. */
export function logicalTypeOf(physicalType: string): LogicalType {
  const t = physicalType.replace(/\(.*\)/, '').trim();
  if (t.endsWith('[]')) return 'array';
  if (['smallint', 'integer', 'bigint'].includes(t)) return 'integer';
  if (['double precision', 'real', 'numeric'].includes(t)) return 'number';
  if (t === 'boolean') return 'boolean';
  if (t === 'date') return 'date';
  if (t.startsWith('timestamp')) return 'timestamp';
  if (t.startsWith('time')) return 'time';
  if (t === 'jsonb' || t === 'json') return 'object';
  return 'string';
}

/** The local warehouse, as `servers` names it unless a contract says otherwise (docs/data-products.md). */
export function localServer(databaseUrl: string, schema = 'dw'): Server {
  const url = new URL(databaseUrl);
  return {
    server: 'local',
    type: 'postgres',
    environment: 'dev',
    description:
      'The hub warehouse on the local stack; `iot-hub contracts test --database-url` checks another one.',
    host: url.hostname,
    port: Number(url.port || 5432),
    database: decodeURIComponent(url.pathname.slice(1)),
    schema,
  };
}

/**
 * The contract for `table`, derived from the catalog and `sources`, merged into `existing` when there is one:
 * the generated parts (columns, types, nullability, keys, partitioning, classifications, the range rules) are
 * replaced, everything written by hand is kept. A new contract is a draft with an id equal to the table's name.
 */
export function deriveContract(
  table: CatalogTable,
  sources: DerivationSources,
  server: Server,
  existing?: DataContract,
): DataContract {
  const qualified = `${table.schema}.${table.name}`;
  const old = existing?.schema.find((s) => s.name === table.name);
  const properties = table.columns.map((c) =>
    deriveProperty(
      c,
      `${qualified}.${c.name}`,
      sources,
      old?.properties.find((p) => p.name === c.name),
    ),
  );
  const object: SchemaObject = {
    name: table.name,
    physicalName: qualified,
    physicalType: 'table',
    logicalType: 'object',
    description: old?.description ?? sources.descriptions.get(qualified) ?? table.comment ?? undefined,
    ...(old?.dataGranularityDescription
      ? { dataGranularityDescription: old.dataGranularityDescription }
      : {}),
    properties,
    quality: mergeRules(old?.quality, rangeRules(table, sources.metricRanges)),
  };
  if (!object.description) delete object.description;
  if (object.quality?.length === 0) delete object.quality;
  const base: DataContract = existing ?? {
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: table.name,
    name: table.name,
    version: '0.1.0',
    status: 'draft',
    schema: [],
  };
  const servers = [...(base.servers ?? [])];
  if (!servers.some((s) => s.server === server.server)) servers.unshift(server);
  return {
    ...base,
    servers,
    schema: [...(existing?.schema ?? []).filter((s) => s.name !== table.name), object].sort(
      (a, b) => existingIndex(existing, a.name) - existingIndex(existing, b.name),
    ),
  };
}

function existingIndex(contract: DataContract | undefined, name: string): number {
  const i = contract?.schema.findIndex((s) => s.name === name) ?? -1;
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
}

function deriveProperty(
  column: CatalogColumn,
  key: string,
  sources: DerivationSources,
  old: SchemaProperty | undefined,
): SchemaProperty {
  const property: SchemaProperty = {
    name: column.name,
    logicalType: logicalTypeOf(column.physicalType),
    physicalType: column.physicalType,
  };
  const description = old?.description ?? sources.descriptions.get(key) ?? column.comment;
  if (description) property.description = description;
  // A contract may promise more than the table enforces (a nullable column the pipeline always fills); the
  // promise is then checked on the data (a nullValues rule) rather than by the catalog.
  if (column.notNull || old?.required) property.required = true;
  if (column.primaryKeyPosition !== null) {
    property.primaryKey = true;
    property.primaryKeyPosition = column.primaryKeyPosition;
  }
  if (column.partitionKeyPosition !== null) {
    property.partitioned = true;
    property.partitionKeyPosition = column.partitionKeyPosition;
  }
  const classification = sources.classifications.get(key) ?? old?.classification;
  if (classification) property.classification = classification;
  for (const k of ['unique', 'criticalDataElement', 'tags', 'quality', 'customProperties'] as const)
    if (old?.[k] !== undefined) (property as unknown as Record<string, unknown>)[k] = old[k];
  return property;
}

/** Rules named `value_range_<metric>` are generated; the others are hand-written and kept in their order. */
const generatedRule = /^value_range_/;

function mergeRules(old: readonly QualityRule[] | undefined, generated: QualityRule[]): QualityRule[] {
  return [...(old ?? []).filter((r) => !generatedRule.test(r.name)), ...generated];
}

/**
 * For an hourly table of readings (`metric_sk`, `min_value`, `max_value`, `n_fail`, `hour_start`): per metric of
 * dw.dim_metric with a range, the rule that an hour with a value outside it has readings flagged fail (QARTOD 4),
 * as the gross-range check flags them (docs/data-quality.md). The last day only, on the hour_start index, so the
 * check stays cheap.
 */
function rangeRules(table: CatalogTable, ranges: readonly MetricRange[]): QualityRule[] {
  const names = new Set(table.columns.map((c) => c.name));
  if (!['metric_sk', 'min_value', 'max_value', 'n_fail', 'hour_start'].every((c) => names.has(c))) return [];
  return ranges
    .filter((r) => r.min !== null || r.max !== null)
    .map((r) => {
      const outside = [
        r.min !== null ? `min_value < ${r.min}` : null,
        r.max !== null ? `max_value > ${r.max}` : null,
      ]
        .filter(Boolean)
        .join(' OR ');
      return {
        name: `value_range_${r.code}`,
        description: `Hours with ${r.code} outside [${r.min ?? '-inf'}, ${r.max ?? 'inf'}]${r.unit ? ` ${r.unit}` : ''} (dw.dim_metric) have readings flagged fail; last day.`,
        type: 'sql',
        dimension: 'accuracy',
        query: `SELECT count(*) FROM {object} WHERE metric_sk = (SELECT metric_sk FROM dw.dim_metric WHERE metric_code = '${r.code}') AND (${outside}) AND n_fail = 0 AND hour_start >= now() - interval '1 day'`,
        mustBe: 0,
      } satisfies QualityRule;
    });
}
