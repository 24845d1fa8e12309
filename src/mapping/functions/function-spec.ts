import type { Evaluator } from '../expression/scope.ts';
import type { UnitConverter } from '../units/unit-converter.ts';

/** One compiled argument; `constant` is set when the argument is a literal, so a function can specialise. */
export interface CompiledArg {
  evaluate: Evaluator;
  constant: { value: unknown } | undefined;
  pos: number;
}

export interface ParamSpec {
  name: string;
  required?: boolean;
  /** The argument must be a literal (a format pattern, an algorithm name). */
  literal?: boolean;
  /** Only by name (algorithm: "md5"), so extra positional arguments of a variadic function stay values. */
  namedOnly?: boolean;
  /**
   * The function handles this argument's faults itself (try's first argument), so a constant argument that
   * always faults is not refused at compile time.
   */
  catchesFaults?: boolean;
}

/** A call and what it returns; docs/mapping-functions.md shows them and a unit test runs every one. */
export interface FunctionExample {
  call: string;
  result: unknown;
}

/** What a function's compile step may use besides its arguments. */
export interface CallSite {
  /** Offset of the call in the expression text, for faults. */
  pos: number;
  units: UnitConverter;
}

/**
 * A whitelisted function. `compile` runs once per call site and returns the closure that runs per record;
 * it throws ExpressionFault for problems it can see at compile time (an unknown literal unit, say). The
 * closure must be pure (its result depends on its arguments only): a call whose arguments are all constant
 * is evaluated once when the mapping loads.
 */
export interface FunctionSpec {
  name: string;
  /** One line for messages and docs: `round(value, digits = 0)`. */
  signature: string;
  /** What it returns, for null and for bad input too; Markdown, rendered into docs/mapping-functions.md. */
  description: string;
  /** At least one; calls with literal arguments only, so they run without a message. */
  examples: FunctionExample[];
  params: ParamSpec[];
  /** Extra positional arguments are allowed and passed in `rest`. */
  variadic?: boolean;
  /** Named arguments other than params are allowed and passed in `named` (format placeholders). */
  openNamed?: boolean;
  compile(
    args: Array<CompiledArg | undefined>,
    site: CallSite,
    rest: CompiledArg[],
    named: Map<string, CompiledArg>,
  ): Evaluator;
}
