/** Operators of encoded queries. Order matters: longer spellings are tried first. */
const operators = [
  'NOT IN',
  'NOT LIKE',
  'ISNOTEMPTY',
  'ISEMPTY',
  'EMPTYSTRING',
  'ANYTHING',
  'STARTSWITH',
  'ENDSWITH',
  'NSAMEAS',
  'SAMEAS',
  'BETWEEN',
  'LIKE',
  'IN',
  '!=',
  '>=',
  '<=',
  '=',
  '>',
  '<',
] as const;

export type QueryOperator = (typeof operators)[number];

export interface QueryCondition {
  /** Column name, possibly dot-walked (`assignment_group.name`). */
  field: string;
  operator: QueryOperator;
  value: string;
}

export interface QueryOrder {
  field: string;
  descending: boolean;
}

/**
 * A parsed `sysparm_query`: blocks joined by `^NQ` (OR), each an AND of groups, each group an OR of conditions
 * (`^OR` attaches to the condition before it, so `a^b^ORc` is `a AND (b OR c)`).
 */
export interface ParsedQuery {
  blocks: QueryCondition[][][];
  orderBy: QueryOrder[];
  /** Terms that are not `<field><operator><value>`; the instance ignores them, and so do we by default. */
  unparsed: string[];
}

// Column names are lower case on the platform; the operator starts at the first character that cannot be one.
const fieldPattern = /^[a-z0-9_]+(?:\.[a-z0-9_]+)*/;

/** Parses an encoded query. Never throws: what cannot be read is listed in `unparsed`. */
export function parseEncodedQuery(query: string): ParsedQuery {
  const parsed: ParsedQuery = { blocks: [], orderBy: [], unparsed: [] };
  if (query === '') return parsed;
  for (const blockText of query.split('^NQ')) {
    const block: QueryCondition[][] = [];
    for (const term of blockText.split('^')) {
      if (term === '' || term === 'EQ') continue;
      if (term.startsWith('ORDERBYDESC')) {
        parsed.orderBy.push({ field: term.slice('ORDERBYDESC'.length), descending: true });
        continue;
      }
      if (term.startsWith('ORDERBY')) {
        parsed.orderBy.push({ field: term.slice('ORDERBY'.length), descending: false });
        continue;
      }
      const isAlternative = term.startsWith('OR') && block.length > 0;
      const text = isAlternative ? term.slice(2) : term;
      const condition = parseCondition(text);
      if (!condition) {
        parsed.unparsed.push(term);
        continue;
      }
      if (isAlternative) block.at(-1)?.push(condition);
      else block.push([condition]);
    }
    parsed.blocks.push(block);
  }
  return parsed;
}

function parseCondition(term: string): QueryCondition | undefined {
  const field = fieldPattern.exec(term)?.[0];
  if (!field) return undefined;
  const rest = term.slice(field.length);
  const operator = operators.find((op) => rest.startsWith(op));
  if (!operator) return undefined;
  return { field, operator, value: rest.slice(operator.length) };
}
