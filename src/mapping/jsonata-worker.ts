// The JSONata evaluator thread (see jsonata-sandbox.ts). It runs under resourceLimits, so an expression
// that allocates without bound ($pad with a huge width) ends this thread, not the process; and the main
// thread terminates it when an evaluation outlives its hard deadline. Regexes run on RE2 (linear time).
import { parentPort } from 'node:worker_threads';
import jsonata from 'jsonata';
import type { JsonataReply, JsonataRequest } from './jsonata-protocol.ts';
import { MAX_RESULT_DEPTH, MAX_RESULT_SIZE } from './jsonata-protocol.ts';
import { Re2RegexEngine } from './jsonata-regex.ts';

interface JsonataFailure {
  code?: string;
  position?: number;
  message?: string;
}

class ResultTooLarge extends Error {}

interface JsonataFunction {
  implementation: (...args: unknown[]) => unknown;
}

// $pad builds its padding as one array join, outside anything JSONata's guardrails see; a width of 10^8
// takes hundreds of MB before the heap cap or the deadline can act. Widths past the result cap are refused.
const builtinPad = ((await jsonata('$pad').evaluate(null)) as JsonataFunction).implementation;
function boundedPad(text: unknown, width: unknown, char: unknown): unknown {
  if (typeof width === 'number' && Math.abs(width) > MAX_RESULT_SIZE) {
    throw new ResultTooLarge(`$pad width ${width} is over the limit of ${MAX_RESULT_SIZE} characters`);
  }
  return builtinPad(text, width, char);
}

// Expressions come from mapping files, so this is bounded by the mappings loaded; the cap is a backstop.
const compiled = new Map<string, jsonata.Expression>();

function expression(request: JsonataRequest): jsonata.Expression {
  const { text, limits } = request;
  const key = `${limits.timeoutMs}/${limits.stack}/${limits.sequence}/${text}`;
  let expr = compiled.get(key);
  if (!expr) {
    if (compiled.size >= 1000) compiled.clear();
    expr = jsonata(text, {
      timeout: limits.timeoutMs,
      stack: limits.stack,
      sequence: limits.sequence,
      RegexEngine: Re2RegexEngine as unknown as RegExpConstructor,
    });
    expr.registerFunction('pad', boundedPad, '<s-ns?:s>');
    compiled.set(key, expr);
  }
  return expr;
}

/**
 * The result as plain data: sequences become arrays, undefined becomes null. Functions are refused (they
 * are not data), and so is a result over MAX_RESULT_SIZE (string characters plus values) or nested deeper
 * than MAX_RESULT_DEPTH, so one record cannot hand the loader megabytes.
 */
function plain(value: unknown, budget: { left: number }, depth: number): unknown {
  if (depth > MAX_RESULT_DEPTH)
    throw new ResultTooLarge(`the result is nested deeper than ${MAX_RESULT_DEPTH}`);
  budget.left -= 1;
  if (typeof value === 'string') budget.left -= value.length;
  if (budget.left < 0) throw new ResultTooLarge(`the result is larger than ${MAX_RESULT_SIZE} characters`);
  if (value === undefined || value === null) return null;
  if (typeof value === 'function')
    throw new TypeError('the expression returned a function, which is not data');
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => plain(item, budget, depth + 1));
  if ((value as { _jsonata_lambda?: boolean })._jsonata_lambda) {
    throw new TypeError('the expression returned a function, which is not data');
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = plain(item, budget, depth + 1);
  }
  return out;
}

async function run(request: JsonataRequest): Promise<JsonataReply> {
  try {
    const result = await expression(request).evaluate(request.input, request.bindings);
    return { id: request.id, ok: true, value: plain(result, { left: MAX_RESULT_SIZE }, 0) };
  } catch (e) {
    if (e instanceof ResultTooLarge) return { id: request.id, ok: false, kind: 'size', message: e.message };
    const failure = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as JsonataFailure;
    return {
      id: request.id,
      ok: false,
      kind: 'jsonata',
      code: typeof failure.code === 'string' ? failure.code : undefined,
      position: typeof failure.position === 'number' ? failure.position : undefined,
      message: typeof failure.message === 'string' ? failure.message : String(e),
    };
  }
}

const port = parentPort;
if (!port) throw new Error('jsonata-worker.ts runs as a worker thread; the mapping runtime starts it');
port.on('message', (request: JsonataRequest) => {
  void run(request).then((reply) => {
    try {
      port.postMessage(reply);
    } catch (e) {
      const message = `the result cannot be passed back: ${e instanceof Error ? e.message : String(e)}`;
      port.postMessage({ id: request.id, ok: false, kind: 'size', message } satisfies JsonataReply);
    }
  });
});
port.postMessage({ ready: true });
