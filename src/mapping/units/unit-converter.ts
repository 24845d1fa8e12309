import { MappingErrorCode } from '../errors.ts';
import { listOf } from '../suggest.ts';
import { checkUcumCode, ucumConvert } from './ucum.ts';
import { confusionHint } from './unit-confusions.ts';

/** value_in_to = value_in_from * scale + offset; temperatures are affine, everything else has offset 0. */
export interface LinearConversion {
  scale: number;
  offset: number;
}

/** A unit problem; the expression compiler turns it into a fault at the convert_unit() call. */
export class UnitProblem extends Error {
  readonly code: typeof MappingErrorCode.UNKNOWN_UNIT | typeof MappingErrorCode.INCOMPATIBLE_UNITS;

  constructor(code: UnitProblem['code'], message: string) {
    super(message);
    this.name = 'UnitProblem';
    this.code = code;
  }
}

/**
 * Significant digits a converted value keeps. A conversion factor derived through UCUM carries about 15
 * digits, and the multiply-add loses one or two more (1 Cel is 33.79999999999994 [degF] unrounded); 12 is
 * below that noise and above what any sensor measures, so the value reads as written (33.8).
 */
export const CONVERSION_DIGITS = 12;

/** 10^0 … 10^308: exact up to 10^22, the nearest double above; read instead of calling Math.pow per value. */
const POWERS_OF_TEN = Array.from({ length: 309 }, (_, i) => 10 ** i);

/**
 * `x` rounded to CONVERSION_DIGITS significant digits; 0, NaN and ±Infinity as they are. This runs once per
 * converted value, so the decimal exponent is found by stepping through a table from 10^0 (a few steps for
 * sensor magnitudes) rather than with Math.log10 and Math.pow, which cost ten times as much.
 */
export function roundConverted(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const magnitude = x < 0 ? -x : x;
  // exponent: 10^exponent <= magnitude < 10^(exponent + 1)
  let exponent = 0;
  if (magnitude >= 1) {
    while (exponent < 308 && POWERS_OF_TEN[exponent + 1]! <= magnitude) exponent++;
  } else {
    while (exponent > -308 && magnitude * POWERS_OF_TEN[-exponent]! < 1) exponent--;
  }
  const shift = CONVERSION_DIGITS - 1 - exponent;
  // Dividing by an exact power of ten gives the double nearest the decimal, so it prints as written.
  let rounded: number;
  if (shift < 0) {
    const step = POWERS_OF_TEN[-shift]!;
    rounded = Math.round(magnitude / step) * step;
  } else if (shift <= 308) {
    const scale = POWERS_OF_TEN[shift]!;
    rounded = Math.round(magnitude * scale) / scale;
  } else {
    rounded = magnitude; // below 1e-297: nothing a sensor reports
  }
  return x < 0 ? -rounded : rounded;
}

// UCUM code pairs resolved once per process: a conversion is a property of UCUM, not of a mapping.
// Problems are cached per converter only, because their messages name the mapping's own spellings.
const resolvedPairs = new Map<string, LinearConversion>();
// Unit strings come from payloads; bound the per-mapping cache so garbage units cannot grow it forever.
const MAX_CACHED_PAIRS = 10_000;

/**
 * Converts values between UCUM units, with the vendor aliases a mapping file declares (degF → [degF]).
 * Each (from, to) pair is resolved through @lhncbc/ucum-lhc once and cached as (scale, offset), so the
 * per-value cost is a Map lookup and a multiply-add. Used by convert_unit(); one instance per mapping.
 */
export class UnitConverter {
  private readonly aliases: ReadonlyMap<string, string>;
  private readonly pairs = new Map<string, Map<string, LinearConversion | UnitProblem>>();
  private cachedPairs = 0;

  constructor(aliases: Record<string, string> = {}) {
    this.aliases = new Map(Object.entries(aliases));
  }

  /** The UCUM code for a vendor spelling (alias) or the code itself. */
  ucumCode(unit: string): string {
    return this.aliases.get(unit) ?? unit;
  }

  /** Resolves a pair, throwing UnitProblem for an unknown or incommensurable unit. */
  resolve(from: string, to: string): LinearConversion {
    let byTarget = this.pairs.get(from);
    let conversion = byTarget?.get(to);
    if (conversion === undefined) {
      conversion = this.lookup(from, to);
      if (this.cachedPairs < MAX_CACHED_PAIRS) {
        if (!byTarget) {
          byTarget = new Map();
          this.pairs.set(from, byTarget);
        }
        byTarget.set(to, conversion);
        this.cachedPairs++;
      }
    }
    if (conversion instanceof UnitProblem) throw conversion;
    return conversion;
  }

  /** Checks one unit code or alias; returns the problem rather than throwing, for compile-time checks. */
  check(unit: string): UnitProblem | null {
    const code = this.ucumCode(unit);
    const result = checkUcumCode(code);
    return result.valid ? null : this.unknownUnit(unit, result.suggestion);
  }

  private lookup(from: string, to: string): LinearConversion | UnitProblem {
    const problem = this.check(from) ?? this.check(to);
    if (problem) return problem;
    const fromCode = this.ucumCode(from);
    const toCode = this.ucumCode(to);
    const key = `${fromCode}\u0000${toCode}`;
    const known = resolvedPairs.get(key);
    if (known) return known;
    const conversion = linearize(fromCode, toCode);
    if (conversion instanceof UnitProblem) return this.withConfusionHint(conversion, from, to);
    resolvedPairs.set(key, conversion);
    return conversion;
  }

  // 'C' (coulomb) where Celsius was meant converts to nothing it should: say so, and how to alias it.
  private withConfusionHint(problem: UnitProblem, from: string, to: string): UnitProblem {
    const fromCode = this.ucumCode(from);
    const toCode = this.ucumCode(to);
    const hint =
      confusionHint(
        from,
        fromCode,
        (meant) => !(linearize(meant, toCode) instanceof UnitProblem),
        this.aliases.has(from),
      ) ??
      confusionHint(
        to,
        toCode,
        (meant) => !(linearize(fromCode, meant) instanceof UnitProblem),
        this.aliases.has(to),
      );
    return hint ? new UnitProblem(problem.code, `${problem.message}. ${hint}`) : problem;
  }

  private unknownUnit(unit: string, suggestion: string | null): UnitProblem {
    const hint = suggestion ? ` (UCUM suggests ${suggestion})` : '';
    const example = suggestion ?? '<UCUM code>';
    const declared = this.aliases.size ? `; declared aliases: ${listOf(this.aliases.keys())}` : '';
    return new UnitProblem(
      MappingErrorCode.UNKNOWN_UNIT,
      `unknown unit '${unit}': not a UCUM code${hint}; add it to units.aliases, e.g. ${JSON.stringify(unit)}: ${JSON.stringify(example)}${declared}`,
    );
  }
}

// UCUM handles affine units (Cel, [degF], K) through its special-unit functions; two points give the line,
// two more confirm it is one (logarithmic units such as dB or [pH] are not and are refused).
function linearize(from: string, to: string): LinearConversion | UnitProblem {
  if (from === to) return { scale: 1, offset: 0 };
  const at0 = ucumConvert(from, 0, to);
  const atMillion = ucumConvert(from, 1e6, to);
  if (at0 === null || atMillion === null) {
    return new UnitProblem(
      MappingErrorCode.INCOMPATIBLE_UNITS,
      `cannot convert ${from} to ${to}: the units measure different quantities`,
    );
  }
  const conversion = { scale: (atMillion - at0) / 1e6, offset: at0 };
  for (const x of [-40, 73.9]) {
    const expected = ucumConvert(from, x, to);
    const actual = x * conversion.scale + conversion.offset;
    if (expected === null || Math.abs(actual - expected) > 1e-9 * Math.max(1, Math.abs(expected))) {
      return new UnitProblem(
        MappingErrorCode.INCOMPATIBLE_UNITS,
        `cannot convert ${from} to ${to}: the conversion is not linear (logarithmic units are not supported)`,
      );
    }
  }
  return conversion;
}
