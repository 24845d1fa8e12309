import { glideDateTime, newSysId, toGlideBoolean, toGlideString } from './glide-values.ts';
import type { GlideRecord, RecordStore, StoredRow } from './record-store.ts';
import type { TableRegistry } from './table-registry.ts';
import { type FieldDef, isSystemField } from './table-schema.ts';

/** Who is writing: the authenticated user, recorded in sys_created_by, opened_by, resolved_by… */
export interface ActingUser {
  userName: string;
  sysId: string;
  /** Effective roles (granted plus contained); empty for the system's own writes, which ACLs do not see. */
  roles?: ReadonlySet<string>;
}

/** What a table's business logic sees before a write is stored. */
export interface WriteChange {
  className: string;
  /** The row as it will be stored; the rule may change it. */
  next: GlideRecord;
  /** The stored row before this write; undefined on insert. */
  previous: GlideRecord | undefined;
  user: ActingUser;
  /** The write's time as a Glide date-time. */
  now: string;
  store: RecordStore;
}

/** Business rules and data policies of one table; `beforeWrite` may throw an ApiFailure to refuse the write. */
export interface TableRule {
  beforeWrite(change: WriteChange): void;
}

export interface WriteContext {
  registry: TableRegistry;
  store: RecordStore;
  now: () => number;
  user: ActingUser;
  /** Rules by table name; a rule of `task` also runs for `incident` rows. */
  rules: ReadonlyMap<string, TableRule>;
  /** `sysparm_input_display_value=true`: references and choices may be given by display value. */
  inputDisplayValue?: boolean;
  /** Seeding only: lets `sys_id` and the other system columns be set from the input. */
  allowSystemFields?: boolean;
  /**
   * Field-value ACLs of a Table API write, run on the row as it will be stored (after the business rules);
   * throws the 403. Internal writes (journal rows, IRE, event processing) leave it out.
   */
  authorize?: (change: WriteChange) => void;
}

/** Inserts a row of `className` from a request body; returns the stored row. Unknown columns are ignored. */
export function insertRecord(
  ctx: WriteContext,
  className: string,
  input: Record<string, unknown>,
): StoredRow {
  const { values, notes } = readInput(ctx, className, input);
  const now = glideDateTime(ctx.now());
  const next: GlideRecord = {};
  for (const [name, def] of ctx.registry.fields(className)) next[name] = def.default ?? '';
  Object.assign(next, {
    sys_id: newSysId(),
    sys_created_on: now,
    sys_created_by: ctx.user.userName,
    sys_updated_on: now,
    sys_updated_by: ctx.user.userName,
    sys_mod_count: '0',
  });
  if (ctx.registry.field(className, 'sys_class_name')) next.sys_class_name = className;
  Object.assign(next, values);
  const change = { className, next, previous: undefined, user: ctx.user, now, store: ctx.store };
  runRules(ctx, change);
  ctx.authorize?.(change);
  const row = ctx.store.insert(className, next);
  writeJournal(ctx, row, notes);
  return row;
}

/**
 * Applies a PATCH/PUT body to a stored row, through the columns of `table` (the table named in the URL). A write
 * that changes nothing leaves sys_mod_count and sys_updated_on alone; a journal entry counts as a change.
 */
export function updateRecord(
  ctx: WriteContext,
  table: string,
  row: StoredRow,
  input: Record<string, unknown>,
): StoredRow {
  const { values, notes } = readInput(ctx, table, input);
  const now = glideDateTime(ctx.now());
  const previous = row.values;
  const next = { ...previous, ...values };
  const change = { className: row.className, next, previous, user: ctx.user, now, store: ctx.store };
  runRules(ctx, change);
  ctx.authorize?.(change);
  const changed = Object.keys(next).some((k) => next[k] !== previous[k]);
  if (!changed && notes.length === 0) return row;
  next.sys_updated_on = now;
  next.sys_updated_by = ctx.user.userName;
  next.sys_mod_count = String(Number(previous.sys_mod_count ?? '0') + 1);
  ctx.store.replace(row, next);
  writeJournal(ctx, row, notes);
  return row;
}

function runRules(ctx: WriteContext, change: WriteChange): void {
  for (const [table, rule] of ctx.rules)
    if (ctx.registry.isKindOf(change.className, table)) rule.beforeWrite(change);
}

interface ReadInput {
  values: GlideRecord;
  /** Journal text per column (`work_notes`, `comments`), written to sys_journal_field after the row. */
  notes: Array<[string, string]>;
}

function readInput(ctx: WriteContext, table: string, input: Record<string, unknown>): ReadInput {
  const values: GlideRecord = {};
  const notes: Array<[string, string]> = [];
  for (const [name, raw] of Object.entries(input)) {
    const def = ctx.registry.field(table, name);
    if (!def || (isSystemField(name) && !ctx.allowSystemFields)) continue;
    const text = toGlideString(raw);
    if (def.type === 'journal') {
      if (text !== '') notes.push([name, text]);
      continue;
    }
    values[name] = normalise(ctx, def, text);
  }
  return { values, notes };
}

function normalise(ctx: WriteContext, def: FieldDef, text: string): string {
  if (def.type === 'boolean') return text === '' ? '' : toGlideBoolean(text);
  if (!ctx.inputDisplayValue || text === '') return text;
  if (def.type === 'choice') {
    const byLabel = Object.entries(def.choices ?? {}).find(([, label]) => label === text);
    return byLabel ? byLabel[0] : text;
  }
  if (def.type === 'reference' && def.reference && !ctx.store.get(def.reference, text)) {
    const displayField = ctx.registry.get(def.reference)?.displayField ?? 'name';
    return ctx.store.list(def.reference).find((r) => r.values[displayField] === text)?.values.sys_id ?? text;
  }
  return text;
}

// Each journal write is one sys_journal_field row; retries therefore duplicate notes.
function writeJournal(ctx: WriteContext, row: StoredRow, notes: Array<[string, string]>): void {
  const internal: WriteContext = { ...ctx, authorize: undefined };
  for (const [element, value] of notes) {
    insertRecord(internal, 'sys_journal_field', {
      element,
      element_id: row.values.sys_id,
      name: row.className,
      value,
    });
  }
}
