import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { FunctionSpec } from './function-spec.ts';

/** Text that is a plain decimal number, optionally signed and with an exponent; no hex, no "1,5". */
const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
/**
 * The same with a decimal comma, and optional dots between groups of three digits ("1.234,5"). A lone dot
 * ("1.5") does not match: with decimal: "," it is a typo or a thousands separator, never a guess.
 */
const DECIMAL_COMMA_TEXT = /^\s*[+-]?(\d{1,3}(\.\d{3})+|\d+)?(,\d*)?([eE][+-]?\d+)?\s*$/;

/**
 * to_number(value, decimal: ".") → a finite number. Numbers pass, numeric text is parsed, null gives null;
 * anything else ("n/a", true, an object) is NOT_A_NUMBER, which the field's on_error then handles.
 */
export const toNumber: FunctionSpec = {
  name: 'to_number',
  signature: 'to_number(value, decimal: "."|",")',
  description:
    'The value as a number: numbers pass, numeric text is read (`" 42 "`, `"-1.5e3"`), null gives null. ' +
    'With `decimal: ","` text uses a decimal comma and may group thousands with dots (`"1.234,5"`); a lone dot ' +
    'is then refused rather than guessed. Anything else (`"n/a"`, `"0x10"`, `true`) is `NOT_A_NUMBER`.',
  examples: [
    { call: 'to_number(" 42 ")', result: 42 },
    { call: 'to_number("1,5", decimal: ",")', result: 1.5 },
    { call: 'to_number("-1.234,5", decimal=",")', result: -1234.5 },
  ],
  params: [
    { name: 'value', required: true },
    { name: 'decimal', literal: true },
  ],
  compile([value, decimalArg], site) {
    const decimal = decimalArg ? decimalArg.constant!.value : '.';
    if (decimal !== '.' && decimal !== ',') {
      throw new ExpressionFault(
        MappingErrorCode.BAD_ARGUMENTS,
        `to_number() decimal must be "." or ",", got ${describeValue(decimal)}`,
        decimalArg!.pos,
      );
    }
    const read = value!.evaluate;
    const parse =
      decimal === '.'
        ? (text: string) => (NUMERIC_TEXT.test(text) ? Number(text) : Number.NaN)
        : (text: string) =>
            DECIMAL_COMMA_TEXT.test(text) && /\d/.test(text)
              ? Number(text.replaceAll('.', '').replace(',', '.'))
              : Number.NaN;
    return (s) => {
      const v = read(s);
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (v === null || v === undefined) return null;
      const n = typeof v === 'string' ? parse(v) : Number.NaN;
      if (!Number.isNaN(n)) return n;
      throw new ExpressionFault(
        MappingErrorCode.NOT_A_NUMBER,
        `${describeValue(v)} is not a number${decimal === ',' ? ' with a decimal comma' : ''}` +
          (decimal === '.' && typeof v === 'string' && /^\s*[+-]?\d+,\d+\s*$/.test(v)
            ? '; for a decimal comma pass decimal: ","'
            : ''),
        site.pos,
      );
    };
  },
};

/** round(value, digits: 0) → value rounded half away from zero to `digits` decimals; null gives null. */
export const round: FunctionSpec = {
  name: 'round',
  signature: 'round(value, digits: 0)',
  description:
    'The number rounded half away from zero to `digits` decimals (a literal, 0–15), as written in decimal: ' +
    '1.005 rounds to 1.01. null gives null; anything else is `NOT_A_NUMBER`.',
  examples: [
    { call: 'round(2.5)', result: 3 },
    { call: 'round(1.005, 2)', result: 1.01 },
    { call: 'round(-42.25, digits: 1)', result: -42.3 },
  ],
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
