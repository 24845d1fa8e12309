import type { ParsedQuery, QueryCondition, QueryOrder } from './encoded-query.ts';
import { readFieldPath, resolveFieldPath } from './field-path.ts';
import { toGlideBoolean } from './glide-values.ts';
import type { RecordStore, StoredRow } from './record-store.ts';
import type { TableRegistry } from './table-registry.ts';
import type { FieldDef } from './table-schema.ts';

export interface CompiledQuery {
  matches(row: StoredRow): boolean;
  /** Sort order from ORDERBY / ORDERBYDESC; 0 when there is none (rows stay oldest first). */
  compare(a: StoredRow, b: StoredRow): number;
  /** Terms that were ignored: unreadable, or naming a column the table does not have. */
  ignored: string[];
}

export interface QueryContext {
  registry: TableRegistry;
  store: RecordStore;
  table: string;
  /** `glide.invalid_query.returns_no_rows`: an invalid term makes the whole query match nothing. */
  invalidQueryReturnsNoRows: boolean;
  /**
   * Compare strings with regard to case. Off on an instance: its database collation ignores case for `=`, `!=`,
   * `LIKE`, `STARTSWITH`, `IN`, `SAMEAS`, the ordering operators and ORDERBY alike.
   */
  caseSensitiveQueries?: boolean;
}

interface BoundCondition extends QueryCondition {
  def: FieldDef;
}

/**
 * Binds a parsed query to a table. Invalid parts are dropped and the rest still runs, as the instance does by
 * default, so a typo such as `correlationid=X` matches every row.
 */
export function compileQuery(parsed: ParsedQuery, ctx: QueryContext): CompiledQuery {
  const ignored = [...parsed.unparsed];
  const bind = (c: QueryCondition): BoundCondition | undefined => {
    const def = resolveFieldPath(ctx.registry, ctx.table, c.field);
    // `javascript:` values run server-side scripts on the instance; we cannot, so the term is ignored.
    if (!def || c.value.startsWith('javascript:')) {
      ignored.push(`${c.field}${c.operator}${c.value}`);
      return undefined;
    }
    return { ...c, def };
  };
  const blocks = parsed.blocks.map((block) =>
    block
      .map((group) => group.map(bind).filter((c): c is BoundCondition => c !== undefined))
      .filter((group) => group.length > 0),
  );
  const orderBy = parsed.orderBy
    .map((o) => ({ ...o, def: resolveFieldPath(ctx.registry, ctx.table, o.field) }))
    .filter((o): o is QueryOrder & { def: FieldDef } => o.def !== undefined);
  const fold = ctx.caseSensitiveQueries ? (text: string) => text : (text: string) => text.toLowerCase();
  const read = (row: StoredRow, field: string) =>
    fold(readFieldPath(ctx.store, ctx.registry, ctx.table, row.values, field));

  const matchesCondition = (row: StoredRow, c: BoundCondition): boolean => {
    const value = read(row, c.field);
    const wanted =
      c.def.type === 'boolean' && (c.operator === '=' || c.operator === '!=')
        ? toGlideBoolean(c.value)
        : fold(c.value);
    return testOperator(c, value, wanted, c.def, (other) => read(row, other));
  };

  const noRows = ctx.invalidQueryReturnsNoRows && ignored.length > 0;
  return {
    ignored,
    matches(row) {
      if (noRows) return false;
      if (blocks.length === 0) return true;
      return blocks.some((groups) => groups.every((group) => group.some((c) => matchesCondition(row, c))));
    },
    compare(a, b) {
      for (const o of orderBy) {
        const diff = compareTyped(o.def, read(a, o.field), read(b, o.field));
        if (diff !== 0) return o.descending ? -diff : diff;
      }
      return 0;
    },
  };
}

// Empty values behave like SQL NULL: they never satisfy !=, NOT IN, NOT LIKE or an ordering comparison.
function testOperator(
  c: BoundCondition,
  value: string,
  wanted: string,
  def: FieldDef,
  readOther: (field: string) => string,
): boolean {
  switch (c.operator) {
    case '=':
      return value === wanted;
    case '!=':
      return value !== '' && value !== wanted;
    case '<':
      return value !== '' && compareTyped(def, value, wanted) < 0;
    case '<=':
      return value !== '' && compareTyped(def, value, wanted) <= 0;
    case '>':
      return value !== '' && compareTyped(def, value, wanted) > 0;
    case '>=':
      return value !== '' && compareTyped(def, value, wanted) >= 0;
    case 'IN':
      return wanted.split(',').includes(value);
    case 'NOT IN':
      return value !== '' && !wanted.split(',').includes(value);
    case 'LIKE':
      return value.includes(wanted);
    case 'NOT LIKE':
      return value !== '' && !value.includes(wanted);
    case 'STARTSWITH':
      return value.startsWith(wanted);
    case 'ENDSWITH':
      return value.endsWith(wanted);
    case 'ISEMPTY':
    case 'EMPTYSTRING':
      return value === '';
    case 'ISNOTEMPTY':
      return value !== '';
    case 'ANYTHING':
      return true;
    case 'SAMEAS':
      return value === readOther(wanted);
    case 'NSAMEAS':
      return value !== readOther(wanted);
    case 'BETWEEN': {
      const [low = '', high = ''] = wanted.split('@');
      return value !== '' && compareTyped(def, value, low) >= 0 && compareTyped(def, value, high) <= 0;
    }
  }
}

/** Numbers compare as numbers on integer and numeric choice columns; everything else as text (dates sort as text). */
export function compareTyped(def: FieldDef, a: string, b: string): number {
  if ((def.type === 'integer' || def.type === 'choice') && a !== '' && b !== '') {
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
