import { type MappingError, MappingErrorCode, type OnErrorPolicy } from './errors.ts';
import type { CompileContext } from './expression/compile.ts';
import { type CaseResult, compileLookup } from './expression/compile-match.ts';
import { describeValue, ExpressionFault } from './expression/fault.ts';
import type { ExpressionCompiler } from './expression-compiler.ts';
import { compileJsonata, type JsonataLimits } from './jsonata-field.ts';
import type { ValuePlan } from './mapping-plan.ts';
import type { FieldObjectSpec, FieldSpec } from './mapping-spec.ts';
import type { YamlPath } from './yaml-locator.ts';

export interface ValueContext {
  compiler: ExpressionCompiler;
  ctx: CompileContext;
  jsonataLimits: JsonataLimits;
  defaultOnError: OnErrorPolicy;
  /** let variable name → slot, for JSONata bindings. */
  slots: ReadonlyMap<string, number>;
  invalid(detail: string, path: YamlPath): MappingError;
}

/** A compiled value plus whether it reads the exploded element. */
export interface CompiledValue {
  plan: ValuePlan;
  perElement: boolean;
}

/**
 * Compiles one `let` or `fields` entry in any of its forms: an expression string, a literal, or an object
 * with expr (or {jsonata}), const, or match/cases/default, plus on_error, default and flag.
 * Throws MappingError (INVALID_MAPPING or an expression error) with the entry's file:line:col.
 */
export function compileValue(
  name: string,
  role: 'let' | 'field',
  spec: FieldSpec,
  path: YamlPath,
  vc: ValueContext,
): CompiledValue {
  const base = {
    name,
    role,
    async: false,
    onError: vc.defaultOnError,
    fallback: null as unknown,
    flag: null as Array<[string, unknown]> | null,
    slot: -1,
    locate: (pos: number) => vc.compiler.locate(path, pos),
  };
  if (typeof spec === 'string') {
    const compiled = vc.compiler.compile(spec, path, vc.ctx);
    return { plan: { ...base, evaluate: compiled.evaluate }, perElement: compiled.perElement };
  }
  if (spec === null || typeof spec !== 'object') {
    const value = spec;
    return { plan: { ...base, evaluate: () => value }, perElement: false };
  }
  const forms = (['expr', 'const', 'match'] as const).filter((k) => k in spec);
  if (forms.length !== 1) {
    throw vc.invalid(
      forms.length === 0
        ? `${role} '${name}' needs one of expr, const or match`
        : `${role} '${name}' has ${forms.join(' and ')}; use exactly one`,
      path,
    );
  }
  checkOptions(name, role, spec, path, vc);
  const options = {
    onError: spec.on_error ?? vc.defaultOnError,
    fallback: spec.default ?? null,
    flag: spec.flag ? Object.entries(spec.flag) : null,
  };
  if ('const' in spec) {
    const value = spec.const;
    return { plan: { ...base, ...options, evaluate: () => value }, perElement: false };
  }
  if ('match' in spec) return compileMatchForm(spec, path, { ...base, ...options }, vc);
  const expr = spec.expr!;
  if (typeof expr === 'string') {
    const exprPath = [...path, 'expr'];
    const compiled = vc.compiler.compile(expr, exprPath, vc.ctx);
    const locate = (pos: number) => vc.compiler.locate(exprPath, pos);
    return {
      plan: { ...base, ...options, locate, evaluate: compiled.evaluate },
      perElement: compiled.perElement,
    };
  }
  const jsonataPath = [...path, 'expr', 'jsonata'];
  const locate = (pos: number) => vc.compiler.locate(jsonataPath, pos);
  try {
    const evaluate = compileJsonata(expr.jsonata, vc.jsonataLimits, vc.slots);
    // JSONata sees the element, so treat it as per-element; it is also what makes the mapping async.
    return { plan: { ...base, ...options, locate, evaluate, async: true }, perElement: true };
  } catch (e) {
    if (e instanceof ExpressionFault) throw vc.compiler.toError(e, jsonataPath);
    throw e;
  }
}

function checkOptions(
  name: string,
  role: string,
  spec: FieldObjectSpec,
  path: YamlPath,
  vc: ValueContext,
): void {
  if ('cases' in spec && !('match' in spec)) {
    throw vc.invalid(`${role} '${name}' has cases but no match; add match: <expression>`, [...path, 'cases']);
  }
  if (spec.on_error === 'default' && !('default' in spec)) {
    throw vc.invalid(`${role} '${name}' has on_error: default but no default value; add default: <value>`, [
      ...path,
      'on_error',
    ]);
  }
  if (spec.flag && (role === 'let' || (spec.on_error ?? vc.defaultOnError) !== 'null_and_flag')) {
    throw vc.invalid(
      role === 'let'
        ? `let '${name}' cannot have flag; put flag on the field that uses it`
        : `${role} '${name}' has flag but on_error is not null_and_flag`,
      [...path, 'flag'],
    );
  }
}

// YAML form: {match: <expr>, cases: {key: literal}, default: literal}. Case values are literals, and
// default doubles as the no-match result.
function compileMatchForm(
  spec: FieldObjectSpec,
  path: YamlPath,
  base: Omit<ValuePlan, 'evaluate'>,
  vc: ValueContext,
): CompiledValue {
  const subjectPath = [...path, 'match'];
  const subject = vc.compiler.compile(spec.match!, subjectPath, vc.ctx);
  const table = new Map<string | null, CaseResult>();
  for (const [key, value] of Object.entries(spec.cases ?? {})) {
    table.set(key, { evaluate: () => value, constant: { value } });
  }
  const hasDefault = 'default' in spec;
  const fallback = spec.default ?? null;
  const evaluate = compileLookup(subject.evaluate, table, (value, _s, keys) => {
    if (hasDefault) return fallback;
    throw new ExpressionFault(
      MappingErrorCode.NO_MATCHING_CASE,
      `no case matches ${describeValue(value)}; cases: ${keys}; add default: <value>`,
      0,
    );
  });
  const locate = (pos: number) => vc.compiler.locate(subjectPath, pos);
  return { plan: { ...base, locate, evaluate }, perElement: subject.perElement };
}
