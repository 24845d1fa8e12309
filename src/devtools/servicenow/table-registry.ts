import { type FieldDef, systemFields, type TableDef } from './table-schema.ts';

/**
 * The tables the emulator knows, with inheritance resolved. An unknown table name is the caller's 400
 * (`Invalid table …`); an unknown field is ignored, as the instance ignores it.
 */
export interface TableRegistry {
  has(table: string): boolean;
  get(table: string): TableDef | undefined;
  /** All columns of a table, its own and inherited, system columns first. Empty for an unknown table. */
  fields(table: string): ReadonlyMap<string, FieldDef>;
  field(table: string, name: string): FieldDef | undefined;
  /** True when `table` is `ancestor` or extends it, directly or not. */
  isKindOf(table: string, ancestor: string): boolean;
  /** The topmost ancestor: records of a family are stored together under it. */
  root(table: string): string;
  names(): string[];
}

export function createTableRegistry(defs: readonly TableDef[]): TableRegistry {
  const byName = new Map(defs.map((d) => [d.name, d]));
  for (const def of defs) {
    if (def.extends && !byName.has(def.extends)) {
      throw new Error(`table ${def.name} extends ${def.extends}, which is not defined`);
    }
  }
  const fieldCache = new Map<string, ReadonlyMap<string, FieldDef>>();

  const chain = (table: string): TableDef[] => {
    const out: TableDef[] = [];
    for (let def = byName.get(table); def; def = def.extends ? byName.get(def.extends) : undefined)
      out.push(def);
    return out;
  };

  const fields = (table: string): ReadonlyMap<string, FieldDef> => {
    const cached = fieldCache.get(table);
    if (cached) return cached;
    const defsTopDown = chain(table).reverse();
    const map = new Map<string, FieldDef>();
    if (defsTopDown.length > 0) for (const [name, f] of Object.entries(systemFields)) map.set(name, f);
    // A child may redeclare a column (incident narrows task's state choices).
    for (const def of defsTopDown) for (const [name, f] of Object.entries(def.fields)) map.set(name, f);
    fieldCache.set(table, map);
    return map;
  };

  return {
    has: (table) => byName.has(table),
    get: (table) => byName.get(table),
    fields,
    field: (table, name) => fields(table).get(name),
    isKindOf: (table, ancestor) => chain(table).some((d) => d.name === ancestor),
    root: (table) => chain(table).at(-1)?.name ?? table,
    names: () => [...byName.keys()],
  };
}
