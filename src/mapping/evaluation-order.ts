import type { ExpressionReferences } from './value-references.ts';

/** The names one let or field reads: lets (and $parent) by name, fields by `$row.<field>`. */
export interface Reads {
  variables: ReadonlySet<string>;
  rowFields: ReadonlyMap<string, number>;
}

export function readsOf(refs: ReadonlyArray<ExpressionReferences | null>): Reads {
  const variables = new Set<string>();
  const rowFields = new Map<string, number>();
  for (const r of refs) {
    if (!r) continue;
    for (const name of r.variables.keys()) variables.add(name);
    for (const [name, pos] of r.rowFields) if (!rowFields.has(name)) rowFields.set(name, pos);
  }
  return { variables, rowFields };
}

/**
 * The lets `start` needs, directly or through other lets. A let reads only lets declared before it, so
 * the closure is finite; unknown names (reported elsewhere) are ignored.
 */
export function letsNeeded(start: Iterable<string>, lets: ReadonlyMap<string, Reads>): Set<string> {
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name) || !lets.has(name)) return;
    needed.add(name);
    for (const next of lets.get(name)!.variables) visit(next);
  };
  for (const name of start) visit(name);
  return needed;
}

/**
 * Field evaluation order: every field after the fields it reads ($row.<field>), otherwise as declared.
 * Returns the order, or the first cycle found as the list of fields around it (`[a, b, a]`).
 */
export function fieldOrder(
  fields: ReadonlyMap<string, Reads>,
): { order: string[]; cycle: null } | { order: null; cycle: string[] } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    const seen = state.get(name);
    if (seen === 'done') return null;
    if (seen === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of fields.get(name)!.rowFields.keys()) {
      if (!fields.has(next)) continue; // an unknown field is reported as UNKNOWN_FIELD_REF
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
    return null;
  };
  for (const name of fields.keys()) {
    const cycle = visit(name);
    if (cycle) return { order: null, cycle };
  }
  return { order, cycle: null };
}
