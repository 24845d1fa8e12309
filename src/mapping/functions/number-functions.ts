import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { FunctionSpec } from './function-spec.ts';

/** Text that is a plain decimal number, optionally signed and with an exponent; no hex, no "1,5". */
const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * to_number(value) → a finite number. Numbers pass, numeric text is parsed, null gives null; anything
 * else ("n/a", true, an object) is NOT_A_NUMBER, which the field's on_error then handles.
 */
export const toNumber: FunctionSpec = {
  name: 'to_number',
  signature: 'to_number(value)',
  params: [{ name: 'value', required: true }],
  compile([value], site) {
    const read = value!.evaluate;
    return (s) => {
      const v = read(s);
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (v === null || v === undefined) return null;
      if (typeof v === 'string' && NUMERIC_TEXT.test(v)) return Number(v);
      throw new ExpressionFault(
        MappingErrorCode.NOT_A_NUMBER,
        `${describeValue(v)} is not a number`,
        site.pos,
      );
    };
  },
};

/** round(value, digits: 0) → value rounded half away from zero to `digits` decimals; null gives null. */
export const round: FunctionSpec = {
  name: 'round',
  signature: 'round(value, digits: 0)',
  params: [
    { name: 'value', required: true },
    { name: 'digits', literal: true },
  ],
  compile([value, digitsArg], site) {
    const digits = digitsArg ? digitsArg.constant!.value : 0;
    if (typeof digits !== 'number' || !Number.isInteger(digits) || digits < 0 || digits > 15) {
      throw new ExpressionFault(
        MappingErrorCode.BAD_ARGUMENTS,
        'round() digits must be an integer from 0 to 15',
        digitsArg!.pos,
      );
    }
    const factor = 10 ** digits;
    const read = value!.evaluate;
    return (s) => {
      const v = read(s);
      if (v === null || v === undefined) return null;
      if (typeof v !== 'number') {
        throw new ExpressionFault(
          MappingErrorCode.NOT_A_NUMBER,
          `round() needs a number, got ${describeValue(v)}`,
          site.pos,
        );
      }
      // toPrecision(15) drops binary noise first, so 1.005 rounds to 1.01 as written, not to 1.00.
      return (Math.sign(v) * Math.round(Number((Math.abs(v) * factor).toPrecision(15)))) / factor;
    };
  },
};
