import jsonata from 'jsonata';
import { MappingErrorCode } from './errors.ts';
import { ExpressionFault } from './expression/fault.ts';
import type { Evaluator, Scope } from './expression/scope.ts';

/** Guardrails for the escape hatch (reference §1.2: JSONata gives no defaults; set timeout and stack). */
export interface JsonataLimits {
  timeoutMs: number;
  stack: number;
  sequence: number;
}

export const DEFAULT_JSONATA_LIMITS: JsonataLimits = { timeoutMs: 50, stack: 200, sequence: 10_000 };

// D1011 stack, D1012 timeout, D2015 sequence: the guardrail errors of jsonata >= 2.2.0.
const LIMIT_CODES = new Set(['D1011', 'D1012', 'D2015']);

interface JsonataFailure {
  code?: string;
  position?: number;
  message?: string;
}

/**
 * Compiles `expr: {jsonata: "..."}` once. The expression sees the element (or message) as its input,
 * and $root, $meta and the let variables as bindings; nothing else is bound, so it can call only
 * JSONata's built-ins. Evaluation is asynchronous (jsonata 2.x), which makes the whole mapping async.
 * Throws ExpressionFault(JSONATA_SYNTAX) with JSONata's offset on a syntax error.
 */
export function compileJsonata(
  text: string,
  limits: JsonataLimits,
  variables: ReadonlyMap<string, number>,
): Evaluator {
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(text, { timeout: limits.timeoutMs, stack: limits.stack, sequence: limits.sequence });
  } catch (e) {
    const failure = e as JsonataFailure;
    throw new ExpressionFault(
      MappingErrorCode.JSONATA_SYNTAX,
      `JSONata ${failure.code ?? 'error'}: ${failure.message ?? String(e)}`,
      Math.max(0, (failure.position ?? 1) - 1),
    );
  }
  const names = [...variables];
  return async (s: Scope) => {
    const bindings: Record<string, unknown> = { root: s.root, meta: s.meta };
    for (const [name, slot] of names) bindings[name] = s.vars[slot];
    try {
      const result = await compiled.evaluate(s.cur, bindings);
      return result === undefined ? null : result;
    } catch (e) {
      const failure = e as JsonataFailure;
      const limit = failure.code !== undefined && LIMIT_CODES.has(failure.code);
      throw new ExpressionFault(
        limit ? MappingErrorCode.JSONATA_LIMIT : MappingErrorCode.JSONATA_FAILED,
        `JSONata ${failure.code ?? 'error'}: ${failure.message ?? String(e)}` +
          (limit
            ? ` (limits: timeout_ms ${limits.timeoutMs}, stack ${limits.stack}, sequence ${limits.sequence})`
            : ''),
        Math.max(0, (failure.position ?? 1) - 1),
      );
    }
  };
}
