import { correlationId } from './correlation-id-function.ts';
import type { FunctionSpec } from './function-spec.ts';
import { hash } from './hash-function.ts';
import { round, toNumber } from './number-functions.ts';
import { coalesce, format, lower, toText, trim, upper } from './text-functions.ts';
import { dateKey, minuteOfDay, toDate, toTimestamp } from './time-functions.ts';
import { convertUnit } from './unit-functions.ts';

/**
 * Every function an expression may call, by name. A Map (not an object) so a name like "constructor"
 * can never resolve to something inherited. Adding a function is one spec plus one line here.
 */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  [
    toTimestamp,
    toDate,
    dateKey,
    minuteOfDay,
    toNumber,
    round,
    convertUnit,
    lower,
    upper,
    trim,
    toText,
    format,
    coalesce,
    hash,
    correlationId,
  ].map((f) => [f.name, f]),
);
