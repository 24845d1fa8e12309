import type { TableRegistry } from './table-registry.ts';

/** A stored row: every value a string, as the platform keeps them. */
export type GlideRecord = Record<string, string>;

/** A row and the class (table) it was created in; a `cmdb_ci_iot` row is also a `cmdb_ci` row. */
export interface StoredRow {
  className: string;
  values: GlideRecord;
}

/**
 * The in-memory database. Rows of one table family live together under the family's root table, in insertion
 * order, so a query on a parent table sees its children's rows, as on the instance.
 */
export interface RecordStore {
  insert(className: string, values: GlideRecord): StoredRow;
  /** The row when it exists and belongs to `table` or a child of it; otherwise undefined. */
  get(table: string, sysId: string): StoredRow | undefined;
  /** Rows of `table` and its children, oldest first. */
  list(table: string): StoredRow[];
  /** Replaces the values of an existing row (same sys_id); the class can change (IRE upgrade). */
  replace(row: StoredRow, values: GlideRecord, className?: string): StoredRow;
  remove(table: string, sysId: string): boolean;
  /** The next record number for a prefix, e.g. `INC0010001` then `INC0010002`. */
  nextNumber(prefix: string): string;
}

export function createRecordStore(registry: TableRegistry): RecordStore {
  const families = new Map<string, Map<string, StoredRow>>();
  const counters = new Map<string, number>();

  const family = (table: string): Map<string, StoredRow> => {
    const root = registry.root(table);
    let rows = families.get(root);
    if (!rows) {
      rows = new Map();
      families.set(root, rows);
    }
    return rows;
  };

  return {
    insert(className, values) {
      const row = { className, values };
      family(className).set(values.sys_id ?? '', row);
      return row;
    },
    get(table, sysId) {
      const row = family(table).get(sysId);
      return row && registry.isKindOf(row.className, table) ? row : undefined;
    },
    list(table) {
      return [...family(table).values()].filter((row) => registry.isKindOf(row.className, table));
    },
    replace(row, values, className = row.className) {
      row.values = values;
      row.className = className;
      return row;
    },
    remove(table, sysId) {
      if (!this.get(table, sysId)) return false;
      return family(table).delete(sysId);
    },
    nextNumber(prefix) {
      const next = (counters.get(prefix) ?? 10000) + 1;
      counters.set(prefix, next);
      return `${prefix}${String(next).padStart(7, '0')}`;
    },
  };
}
