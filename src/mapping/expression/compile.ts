import { MappingErrorCode } from '../errors.ts';
import type { CompiledArg, FunctionSpec } from '../functions/function-spec.ts';
import { didYouMean, listOf } from '../suggest.ts';
import type { UnitConverter } from '../units/unit-converter.ts';
import type { Expr } from './ast.ts';
import { compileMatch } from './compile-match.ts';
import { compileBinary, compileUnary } from './compile-operators.ts';
import { compilePath, flattenPath, type PathSegment } from './compile-path.ts';
import { describeValue, ExpressionFault } from './fault.ts';
import { type Evaluator, FORBIDDEN_KEYS, getIndex, getKey, META_KEYS, type Scope } from './scope.ts';

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
  /**
   * Inside try()'s first argument a constant part that always faults is what try is for, so its fault is
   * kept for run time instead of refusing the mapping.
   */
  deferConstantFaults?: boolean | undefined;
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
 * let variables. Operators and calls whose operands are all constant are evaluated here, once (constant
 * folding), so `1 + "a"` is refused before any record arrives. Throws ExpressionFault for unknown names,
 * forbidden keys, paths the contract rules out and constant parts that always fail.
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
    case 'lookup':
      return compileLookupExpression(expr, ctx);
    case 'unary': {
      const operand = compileExpression(expr.operand, ctx);
      return fold(compileUnary(expr.op, operand.evaluate, expr.pos), [operand], ctx);
    }
    case 'binary': {
      const left = compileExpression(expr.left, ctx);
      const right = compileExpression(expr.right, ctx);
      if ((expr.op === '/' || expr.op === '%') && right.constant?.value === 0) {
        return refuse(
          new ExpressionFault(
            MappingErrorCode.DIVISION_BY_ZERO,
            `division by zero in '${expr.op}': the divisor is the constant 0, so it never gives a number`,
            expr.pos,
          ),
          ctx,
        );
      }
      return fold(compileBinary(expr.op, left.evaluate, right.evaluate, expr.pos), [left, right], ctx);
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

// What constant folding evaluates against: a constant part reads nothing from it.
const NO_INPUT: Scope = { root: undefined, cur: undefined, meta: {}, vars: [] };

/**
 * Evaluates a node once when all its parts are constant. A fault is then certain for every record, so it
 * is refused (or kept for run time inside try). Only primitive results become constants: an array or
 * object is built per record, so no two rows share one mutable value.
 */
function fold(evaluate: Evaluator, parts: Compiled[], ctx: CompileContext): Compiled {
  const perElement = parts.some((p) => p.perElement);
  if (!parts.every((p) => p.constant)) return { evaluate, perElement };
  let value: unknown;
  try {
    value = evaluate(NO_INPUT);
  } catch (e) {
    if (!(e instanceof ExpressionFault)) throw e;
    return refuse(
      new ExpressionFault(
        e.code,
        `${e.message} (its inputs are constant, so it fails for every record)`,
        e.pos,
      ),
      ctx,
    );
  }
  if (typeof value === 'object' && value !== null) return { evaluate, perElement: false };
  return { evaluate: () => value, perElement: false, constant: { value } };
}

function refuse(fault: ExpressionFault, ctx: CompileContext): Compiled {
  if (!ctx.deferConstantFaults) throw fault;
  return {
    evaluate: () => {
      throw fault;
    },
    perElement: false,
  };
}

// a[$.i]: a number indexes an array (negative from the end), text names a key, null reads null.
function compileLookupExpression(expr: Extract<Expr, { type: 'lookup' }>, ctx: CompileContext): Compiled {
  const object = compileExpression(expr.object, ctx);
  const key = compileExpression(expr.key, ctx);
  const readObject = object.evaluate;
  const readKey = key.evaluate;
  const pos = expr.pos;
  const badKey = (k: unknown) =>
    new ExpressionFault(
      MappingErrorCode.TYPE_MISMATCH,
      `an index must be a whole number or a key text, got ${describeValue(k)}; use round() or to_string()`,
      pos,
    );
  if (key.constant) {
    const k = key.constant.value;
    if (typeof k === 'string') rejectForbiddenKey(k, pos);
    else if (k !== null && !(typeof k === 'number' && Number.isInteger(k))) return refuse(badKey(k), ctx);
  }
  return {
    evaluate: (s) => {
      const k = readKey(s);
      if (typeof k === 'number' && Number.isInteger(k)) return getIndex(readObject(s), k);
      if (typeof k === 'string') return getKey(readObject(s), k);
      if (k === null || k === undefined) return undefined;
      throw badKey(k);
    },
    perElement: object.perElement || key.perElement,
  };
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
        `available: ${listOf([...ctx.functions.keys()].sort())} (docs/mapping-functions.md); ` +
        'for anything else write the field in JSONata: expr: { jsonata: "..." } (mappings/README.md, Expressions)',
      expr.pos,
    );
  }
  const toArg = (e: Expr, index: number): CompiledArg => {
    const inner = spec.params[index]?.catchesFaults ? { ...ctx, deferConstantFaults: true } : ctx;
    const c = compileExpression(e, inner);
    parts.push(c);
    return { evaluate: c.evaluate, constant: c.constant, pos: startOf(e) };
  };
  const parts: Compiled[] = [];
  const badArgs = (message: string, pos: number) =>
    new ExpressionFault(MappingErrorCode.BAD_ARGUMENTS, `${message}; usage: ${spec.signature}`, pos);

  const args: Array<CompiledArg | undefined> = new Array(spec.params.length).fill(undefined);
  const rest: CompiledArg[] = [];
  const positional = spec.params.filter((p) => !p.namedOnly).length;
  expr.args.forEach((arg, i) => {
    if (i < positional) args[i] = toArg(arg, i);
    else if (spec.variadic) rest.push(toArg(arg, -1));
    else throw badArgs(`${expr.name}() takes at most ${positional} arguments`, startOf(arg));
  });
  const named = new Map<string, CompiledArg>();
  for (const arg of expr.named) {
    const index = spec.params.findIndex((p) => p.name === arg.name);
    if (index >= 0) {
      if (args[index]) throw badArgs(`${expr.name}() got '${arg.name}' twice`, arg.pos);
      args[index] = toArg(arg.value, index);
    } else if (spec.openNamed) {
      rejectForbiddenKey(arg.name, arg.pos);
      named.set(arg.name, toArg(arg.value, -1));
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
  // Every function is pure (FunctionSpec), so a call with constant arguments is folded like an operator.
  return fold(evaluate, parts, ctx);
}

// Where an argument starts in the text: a path's node sits at its last key, a binary at its operator.
function startOf(e: Expr): number {
  if (e.type === 'member' || e.type === 'index' || e.type === 'wildcard' || e.type === 'lookup') {
    return startOf(e.object);
  }
  if (e.type === 'binary') return startOf(e.left);
  return e.pos;
}
