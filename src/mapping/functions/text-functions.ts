import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { Evaluator, Scope } from '../expression/scope.ts';
import type { CompiledArg, FunctionExample, FunctionSpec } from './function-spec.ts';
import { jsonText } from './value-text.ts';

/**
 * A reader for a text argument: the text, null for null (or a missing path), and NOT_A_STRING for
 * anything else. Shared by every function that takes text.
 */
export function readText(fn: string, arg: CompiledArg, pos: number): (s: Scope) => string | null {
  const read = arg.evaluate;
  return (s) => {
    const v = read(s);
    if (typeof v === 'string') return v;
    if (v === null || v === undefined) return null;
    throw new ExpressionFault(
      MappingErrorCode.NOT_A_STRING,
      `${fn}() needs text, got ${describeValue(v)}; use to_string() first`,
      pos,
    );
  };
}

function stringFunction(
  name: string,
  description: string,
  example: FunctionExample,
  transform: (text: string) => string,
): FunctionSpec {
  return {
    name,
    signature: `${name}(text)`,
    description: `${description} null gives null; a value that is not text is \`NOT_A_STRING\`.`,
    examples: [example],
    params: [{ name: 'text', required: true }],
    compile([value], site) {
      const read = readText(name, value!, site.pos);
      return (s) => {
        const v = read(s);
        return v === null ? null : transform(v);
      };
    },
  };
}

/** lower(text), upper(text), trim(text): null gives null; other non-text is NOT_A_STRING. */
export const lower = stringFunction(
  'lower',
  'The text in lower case.',
  { call: 'lower("TEMP")', result: 'temp' },
  (t) => t.toLowerCase(),
);
export const upper = stringFunction(
  'upper',
  'The text in upper case.',
  { call: 'upper("temp")', result: 'TEMP' },
  (t) => t.toUpperCase(),
);
export const trim = stringFunction(
  'trim',
  'The text without white space at either end.',
  { call: 'trim("  P-101 ")', result: 'P-101' },
  (t) => t.trim(),
);

/**
 * to_string(value) → text: numbers and booleans in their JSON form, objects as JSON; null gives null.
 * A value nested too deeply to stringify is VALUE_TOO_DEEP.
 */
export const toText: FunctionSpec = {
  name: 'to_string',
  signature: 'to_string(value)',
  description:
    'The value as text: text as it is, numbers and booleans in their JSON form, arrays and objects as JSON. ' +
    'null gives null; a value nested too deeply to write is `VALUE_TOO_DEEP`.',
  examples: [
    { call: 'to_string(1.5)', result: '1.5' },
    { call: 'to_string([1, "a"])', result: '[1,"a"]' },
  ],
  params: [{ name: 'value', required: true }],
  compile([value], site) {
    const read = value!.evaluate;
    return (s) => {
      const v = read(s);
      if (v === null || v === undefined) return null;
      return typeof v === 'string' ? v : jsonText(v, 'to_string', site.pos);
    };
  },
};

/** coalesce(a, b, ...) → the first argument that is not null (or missing); null when all are. */
export const coalesce: FunctionSpec = {
  name: 'coalesce',
  signature: 'coalesce(value, ...more)',
  description:
    'The first argument that is not null (or a missing path); null when all are. Later arguments are ' +
    'evaluated only when needed. `a ?? b` is the same for two values.',
  examples: [
    { call: 'coalesce(null, "", "x")', result: '' },
    { call: 'coalesce(null, null)', result: null },
  ],
  params: [{ name: 'value', required: true }],
  variadic: true,
  compile([first], _site, rest) {
    const readers = [first!, ...rest].map((a) => a.evaluate);
    return (s) => {
      for (const read of readers) {
        const v = read(s);
        if (v !== null && v !== undefined) return v;
      }
      return null;
    };
  },
};

/**
 * format("iot:{device}:{0}", $.x, device: $.d) → text with {name} filled from named arguments and {0}, {1}
 * from positional ones; null fills as an empty string. The template must be a literal, so every
 * placeholder is checked at compile time (UNKNOWN_PLACEHOLDER).
 */
export const format: FunctionSpec = {
  name: 'format',
  signature: 'format("text with {name} or {0}", positional..., name: value...)',
  description:
    'Fills a template: `{0}`, `{1}` from the positional arguments after the template, `{name}` from named ' +
    'arguments. null fills as empty text, numbers and objects as JSON. The template must be a literal, so a ' +
    'placeholder without an argument is `UNKNOWN_PLACEHOLDER` at load.',
  examples: [
    { call: 'format("{site}/{0}", "P-101", site: "HAM")', result: 'HAM/P-101' },
    { call: 'format("{0}:{1}", 7, null)', result: '7:' },
  ],
  params: [{ name: 'template', required: true, literal: true }],
  variadic: true,
  openNamed: true,
  compile([templateArg], site, rest, named) {
    const template = templateArg!.constant!.value;
    if (typeof template !== 'string') {
      throw new ExpressionFault(
        MappingErrorCode.BAD_ARGUMENTS,
        'format() needs a text template',
        templateArg!.pos,
      );
    }
    const parts = splitTemplate(template, templateArg!, rest, named);
    return (s) => {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : textOf(part(s), site.pos);
      return out;
    };
  },
};

function splitTemplate(
  template: string,
  at: CompiledArg,
  rest: CompiledArg[],
  named: Map<string, CompiledArg>,
): Array<string | Evaluator> {
  const parts: Array<string | Evaluator> = [];
  const pattern = /\{([A-Za-z_][A-Za-z0-9_]*|\d+)\}/g;
  let last = 0;
  for (let m = pattern.exec(template); m; m = pattern.exec(template)) {
    parts.push(template.slice(last, m.index));
    const name = m[1]!;
    const arg = /^\d+$/.test(name) ? rest[Number(name)] : named.get(name);
    if (!arg) {
      const known = [...named.keys(), ...rest.map((_, i) => String(i))];
      throw new ExpressionFault(
        MappingErrorCode.UNKNOWN_PLACEHOLDER,
        `format() placeholder {${name}} has no argument; given: ${known.length ? known.join(', ') : 'none'}`,
        at.pos,
      );
    }
    parts.push(arg.evaluate);
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return parts.filter((p) => p !== '');
}

function textOf(v: unknown, pos: number): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : jsonText(v, 'format', pos);
}
