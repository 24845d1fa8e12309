import type { Expr } from './ast.ts';
import { type Evaluator, getIndex, getKey } from './scope.ts';

/** A literal path step: a key, or an array index. */
export type PathSegment = string | { index: number };

/** `a.b[0]."c"` split into the expression it starts from and its literal steps, each with its offset. */
export interface FlatPath {
  base: Expr;
  segments: PathSegment[];
  positions: number[];
}

export function flattenPath(expr: Expr): FlatPath {
  const segments: PathSegment[] = [];
  const positions: number[] = [];
  let node = expr;
  while (node.type === 'member' || node.type === 'index') {
    segments.unshift(node.type === 'member' ? node.key : { index: node.index });
    positions.unshift(node.pos);
    node = node.object;
  }
  return { base: node, segments, positions };
}

/**
 * One closure for a whole path. Paths are the hot spot of every mapping (most fields are `$.x` or `$$.y`),
 * so the common one- and two-key shapes get their own closures instead of a loop.
 */
export function compilePath(base: Evaluator, segments: PathSegment[]): Evaluator {
  const allKeys = segments.every((s) => typeof s === 'string');
  if (allKeys && segments.length === 1) {
    const a = segments[0] as string;
    return (s) => getKey(base(s), a);
  }
  if (allKeys && segments.length === 2) {
    const a = segments[0] as string;
    const b = segments[1] as string;
    return (s) => getKey(getKey(base(s), a), b);
  }
  const steps = segments.map((seg): ((v: unknown) => unknown) =>
    typeof seg === 'string' ? (v) => getKey(v, seg) : (v) => getIndex(v, seg.index),
  );
  return (s) => {
    let value = base(s);
    for (let i = 0; i < steps.length && value !== undefined; i++) value = steps[i]!(value);
    return value;
  };
}

/** `$.a[0]."b c"` for messages. */
export function formatPath(base: '$' | '$$', segments: PathSegment[]): string {
  let out: string = base;
  for (const seg of segments) {
    if (typeof seg !== 'string') out += `[${seg.index}]`;
    else out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg) ? `.${seg}` : `.${JSON.stringify(seg)}`;
  }
  return out;
}
