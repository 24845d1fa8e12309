import type { GlideRecord, RecordStore } from './record-store.ts';
import type { TableRegistry } from './table-registry.ts';
import type { FieldDef } from './table-schema.ts';

/**
 * Resolves a column name, dot-walked or not (`caller_id.email`), on a table. Undefined when any step names no
 * column or walks through a non-reference: the caller then ignores the term, as the instance does.
 */
export function resolveFieldPath(registry: TableRegistry, table: string, path: string): FieldDef | undefined {
  let current = table;
  const steps = path.split('.');
  for (const [i, step] of steps.entries()) {
    const def = registry.field(current, step);
    if (!def) return undefined;
    if (i === steps.length - 1) return def;
    if (def.type !== 'reference' || !def.reference) return undefined;
    current = def.reference;
  }
  return undefined;
}

/** Where a dot-walked column ends: the last table, its row (undefined when a reference on the way is empty). */
export interface FieldLocation {
  table: string;
  values: GlideRecord | undefined;
  field: string;
}

/** Follows the references of a path from a row; assumes the path resolves (see resolveFieldPath). */
export function locateField(
  store: RecordStore,
  registry: TableRegistry,
  table: string,
  row: GlideRecord,
  path: string,
): FieldLocation {
  const steps = path.split('.');
  let location: FieldLocation = { table, values: row, field: steps[0] ?? '' };
  for (const step of steps.slice(1)) {
    const target = registry.field(location.table, location.field)?.reference ?? '';
    const sysId = location.values?.[location.field] ?? '';
    const values = sysId === '' ? undefined : store.get(target, sysId)?.values;
    location = { table: target, values, field: step };
  }
  return location;
}

/** Reads a (possibly dot-walked) column of a row; "" when a reference on the way is empty or dangling. */
export function readFieldPath(
  store: RecordStore,
  registry: TableRegistry,
  table: string,
  row: GlideRecord,
  path: string,
): string {
  const { values, field } = locateField(store, registry, table, row, path);
  return values?.[field] ?? '';
}
