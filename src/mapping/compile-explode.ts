import type { JsonSchema, SchemaShape } from './contract/schema-shape.ts';
import { MappingErrorCode, type SourceLocation } from './errors.ts';
import type { Expr } from './expression/ast.ts';
import { type CompileContext, compileExpression, type PathCheck } from './expression/compile.ts';
import { type FlatPath, flattenPath, formatPath } from './expression/compile-path.ts';
import { describeValue, ExpressionFault } from './expression/fault.ts';
import { parseExpression } from './expression/parser.ts';
import type { Evaluator, Scope } from './expression/scope.ts';

/**
 * `explode` split at its `[*]`s into levels (mappings/README.md, "Explode"): `$.sensors[*].readings[*]` is
 * `$.sensors` read from the message, then `.readings` read from each sensor. A trailing `[*]` is optional.
 */
export interface ExplodeLevels {
  /** Level 0 reads the message ($ and $$ are the message there, lets by name); level k reads level k-1's element as $. */
  exprs: Expr[];
  /** For each level, the schema of the elements it yields, when the source contract says. */
  elementSchemas: Array<JsonSchema | null>;
  /** For messages: `$.sensors[*]`, `.readings[*]`. */
  labels: string[];
}

/** The compiled explode the runner expands per record. */
export interface ExplodePlan {
  levels: Evaluator[];
  labels: string[];
  location: SourceLocation;
}

/**
 * Parses explode into levels and checks each against the source contract: a path the contract rules out
 * is UNKNOWN_PATH, a value it declares as neither array nor object is EXPLODE_NOT_ARRAY. Throws
 * ExpressionFault (with the offset in the explode text); called by compileMapping before the lets, so they
 * know what $ is.
 */
export function parseExplode(
  text: string,
  shape: SchemaShape | null,
  root: JsonSchema | null,
): ExplodeLevels {
  const tree = parseExpression(text);
  const steps: Expr[] = [];
  let base = tree;
  while (base.type === 'member' || base.type === 'index' || base.type === 'wildcard') {
    steps.unshift(base);
    base = base.object;
  }
  // Groups of steps between wildcards; each group is one level.
  const groups: Expr[][] = [[]];
  for (const step of steps) {
    if (step.type === 'wildcard') groups.push([]);
    else groups.at(-1)!.push(step);
  }
  if (groups.length > 1 && groups.at(-1)!.length === 0) groups.pop();
  const exprs = groups.map((group, level) =>
    rebuild(level === 0 ? base : { type: 'current', pos: 0 }, group),
  );
  const elementSchemas: Array<JsonSchema | null> = [];
  const labels: string[] = [];
  let current: JsonSchema | null = base.type === 'current' || base.type === 'root' ? root : null;
  exprs.forEach((expr, level) => {
    const path = flattenPath(expr);
    const head = text.slice(0, wildcardEnd(steps, 0) ?? text.length).trim();
    // A computed explode (an array literal over several lines) is not repeated in every message.
    labels.push(
      level > 0
        ? `${formatPath('$', path.segments).slice(1)}[*]`
        : head.length <= 40 && !head.includes('\n')
          ? head
          : '',
    );
    current = shape && current ? elementsAt(shape, current, level === 0 ? base : null, path, labels) : null;
    elementSchemas.push(current);
  });
  return { exprs, elementSchemas, labels };
}

/**
 * Compiles the levels: level 0 with the mapping's context (message lets only; checked by the caller), the
 * others as paths from the previous level's element, checked against its schema.
 */
export function compileExplodeLevels(
  levels: ExplodeLevels,
  ctx: CompileContext,
  checkPathUnder: (schema: JsonSchema | null) => PathCheck | undefined,
  location: SourceLocation,
): ExplodePlan {
  const compiled = levels.exprs.map(
    (expr, level) =>
      compileExpression(
        expr,
        level === 0 ? ctx : { ...ctx, checkPath: checkPathUnder(levels.elementSchemas[level - 1] ?? null) },
      ).evaluate,
  );
  return { levels: compiled, labels: levels.labels, location };
}

/**
 * The elements of one exploded value: an array's elements, or one `{key, value}` per own entry of a plain
 * object (dynamic keys, e.g. `{ "temp": 21.5, "hum": 40 }`). Null for anything else.
 */
export function explodable(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'object' || value === null) return null;
  return Object.entries(value).map(([key, v]) => ({ key, value: v }));
}

/**
 * Expands every level for one record. Returns the innermost elements and sets `out.parents` to each
 * element's parent (the element one level up), or to null with one level, where the parent is the message. A missing inner
 * value (a sensor without readings) yields no elements for that parent. Throws ExpressionFault
 * (EXPLODE_NOT_ARRAY, or whatever a level's expression throws); other errors are the caller's to contain.
 */
export function expandElements(plan: ExplodePlan, s: Scope, out: { parents: unknown[] | null }): unknown[] {
  const first = plan.levels[0]!(s);
  let elements = explodable(first);
  if (elements === null) throw notExplodable(plan.labels[0]!, first, null);
  out.parents = null;
  if (plan.levels.length === 1) return elements;
  const outer = s.cur;
  let parents: unknown[] = [];
  try {
    for (let level = 1; level < plan.levels.length; level++) {
      const next: unknown[] = [];
      const nextParents: unknown[] = [];
      for (let i = 0; i < elements.length; i++) {
        s.cur = elements[i];
        const value = plan.levels[level]!(s);
        if (value === null || value === undefined) continue;
        const inner = explodable(value);
        if (inner === null) throw notExplodable(plan.labels[level]!, value, i);
        for (const element of inner) {
          next.push(element);
          nextParents.push(elements[i]);
        }
      }
      elements = next;
      parents = nextParents;
    }
  } finally {
    s.cur = outer;
  }
  out.parents = parents;
  return elements;
}

function notExplodable(label: string, value: unknown, parent: number | null): ExpressionFault {
  const of = parent === null ? '' : ` of element ${parent} of the level above`;
  return new ExpressionFault(
    MappingErrorCode.EXPLODE_NOT_ARRAY,
    `${label ? `${label}${of}: ` : ''}expected an array or an object, got ${describeValue(value)}`,
    0,
  );
}

function rebuild(base: Expr, steps: Expr[]): Expr {
  let expr = base;
  for (const step of steps) {
    if (step.type === 'member') expr = { type: 'member', object: expr, key: step.key, pos: step.pos };
    else if (step.type === 'index') expr = { type: 'index', object: expr, index: step.index, pos: step.pos };
  }
  return expr;
}

// Where the first `[*]` ends in the text, for labelling level 0.
function wildcardEnd(steps: Expr[], nth: number): number | undefined {
  const wildcard = steps.filter((s) => s.type === 'wildcard')[nth];
  return wildcard ? wildcard.pos + 3 : undefined;
}

function elementsAt(
  shape: SchemaShape,
  schema: JsonSchema,
  base: Expr | null,
  path: FlatPath,
  labels: string[],
): JsonSchema | null {
  const baseName = base?.type === 'root' ? '$$' : '$';
  const found = shape.elementsOf(schema, baseName, path.segments, path.positions);
  if ('elements' in found) return found.elements;
  const label = labels.at(-1)!;
  throw new ExpressionFault(
    MappingErrorCode.EXPLODE_NOT_ARRAY,
    `explode ${label || 'value'}: the source schema declares ${formatPath(baseName, path.segments)} as ${found.notExplodable === 'integer' || found.notExplodable === 'object' ? 'an' : 'a'} ${found.notExplodable}; explode reads an array (one row per element) or an object (one row per {key, value} entry)`,
    path.positions.at(-1) ?? 0,
  );
}
