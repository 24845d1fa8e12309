import type { CatalogTable } from './catalog.ts';
import type { SchemaObject } from './contract.ts';

// The drift check (docs/data-products.md, "When a migration changes a table"): a contract against the migrated
// table it describes. Any difference means the migration changed the table and the contract was not exported
// again; the breaking ones are named so the change can be announced (a new major version of the contract).

export type DriftKind =
  | 'table missing'
  | 'column removed'
  | 'column added'
  | 'type changed'
  | 'nullability tightened'
  | 'nullability loosened'
  | 'key changed'
  | 'partitioning changed';

export interface Drift {
  kind: DriftKind;
  /** `table` or `table.column`. */
  element: string;
  /** Breaks readers or writers that follow the contract. */
  breaking: boolean;
  message: string;
}

const breakingKinds: ReadonlySet<DriftKind> = new Set([
  'table missing',
  'column removed',
  'type changed',
  'nullability tightened',
  'nullability loosened',
  'key changed',
]);

/**
 * How the live `table` differs from the contract's schema `object`; empty when they agree. A contract may call a
 * nullable column required when a nullValues rule checks the promise on the data; a required column that the
 * table lets be NULL without such a rule is "nullability loosened".
 */
export function contractDrift(object: SchemaObject, table: CatalogTable | undefined): Drift[] {
  const drift: Drift[] = [];
  const add = (kind: DriftKind, element: string, message: string) =>
    drift.push({ kind, element, breaking: breakingKinds.has(kind), message });
  if (!table) {
    add('table missing', object.name, `table ${object.physicalName ?? object.name} does not exist`);
    return drift;
  }
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  for (const p of object.properties) {
    const element = `${object.name}.${p.name}`;
    const c = columns.get(p.name);
    if (!c) {
      add('column removed', element, `column ${p.name} is in the contract but not in the table`);
      continue;
    }
    if (c.physicalType !== p.physicalType)
      add('type changed', element, `type is ${c.physicalType}, the contract says ${p.physicalType}`);
    if (c.notNull && !p.required)
      add('nullability tightened', element, `${p.name} is NOT NULL, the contract says it is optional`);
    const guarded = (p.quality ?? []).some((r) => r.metric === 'nullValues');
    if (!c.notNull && p.required && !guarded)
      add('nullability loosened', element, `${p.name} may be NULL, the contract says it is required`);
    if ((c.primaryKeyPosition ?? undefined) !== (p.primaryKey ? p.primaryKeyPosition : undefined))
      add(
        'key changed',
        element,
        `primary key position is ${c.primaryKeyPosition ?? 'none'}, the contract says ${p.primaryKey ? p.primaryKeyPosition : 'none'}`,
      );
    if ((c.partitionKeyPosition ?? undefined) !== (p.partitioned ? p.partitionKeyPosition : undefined))
      add('partitioning changed', element, `partition key position is ${c.partitionKeyPosition ?? 'none'}`);
  }
  const named = new Set(object.properties.map((p) => p.name));
  for (const c of table.columns)
    if (!named.has(c.name))
      add(
        'column added',
        `${object.name}.${c.name}`,
        `column ${c.name} (${c.physicalType}) is not in the contract`,
      );
  return drift;
}
