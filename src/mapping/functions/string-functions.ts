import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { Scope } from '../expression/scope.ts';
import type { CompiledArg, FunctionExample, FunctionSpec } from './function-spec.ts';
import { readText } from './text-functions.ts';

// Lengths and positions count characters (Unicode code points), so an emoji or a CJK supplement character
// is one, as a person counts them. Text without surrogates (nearly all) takes the direct path.
const SURROGATE = /[\uD800-\uDFFF]/;

function characters(text: string): string[] {
  return [...text];
}

/** A function of two texts: null when either is null, NOT_A_STRING for anything else that is not text. */
function twoTextFunction(
  name: string,
  second: string,
  description: string,
  examples: FunctionExample[],
  apply: (text: string, other: string) => unknown,
): FunctionSpec {
  return {
    name,
    signature: `${name}(text, ${second})`,
    description: `${description} null in either argument gives null; a value that is not text is \`NOT_A_STRING\`.`,
    examples,
    params: [
      { name: 'text', required: true },
      { name: second, required: true },
    ],
    compile([textArg, otherArg], site) {
      const readFirst = readText(name, textArg!, site.pos);
      const readSecond = readText(name, otherArg!, site.pos);
      return (s) => {
        const text = readFirst(s);
        const other = readSecond(s);
        return text === null || other === null ? null : apply(text, other);
      };
    },
  };
}

export const contains = twoTextFunction(
  'contains',
  'part',
  'Whether `part` occurs in the text (case-sensitive; lower() both for a case-insensitive test).',
  [{ call: 'contains("pump P-101 bearing", "P-101")', result: true }],
  (text, part) => text.includes(part),
);

export const startsWith = twoTextFunction(
  'starts_with',
  'prefix',
  'Whether the text starts with `prefix` (case-sensitive).',
  [{ call: 'starts_with("HAM-L1-P101", "HAM-")', result: true }],
  (text, prefix) => text.startsWith(prefix),
);

export const endsWith = twoTextFunction(
  'ends_with',
  'suffix',
  'Whether the text ends with `suffix` (case-sensitive).',
  [{ call: 'ends_with("temp_degC", "_degC")', result: true }],
  (text, suffix) => text.endsWith(suffix),
);

export const split = twoTextFunction(
  'split',
  'separator',
  'The text cut at every occurrence of `separator` (taken as written, not a pattern), as an array of texts; ' +
    'an empty separator gives the characters. Index the result with `[0]`, `[-1]` or `[$.i]`.',
  [
    { call: 'split("HAM/L1/P-101", "/")', result: ['HAM', 'L1', 'P-101'] },
    { call: 'split("HAM/L1/P-101", "/")[-1]', result: 'P-101' },
  ],
  (text, separator) => (separator === '' ? characters(text) : text.split(separator)),
);

/**
 * replace(text, search, replacement) → every occurrence of search replaced, taken as written (no pattern,
 * no $1); an empty search leaves the text as it is. regex_replace does patterns.
 */
export const replace: FunctionSpec = {
  name: 'replace',
  signature: 'replace(text, search, replacement)',
  description:
    'The text with every occurrence of `search` replaced by `replacement`, both taken as written (no pattern, ' +
    'no `$1`; regex_replace does patterns). An empty `search` leaves the text as it is. null in any argument ' +
    'gives null; a value that is not text is `NOT_A_STRING`.',
  examples: [{ call: 'replace("1 234 567", " ", "")', result: '1234567' }],
  params: [
    { name: 'text', required: true },
    { name: 'search', required: true },
    { name: 'replacement', required: true },
  ],
  compile([textArg, searchArg, replacementArg], site) {
    const readFirst = readText('replace', textArg!, site.pos);
    const readSearch = readText('replace', searchArg!, site.pos);
    const readReplacement = readText('replace', replacementArg!, site.pos);
    return (s) => {
      const text = readFirst(s);
      const search = readSearch(s);
      const replacement = readReplacement(s);
      if (text === null || search === null || replacement === null) return null;
      // A function replacement, so `$&` or `$1` in it stays literal text.
      return search === '' ? text : text.replaceAll(search, () => replacement);
    };
  },
};

/**
 * substring(text, start, length) → `length` characters from `start` (0-based; negative counts from the end),
 * or to the end without length. Positions past either end are clipped, so it never faults on a short text.
 */
export const substring: FunctionSpec = {
  name: 'substring',
  signature: 'substring(text, start, length: <to the end>)',
  description:
    'Part of the text: `length` characters from `start` (0-based; a negative start counts from the end), or ' +
    'to the end without `length`. Characters are Unicode code points. Positions beyond the text are clipped, ' +
    'so a short text gives a shorter result, never an error. null gives null; `start` and `length` must be ' +
    'whole numbers, `length` at least 0 (`NOT_A_NUMBER`, or `BAD_ARGUMENTS` when the mapping loads for a literal).',
  examples: [
    { call: 'substring("HAM-L1-P101", 4, 2)', result: 'L1' },
    { call: 'substring("HAM-L1-P101", -4)', result: 'P101' },
    { call: 'substring("abc", 1, 10)', result: 'bc' },
  ],
  params: [{ name: 'text', required: true }, { name: 'start', required: true }, { name: 'length' }],
  compile([textArg, startArg, lengthArg], site) {
    const readFirst = readText('substring', textArg!, site.pos);
    const readStart = readInteger('substring', 'start', startArg!, 'any');
    const readLength = lengthArg ? readInteger('substring', 'length', lengthArg, 'non-negative') : null;
    return (s) => {
      const text = readFirst(s);
      const start = readStart(s);
      const length = readLength ? readLength(s) : undefined;
      if (text === null || start === null || length === null) return null;
      if (!SURROGATE.test(text)) return slice(text, start, length);
      return slice(characters(text), start, length).join('');
    };
  },
};

function slice<T extends string | string[]>(chars: T, start: number, length: number | undefined): T {
  const from = start < 0 ? Math.max(0, chars.length + start) : Math.min(start, chars.length);
  const to = length === undefined ? chars.length : Math.min(chars.length, from + length);
  return chars.slice(from, to) as T;
}

/** length(value) → characters in a text, elements in an array; null gives null. */
export const length: FunctionSpec = {
  name: 'length',
  signature: 'length(value)',
  description:
    'The number of characters (Unicode code points) in a text, or of elements in an array. null gives null; ' +
    'anything else is `TYPE_MISMATCH`.',
  examples: [
    { call: 'length("P-101")', result: 5 },
    { call: 'length([1, 2, 3])', result: 3 },
  ],
  params: [{ name: 'value', required: true }],
  compile([value], site) {
    const read = value!.evaluate;
    return (s) => {
      const v = read(s);
      if (typeof v === 'string') return SURROGATE.test(v) ? characters(v).length : v.length;
      if (Array.isArray(v)) return v.length;
      if (v === null || v === undefined) return null;
      throw new ExpressionFault(
        MappingErrorCode.TYPE_MISMATCH,
        `length() needs text or an array, got ${describeValue(v)}`,
        site.pos,
      );
    };
  },
};

/**
 * A reader for a whole-number argument: null for null, NOT_A_NUMBER for anything else that is not a whole
 * number in range. A literal is checked once, here, so `substring($.s, 1.5)` fails when the mapping loads.
 */
export function readInteger(
  fn: string,
  param: string,
  arg: CompiledArg,
  range: 'any' | 'non-negative',
): (s: Scope) => number | null {
  const problem = (v: unknown): ExpressionFault | null => {
    if (typeof v === 'number' && Number.isInteger(v) && (range === 'any' || v >= 0)) return null;
    return new ExpressionFault(
      MappingErrorCode.NOT_A_NUMBER,
      `${fn}() '${param}' must be a whole number${range === 'any' ? '' : ' of at least 0'}, got ${describeValue(v)}`,
      arg.pos,
    );
  };
  if (arg.constant && arg.constant.value !== null) {
    const fault = problem(arg.constant.value);
    if (fault) throw new ExpressionFault(MappingErrorCode.BAD_ARGUMENTS, fault.message, arg.pos);
  }
  const read = arg.evaluate;
  return (s) => {
    const v = read(s);
    if (v === null || v === undefined) return null;
    const fault = problem(v);
    if (fault) throw fault;
    return v as number;
  };
}
