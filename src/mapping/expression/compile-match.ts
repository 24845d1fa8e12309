import { MappingErrorCode } from '../errors.ts';
import type { Expr } from './ast.ts';
import type { Compiled } from './compile.ts';
import { truthy } from './compile-operators.ts';
import { describeValue, ExpressionFault } from './fault.ts';
import type { Evaluator, Scope } from './scope.ts';

type MatchExpr = Extract<Expr, { type: 'match' }>;

/**
 * `match subject { key: value, _: fallback }` looks the subject up as text in a Map (one hash lookup per
 * record, however many cases); `match { condition: value }` tries conditions in order. Without a fallback,
 * no match is a NO_MATCHING_CASE fault that lists the cases.
 */
export function compileMatch(expr: MatchExpr, compile: (e: Expr) => Compiled): Compiled {
  const fallback = expr.fallback ? compile(expr.fallback) : null;
  let perElement = fallback?.perElement ?? false;
  const onNoMatch = (value: unknown, s: Scope, keys: string): unknown => {
    if (fallback) return fallback.evaluate(s);
    throw new ExpressionFault(
      MappingErrorCode.NO_MATCHING_CASE,
      `no case matches ${describeValue(value)}; cases: ${keys}; add _: <value> for a fallback`,
      expr.pos,
    );
  };

  if (!expr.subject) {
    const cases = expr.cases.map((c) => {
      if (c.kind !== 'condition') throw new Error('unreachable: literal case without subject');
      const key = compile(c.key);
      const value = compile(c.value);
      perElement ||= key.perElement || value.perElement;
      return { test: key.evaluate, value: value.evaluate, pos: c.pos };
    });
    const evaluate: Evaluator = (s) => {
      for (const c of cases) if (truthy(c.test(s), 'match', c.pos)) return c.value(s);
      return onNoMatch(null, s, 'conditions');
    };
    return { evaluate, perElement };
  }

  const subject = compile(expr.subject);
  perElement ||= subject.perElement;
  const table = new Map<string | null, CaseResult>();
  for (const c of expr.cases) {
    if (c.kind !== 'literal') throw new Error('unreachable: condition case with subject');
    const value = compile(c.value);
    perElement ||= value.perElement;
    table.set(c.key, value);
  }
  return { evaluate: compileLookup(subject.evaluate, table, onNoMatch), perElement };
}

/** Shared with the YAML form `{match, cases, default}`, whose case values are literals. */
export function compileLookup(
  subject: Evaluator,
  table: Map<string | null, CaseResult>,
  onNoMatch: (value: unknown, s: Scope, keys: string) => unknown,
): Evaluator {
  const keys = [...table.keys()].map((k) => (k === null ? 'null' : k)).join(', ');
  // Code tables (TEMP → "temperature") are all literals: look the value up directly, no call per record.
  if ([...table.values()].every((c) => c.constant)) {
    const values = new Map([...table].map(([k, c]) => [k, c.constant!.value ?? null]));
    return (s) => {
      const value = subject(s);
      const key = matchKey(value);
      const hit = key === undefined ? undefined : values.get(key);
      return hit !== undefined ? hit : onNoMatch(value, s, keys);
    };
  }
  return (s) => {
    const value = subject(s);
    const key = matchKey(value);
    const hit = key === undefined ? undefined : table.get(key);
    return hit ? hit.evaluate(s) : onNoMatch(value, s, keys);
  };
}

/** A case's result: its closure, and its value when it is a literal. */
export interface CaseResult {
  evaluate: Evaluator;
  constant?: { value: unknown } | undefined;
}

// Case keys are text (YAML map keys always are), so numbers and booleans are compared by their text.
function matchKey(value: unknown): string | null | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
