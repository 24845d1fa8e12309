import { locateField, resolveFieldPath } from './field-path.ts';
import type { GlideRecord, RecordStore } from './record-store.ts';
import type { TableRegistry } from './table-registry.ts';
import type { FieldDef } from './table-schema.ts';

export type DisplayValueMode = 'false' | 'true' | 'all';

/** The response-shaping parameters of the Table API. */
export interface FormatOptions {
  /** `sysparm_fields`; names that resolve to no column are left out. Undefined means every column of the table. */
  fields: string[] | undefined;
  displayValue: DisplayValueMode;
  excludeReferenceLink: boolean;
}

export interface FormatContext {
  registry: TableRegistry;
  store: RecordStore;
  /** Absolute base of reference links, e.g. `http://127.0.0.1:18090`. */
  baseUrl: string;
}

/**
 * Renders a row as the Table API answers it. Only the columns of `table` appear, so a `cmdb_ci_iot` row read
 * through `cmdb_ci` shows the `cmdb_ci` columns. Journal columns read back as "".
 */
export function formatRecord(
  ctx: FormatContext,
  table: string,
  row: GlideRecord,
  options: FormatOptions,
): Record<string, unknown> {
  const names = options.fields ?? [...ctx.registry.fields(table).keys()];
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const def = resolveFieldPath(ctx.registry, table, name);
    if (!def) continue;
    const location = locateField(ctx.store, ctx.registry, table, row, name);
    out[name] = renderValue(ctx, def, location.values, location.field, options);
  }
  return out;
}

function renderValue(
  ctx: FormatContext,
  def: FieldDef,
  values: GlideRecord | undefined,
  field: string,
  options: FormatOptions,
): unknown {
  const raw = def.type === 'journal' ? '' : (values?.[field] ?? '');
  // Display values cost lookups (journal history, referenced rows): compute them only when asked for.
  const display = options.displayValue === 'false' ? '' : displayValue(ctx, values, field, def);
  if (def.type === 'reference') {
    // An empty reference is the plain string "", not an object.
    if (raw === '') return options.displayValue === 'all' ? { display_value: '', value: '' } : '';
    const link = `${ctx.baseUrl}/api/now/table/${def.reference}/${raw}`;
    switch (options.displayValue) {
      case 'false':
        return options.excludeReferenceLink ? raw : { link, value: raw };
      case 'true':
        return options.excludeReferenceLink ? display : { display_value: display, link };
      case 'all':
        return options.excludeReferenceLink
          ? { display_value: display, value: raw }
          : { display_value: display, link, value: raw };
    }
  }
  switch (options.displayValue) {
    case 'false':
      return raw;
    case 'true':
      return display;
    case 'all':
      return { display_value: display, value: raw };
  }
}

/** The display value of one column: choice labels, the referenced row's display column, journal history. */
export function displayValue(
  ctx: FormatContext,
  values: GlideRecord | undefined,
  field: string,
  def: FieldDef,
  depth = 0,
): string {
  const raw = values?.[field] ?? '';
  switch (def.type) {
    case 'choice':
      return def.choices?.[raw] ?? raw;
    case 'journal':
      return journalHistory(ctx, values?.sys_id ?? '', field, def.label);
    case 'reference': {
      const target = raw === '' || !def.reference ? undefined : ctx.store.get(def.reference, raw);
      if (!target || depth > 2) return '';
      const targetDef = ctx.registry.get(target.className);
      const displayField = targetDef?.displayField ?? 'sys_id';
      const displayDef = ctx.registry.field(target.className, displayField);
      if (!displayDef) return '';
      return displayValue(ctx, target.values, displayField, displayDef, depth + 1);
    }
    default:
      return raw;
  }
}

// The display value of a journal column is its history, newest first (reported, unconfirmed).
function journalHistory(ctx: FormatContext, sysId: string, element: string, label: string): string {
  const users = ctx.store.list('sys_user');
  return ctx.store
    .list('sys_journal_field')
    .filter((e) => e.values.element_id === sysId && e.values.element === element)
    .reverse()
    .map((e) => {
      const by = e.values.sys_created_by ?? '';
      const name = users.find((u) => u.values.user_name === by)?.values.name || by;
      return `${e.values.sys_created_on} - ${name} (${label})\n${e.values.value}\n\n`;
    })
    .join('');
}
