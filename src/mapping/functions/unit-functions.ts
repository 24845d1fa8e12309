import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import { roundConverted, UnitProblem } from '../units/unit-converter.ts';
import type { FunctionSpec } from './function-spec.ts';

/**
 * convert_unit(value, from, to) → value converted between UCUM units (or the mapping's aliases).
 * Literal units are resolved at compile time, so a typo fails `mappings validate`; units read from the
 * message are resolved on first sight and cached. null value gives null; a null unit is UNKNOWN_UNIT.
 */
export const convertUnit: FunctionSpec = {
  name: 'convert_unit',
  signature: 'convert_unit(value, from: "<UCUM code or alias>", to: "<UCUM code or alias>")',
  description:
    "The number converted between [UCUM](https://ucum.org/ucum) units or the aliases in the mapping's " +
    '`units.aliases`. The result is rounded to 12 significant digits, so binary noise from the conversion ' +
    'factor never shows (1 `Cel` is 33.8 `[degF]`, not 33.79999999999994). Literal units are checked when ' +
    'the mapping loads; units read from the message per record (`UNKNOWN_UNIT`, `INCOMPATIBLE_UNITS`). ' +
    'null gives null; a value that is not a number is `NOT_A_NUMBER`.',
  examples: [
    { call: 'convert_unit(1, "Cel", "[degF]")', result: 33.8 },
    { call: 'convert_unit(1520, "W", "kW")', result: 1.52 },
    { call: 'convert_unit(10, "[gal_us]/min", "m3/h")', result: 2.2712470704 },
  ],
  params: [
    { name: 'value', required: true },
    { name: 'from', required: true },
    { name: 'to', required: true },
  ],
  compile([value, fromArg, toArg], site) {
    const units = site.units;
    const pos = site.pos;
    const read = value!.evaluate;
    const unitFault = (problem: unknown) => {
      if (problem instanceof UnitProblem) return new ExpressionFault(problem.code, problem.message, pos);
      return problem;
    };
    for (const arg of [fromArg!, toArg!]) {
      if (arg.constant && typeof arg.constant.value === 'string') {
        const problem = units.check(arg.constant.value);
        if (problem) throw new ExpressionFault(problem.code, problem.message, arg.pos);
      }
    }
    const asNumber = (v: unknown): number | null => {
      if (typeof v === 'number') return v;
      if (v === null || v === undefined) return null;
      throw new ExpressionFault(
        MappingErrorCode.NOT_A_NUMBER,
        `convert_unit() needs a number, got ${describeValue(v)}; wrap it in to_number()`,
        pos,
      );
    };
    if (fromArg!.constant && toArg!.constant) {
      let conversion: { scale: number; offset: number };
      try {
        conversion = units.resolve(String(fromArg!.constant.value), String(toArg!.constant.value));
      } catch (e) {
        throw unitFault(e);
      }
      const { scale, offset } = conversion;
      return (s) => {
        const v = asNumber(read(s));
        return v === null ? null : roundConverted(v * scale + offset);
      };
    }
    const readFrom = fromArg!.evaluate;
    const readTo = toArg!.evaluate;
    return (s) => {
      const v = asNumber(read(s));
      if (v === null) return null;
      const from = readFrom(s);
      const to = readTo(s);
      if (typeof from !== 'string' || typeof to !== 'string') {
        throw new ExpressionFault(
          MappingErrorCode.UNKNOWN_UNIT,
          `convert_unit() needs unit codes as text, got ${describeValue(typeof from !== 'string' ? from : to)}`,
          pos,
        );
      }
      try {
        const c = units.resolve(from, to);
        return roundConverted(v * c.scale + c.offset);
      } catch (e) {
        throw unitFault(e);
      }
    };
  },
};
