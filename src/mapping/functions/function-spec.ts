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
}

/** What a function's compile step may use besides its arguments. */
export interface CallSite {
  /** Offset of the call in the expression text, for faults. */
  pos: number;
  units: UnitConverter;
}

/**
 * A whitelisted function. `compile` runs once per call site and returns the closure that runs per record;
 * it throws ExpressionFault for problems it can see at compile time (an unknown literal unit, say).
 */
export interface FunctionSpec {
  name: string;
  /** One line for messages and docs: `round(value, digits = 0)`. */
  signature: string;
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
