import jsonata from 'jsonata';
import { MappingErrorCode } from './errors.ts';
import { ExpressionFault } from './expression/fault.ts';
import type { Evaluator, Scope } from './expression/scope.ts';
import type { JsonataLimits } from './jsonata-protocol.ts';
import { re2Problem } from './jsonata-regex.ts';
import { JsonataSandboxError, jsonataSandbox } from './jsonata-sandbox.ts';

export type { JsonataLimits } from './jsonata-protocol.ts';

export const DEFAULT_JSONATA_LIMITS: JsonataLimits = { timeoutMs: 50, stack: 200, sequence: 10_000 };

// D1011 stack, D1012 timeout, D2015 sequence: the guardrail errors of jsonata >= 2.2.0.
const LIMIT_CODES = new Set(['D1011', 'D1012', 'D2015']);

interface JsonataFailure {
  code?: string;
  position?: number;
  message?: string;
}

interface JsonataNode {
  type?: string;
  value?: unknown;
  position?: number;
}

/**
 * Compiles `expr: {jsonata: "..."}`. The text is parsed here, so a syntax error or a regex RE2 cannot run
 * is a compile error (JSONATA_SYNTAX, at JSONata's offset); evaluation happens in the JSONata sandbox
 * (jsonata-sandbox.ts: a worker thread with a heap cap and a hard deadline). The expression sees the
 * element (or message) as its input, and $root, $meta and the let variables as bindings; nothing else is
 * bound, so it can call only JSONata's built-ins. Only the bindings it names are sent to the worker.
 */
export function compileJsonata(
  text: string,
  limits: JsonataLimits,
  variables: ReadonlyMap<string, number>,
): Evaluator {
  let ast: JsonataNode;
  try {
    ast = jsonata(text).ast() as JsonataNode;
  } catch (e) {
    const failure = e as JsonataFailure;
    throw new ExpressionFault(
      MappingErrorCode.JSONATA_SYNTAX,
      `JSONata ${failure.code ?? 'error'}: ${failure.message ?? String(e)}`,
      Math.max(0, (failure.position ?? 1) - 1),
    );
  }
  const used = new Set<string>();
  walk(ast, (node) => {
    if (node.type === 'variable' && typeof node.value === 'string') used.add(node.value);
    if (node.type === 'regex' && node.value instanceof RegExp) {
      const problem = re2Problem(node.value);
      if (problem) {
        throw new ExpressionFault(
          MappingErrorCode.JSONATA_SYNTAX,
          problem,
          Math.max(0, (node.position ?? 1) - 1),
        );
      }
    }
  });
  // $eval can name any binding at run time, so then everything is sent.
  const all = used.has('eval');
  const sendRoot = all || used.has('root');
  const sendMeta = all || used.has('meta');
  const names = [...variables].filter(([name]) => all || used.has(name));
  const sandbox = jsonataSandbox();
  return async (s: Scope) => {
    const bindings: Record<string, unknown> = {};
    if (sendRoot) bindings.root = s.root;
    if (sendMeta) bindings.meta = s.meta;
    for (const [name, slot] of names) bindings[name] = s.vars[slot];
    try {
      const result = await sandbox.evaluate(text, limits, s.cur, bindings);
      return result === undefined ? null : result;
    } catch (e) {
      throw toFault(e, limits);
    }
  };
}

function toFault(e: unknown, limits: JsonataLimits): ExpressionFault {
  const failure = e instanceof JsonataSandboxError ? e : new JsonataSandboxError(String(e), 'failed');
  if (failure.kind === 'too_deep') {
    return new ExpressionFault(MappingErrorCode.VALUE_TOO_DEEP, `JSONata: ${failure.message}`, 0);
  }
  const limit = failure.kind === 'limit' || (failure.code !== undefined && LIMIT_CODES.has(failure.code));
  return new ExpressionFault(
    limit ? MappingErrorCode.JSONATA_LIMIT : MappingErrorCode.JSONATA_FAILED,
    `JSONata ${failure.code ?? (limit ? 'limit' : 'error')}: ${failure.message}` +
      (limit
        ? ` (limits: timeout_ms ${limits.timeoutMs}, stack ${limits.stack}, sequence ${limits.sequence})`
        : ''),
    Math.max(0, (failure.position ?? 1) - 1),
  );
}

// Visits every node of a JSONata AST once (the parser links some nodes to others, e.g. for parent paths).
function walk(node: unknown, visit: (node: JsonataNode) => void, seen = new WeakSet<object>()): void {
  if (typeof node !== 'object' || node === null || node instanceof RegExp || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, seen);
    return;
  }
  visit(node as JsonataNode);
  for (const value of Object.values(node)) walk(value, visit, seen);
}
