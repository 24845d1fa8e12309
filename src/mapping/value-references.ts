import { flattenPath, type PathSegment } from './expression/compile-path.ts';
import { parseExpression } from './expression/parser.ts';
import type { FieldSpec } from './mapping-spec.ts';
import type { YamlPath } from './yaml-locator.ts';

/** The variable that holds the row being built: fields read each other as `$row.<field>`. */
export const ROW_VARIABLE = 'row';
/** The variable that holds the element one explode level up (the message for a one-level explode). */
export const PARENT_VARIABLE = 'parent';

/** What one expression reads, each with its offset in the expression text. */
export interface ExpressionReferences {
  /** `$name` variables (lets, $parent), without `$row`. */
  variables: Map<string, number>;
  /** Fields read as `$row.<field>`. */
  rowFields: Map<string, number>;
  /** Offset of a `$row` not followed by a field name, or null. */
  bareRow: number | null;
  /** Literal paths read from `$parent` (`$parent.id`), for the contract check. */
  parentPaths: Array<{ segments: PathSegment[]; positions: number[] }>;
}

/** One expression text of a let, field, where or explode, and where it is written. */
export interface ValueText {
  text: string;
  path: YamlPath;
  /** JSONata text: its `$name` bindings are found by pattern, not parsed. */
  jsonata: boolean;
}

/** The expression texts of a let or field in any of its forms; none for literals and const. */
export function valueTexts(spec: FieldSpec, path: YamlPath): ValueText[] {
  if (typeof spec === 'string') return [{ text: spec, path, jsonata: false }];
  if (spec === null || typeof spec !== 'object') return [];
  const texts: ValueText[] = [];
  if (typeof spec.expr === 'string') texts.push({ text: spec.expr, path: [...path, 'expr'], jsonata: false });
  else if (spec.expr)
    texts.push({ text: spec.expr.jsonata, path: [...path, 'expr', 'jsonata'], jsonata: true });
  if (typeof spec.match === 'string')
    texts.push({ text: spec.match, path: [...path, 'match'], jsonata: false });
  return texts;
}

/**
 * What an expression reads, by walking its syntax tree. Null when it does not parse: compiling it reports
 * that. Used by compileMapping to order evaluation (where before the lets it does not need, fields after
 * the fields they read) and to find unused lets.
 */
export function expressionReferences(value: ValueText): ExpressionReferences | null {
  const refs: ExpressionReferences = {
    variables: new Map(),
    rowFields: new Map(),
    bareRow: null,
    parentPaths: [],
  };
  if (value.jsonata) {
    // JSONata binds lets by name ($name); $row is not bound there.
    for (const m of value.text.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) refs.variables.set(m[1]!, m.index);
    refs.variables.delete(ROW_VARIABLE);
    return refs;
  }
  let tree: unknown;
  try {
    tree = parseExpression(value.text);
  } catch {
    return null;
  }
  walk(tree, refs);
  return refs;
}

// Generic over node shapes: any object with a `type` is a node, and every object or array below it is
// searched, so node kinds added to the expression language are covered without changes here.
function walk(node: unknown, refs: ExpressionReferences): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, refs);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as { type?: unknown; name?: unknown; key?: unknown; object?: unknown; pos?: unknown };
  if (n.type === 'member' && isRow(n.object) && typeof n.key === 'string') {
    if (!refs.rowFields.has(n.key)) refs.rowFields.set(n.key, Number(n.pos));
    return;
  }
  if (n.type === 'member' || n.type === 'index') {
    const path = flattenPath(node as Parameters<typeof flattenPath>[0]);
    const base = path.base as { type: string; name?: string };
    if (base.type === 'var' && base.name === PARENT_VARIABLE) {
      refs.parentPaths.push({ segments: path.segments, positions: path.positions });
      if (!refs.variables.has(PARENT_VARIABLE)) refs.variables.set(PARENT_VARIABLE, Number(n.pos));
      return;
    }
  }
  if (n.type === 'var' && typeof n.name === 'string') {
    if (n.name === ROW_VARIABLE) refs.bareRow ??= Number(n.pos);
    else if (!refs.variables.has(n.name)) refs.variables.set(n.name, Number(n.pos));
    return;
  }
  for (const child of Object.values(n)) if (typeof child === 'object') walk(child, refs);
}

function isRow(node: unknown): boolean {
  const n = node as { type?: unknown; name?: unknown } | null;
  return n?.type === 'var' && n.name === ROW_VARIABLE;
}
