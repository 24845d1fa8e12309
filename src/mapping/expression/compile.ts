import { MappingErrorCode } from '../errors.ts';
import type { CompiledArg, FunctionSpec } from '../functions/function-spec.ts';
import { didYouMean, listOf } from '../suggest.ts';
import type { UnitConverter } from '../units/unit-converter.ts';
import type { Expr } from './ast.ts';
import { compileMatch } from './compile-match.ts';
import { compileBinary, compileUnary } from './compile-operators.ts';
import { compilePath, flattenPath, type PathSegment } from './compile-path.ts';
import { ExpressionFault } from './fault.ts';
import { type Evaluator, FORBIDDEN_KEYS, META_KEYS } from './scope.ts';

export interface VariableInfo {
  slot: number;
  /** Reads the exploded element, so it is evaluated per element rather than once per message. */
  perElement: boolean;
}

/**
 * Checks a literal path against the source contract; throws ExpressionFault(UNKNOWN_PATH) at the offending
 * segment's position (positions[i] is segment i's offset) when the path can never match.
 */
export type PathCheck = (base: 'root' | 'current', segments: PathSegment[], positions: number[]) => void;

export interface CompileContext {
  functions: ReadonlyMap<string, FunctionSpec>;
  variables: ReadonlyMap<string, VariableInfo>;
  units: UnitConverter;
  checkPath?: PathCheck | undefined;
}

export interface Compiled {
  evaluate: Evaluator;
  /** True when the value depends on $ (the element) or a per-element variable. */
  perElement: boolean;
  constant?: { value: unknown } | undefined;
}

/**
 * Compiles an expression tree to a closure. No user text ever reaches eval or new Function: each node
 * becomes a small function over the Scope, which holds nothing but the message, the element, $meta and
 * let variables. Throws ExpressionFault for unknown names, forbidden keys and paths the contract rules out.
 */
export function compileExpression(expr: Expr, ctx: CompileContext): Compiled {
  switch (expr.type) {
    case 'literal': {
      const value = expr.value;
      return { evaluate: () => value, perElement: false, constant: { value } };
    }
    case 'current':
    case 'root':
    case 'meta':
    case 'member':
    case 'index':
      return compilePathExpression(expr, ctx);
    case 'var': {
      const info = ctx.variables.get(expr.name);
      if (!info) {
        const known = [...ctx.variables.keys()].map((k) => `$${k}`);
        throw new ExpressionFault(
          MappingErrorCode.UNKNOWN_VARIABLE,
          `unknown variable $${expr.name}${didYouMean(`$${expr.name}`, known)}; ` +
            (known.length
              ? `defined so far: ${listOf(known)}`
              : 'no let variables are defined before this point'),
          expr.pos,
        );
      }
      const slot = info.slot;
      return { evaluate: (s) => s.vars[slot], perElement: info.perElement };
    }
    case 'wildcard':
      throw new ExpressionFault(
        MappingErrorCode.PARSE_ERROR,
        '[*] is only allowed at the end of explode; use [0] or ["key"] here',
        expr.pos,
      );
    case 'unary': {
      const operand = compileExpression(expr.operand, ctx);
      return { evaluate: compileUnary(expr.op, operand.evaluate, expr.pos), perElement: operand.perElement };
    }
    case 'binary': {
      const left = compileExpression(expr.left, ctx);
      const right = compileExpression(expr.right, ctx);
      return {
        evaluate: compileBinary(expr.op, left.evaluate, right.evaluate, expr.pos),
        perElement: left.perElement || right.perElement,
      };
    }
    case 'call':
      return compileCall(expr, ctx);
    case 'array': {
      const items = expr.items.map((item) => compileExpression(item, ctx));
      const evaluators = items.map((i) => i.evaluate);
      return {
        evaluate: (s) => evaluators.map((e) => normalize(e(s))),
        perElement: items.some((i) => i.perElement),
      };
    }
    case 'object': {
      const entries = expr.entries.map((entry) => {
        rejectForbiddenKey(entry.key, entry.pos);
        return { key: entry.key, compiled: compileExpression(entry.value, ctx) };
      });
      return {
        evaluate: (s) => {
          const out: Record<string, unknown> = {};
          for (const { key, compiled } of entries) out[key] = normalize(compiled.evaluate(s));
          return out;
        },
        perElement: entries.some((e) => e.compiled.perElement),
      };
    }
    case 'match':
      return compileMatch(expr, (e) => compileExpression(e, ctx));
  }
}

/** Missing paths read as undefined internally; anything that leaves an expression is null instead. */
export function normalize(value: unknown): unknown {
  return value === undefined ? null : value;
}

export function rejectForbiddenKey(key: string, pos: number): void {
  if (FORBIDDEN_KEYS.has(key)) {
    throw new ExpressionFault(
      MappingErrorCode.FORBIDDEN_PROPERTY,
      `'${key}' is not allowed: expressions cannot reach prototypes (${listOf(FORBIDDEN_KEYS)} are rejected)`,
      pos,
    );
  }
}

// Flattens a.b[0]."c" into a base plus literal segments, checks it, and compiles it into one closure.
function compilePathExpression(expr: Expr, ctx: CompileContext): Compiled {
  const { base: node, segments, positions } = flattenPath(expr);
  // In source order, so the first forbidden key is the one reported.
  segments.forEach((seg, i) => {
    if (typeof seg === 'string') rejectForbiddenKey(seg, positions[i]!);
  });
  let base: Compiled;
  switch (node.type) {
    case 'current':
      ctx.checkPath?.('current', segments, positions);
      base = { evaluate: (s) => s.cur, perElement: true };
      break;
    case 'root':
      ctx.checkPath?.('root', segments, positions);
      base = { evaluate: (s) => s.root, perElement: false };
      break;
    case 'meta': {
      const key = segments[0];
      if (typeof key === 'string' && !META_KEYS.has(key)) {
        throw new ExpressionFault(
          MappingErrorCode.UNKNOWN_META_KEY,
          `unknown metadata key $meta.${key}${didYouMean(key, META_KEYS)}; known: ${listOf(META_KEYS)}`,
          positions[0]!,
        );
      }
      base = { evaluate: (s) => s.meta, perElement: false };
      break;
    }
    default:
      base = compileExpression(node, ctx);
  }
  if (segments.length === 0) return base;
  return { evaluate: compilePath(base.evaluate, segments), perElement: base.perElement };
}

function compileCall(expr: Extract<Expr, { type: 'call' }>, ctx: CompileContext): Compiled {
  const spec = ctx.functions.get(expr.name);
  if (!spec) {
    throw new ExpressionFault(
      MappingErrorCode.UNKNOWN_FUNCTION,
      `unknown function ${expr.name}()${didYouMean(expr.name, ctx.functions.keys())}; ` +
        `available: ${listOf([...ctx.functions.keys()].sort())}`,
      expr.pos,
    );
  }
  const toArg = (e: Expr): CompiledArg => {
    const c = compileExpression(e, ctx);
    perElement ||= c.perElement;
    return { evaluate: c.evaluate, constant: c.constant ?? constantOf(e), pos: startOf(e) };
  };
  let perElement = false;
  const badArgs = (message: string, pos: number) =>
    new ExpressionFault(MappingErrorCode.BAD_ARGUMENTS, `${message}; usage: ${spec.signature}`, pos);

  const args: Array<CompiledArg | undefined> = new Array(spec.params.length).fill(undefined);
  const rest: CompiledArg[] = [];
  const positional = spec.params.filter((p) => !p.namedOnly).length;
  expr.args.forEach((arg, i) => {
    if (i < positional) args[i] = toArg(arg);
    else if (spec.variadic) rest.push(toArg(arg));
    else throw badArgs(`${expr.name}() takes at most ${positional} arguments`, startOf(arg));
  });
  const named = new Map<string, CompiledArg>();
  for (const arg of expr.named) {
    const index = spec.params.findIndex((p) => p.name === arg.name);
    if (index >= 0) {
      if (args[index]) throw badArgs(`${expr.name}() got '${arg.name}' twice`, arg.pos);
      args[index] = toArg(arg.value);
    } else if (spec.openNamed) {
      rejectForbiddenKey(arg.name, arg.pos);
      named.set(arg.name, toArg(arg.value));
    } else {
      const names = spec.params.map((p) => p.name);
      throw badArgs(`${expr.name}() has no argument '${arg.name}'${didYouMean(arg.name, names)}`, arg.pos);
    }
  }
  spec.params.forEach((param, i) => {
    const arg = args[i];
    if (!arg && param.required) throw badArgs(`${expr.name}() needs '${param.name}'`, expr.pos);
    if (arg && param.literal && !arg.constant) {
      throw badArgs(`${expr.name}() needs a literal for '${param.name}'`, arg.pos);
    }
  });
  const evaluate = spec.compile(args, { pos: expr.pos, units: ctx.units }, rest, named);
  return { evaluate, perElement };
}

// Where an argument starts in the text: a path's node sits at its last key, a binary at its operator.
function startOf(e: Expr): number {
  if (e.type === 'member' || e.type === 'index' || e.type === 'wildcard') return startOf(e.object);
  if (e.type === 'binary') return startOf(e.left);
  return e.pos;
}

// -1 parses as unary minus on a literal; functions still want to see it as a constant.
function constantOf(e: Expr): { value: unknown } | undefined {
  if (
    e.type === 'unary' &&
    e.op === '-' &&
    e.operand.type === 'literal' &&
    typeof e.operand.value === 'number'
  ) {
    return { value: -e.operand.value };
  }
  return undefined;
}
