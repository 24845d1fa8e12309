/** Glide field types the emulator distinguishes; each one changes how values are stored, compared or shown. */
export type FieldType = 'string' | 'integer' | 'boolean' | 'datetime' | 'reference' | 'choice' | 'journal';

export interface FieldDef {
  type: FieldType;
  /** The column label, used in data-policy messages and journal display values. */
  label: string;
  /** For references: the table the sys_id points into. */
  reference?: string;
  /** For choices: stored value → label. Values outside the list are stored as sent. */
  choices?: Readonly<Record<string, string>>;
  /** Value of a new record when the field is not supplied; "" when absent. */
  default?: string;
}

export interface TableDef {
  name: string;
  label: string;
  /** The parent table; a record of a child class is also a row of every ancestor table. */
  extends?: string;
  /** The field shown as a reference's display value (e.g. `number` for incident, `name` for CIs). */
  displayField: string;
  /** This table's own columns; inherited ones come from the parent chain. */
  fields: Readonly<Record<string, FieldDef>>;
}

// Small builders keep the table definitions readable.
export const text = (label: string, defaultValue?: string): FieldDef => ({
  type: 'string',
  label,
  default: defaultValue,
});
export const integer = (label: string, defaultValue?: string): FieldDef => ({
  type: 'integer',
  label,
  default: defaultValue,
});
export const bool = (label: string, defaultValue = 'false'): FieldDef => ({
  type: 'boolean',
  label,
  default: defaultValue,
});
export const dateTime = (label: string): FieldDef => ({ type: 'datetime', label });
export const reference = (label: string, table: string, defaultValue?: string): FieldDef => ({
  type: 'reference',
  label,
  reference: table,
  default: defaultValue,
});
export const choice = (label: string, choices: Record<string, string>, defaultValue?: string): FieldDef => ({
  type: 'choice',
  label,
  choices,
  default: defaultValue,
});
export const journal = (label: string): FieldDef => ({ type: 'journal', label });

/** Columns every table has; the system sets them and ignores them in request bodies. */
export const systemFields: Readonly<Record<string, FieldDef>> = {
  sys_id: text('Sys ID'),
  sys_created_on: dateTime('Created'),
  sys_created_by: text('Created by'),
  sys_updated_on: dateTime('Updated'),
  sys_updated_by: text('Updated by'),
  sys_mod_count: integer('Updates', '0'),
};

/** True for the columns a request body may not set. */
export function isSystemField(name: string): boolean {
  return name.startsWith('sys_');
}
