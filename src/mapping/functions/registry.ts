import { correlationId } from './correlation-id-function.ts';
import type { FunctionSpec } from './function-spec.ts';
import { hash } from './hash-function.ts';
import { round, toNumber } from './number-functions.ts';
import { regexExtract, regexMatch, regexReplace } from './regex-functions.ts';
import { contains, endsWith, length, replace, split, startsWith, substring } from './string-functions.ts';
import { coalesce, format, lower, toText, trim, upper } from './text-functions.ts';
import { dateKey, minuteOfDay, toDate, toTimestamp } from './time-functions.ts';
import { tryFunction } from './try-function.ts';
import { isArray, isBoolean, isNull, isNumber, isObject, isString, typeOf } from './type-functions.ts';
import { convertUnit } from './unit-functions.ts';

/** The functions by topic, in the order docs/mapping-functions.md lists them. */
export const FUNCTION_GROUPS: ReadonlyArray<{ title: string; functions: readonly FunctionSpec[] }> = [
  { title: 'Time', functions: [toTimestamp, toDate, dateKey, minuteOfDay] },
  { title: 'Numbers and units', functions: [toNumber, round, convertUnit] },
  {
    title: 'Text',
    functions: [
      lower,
      upper,
      trim,
      length,
      substring,
      split,
      replace,
      contains,
      startsWith,
      endsWith,
      toText,
      format,
    ],
  },
  { title: 'Patterns', functions: [regexMatch, regexExtract, regexReplace] },
  {
    title: 'Types, nulls and failures',
    functions: [typeOf, isNull, isBoolean, isNumber, isString, isArray, isObject, coalesce, tryFunction],
  },
  { title: 'Ids', functions: [hash, correlationId] },
];

/**
 * Every function an expression may call, by name. A Map (not an object) so a name like "constructor"
 * can never resolve to something inherited. Adding a function is one spec plus one line above.
 */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  FUNCTION_GROUPS.flatMap((group) => group.functions).map((f) => [f.name, f]),
);
