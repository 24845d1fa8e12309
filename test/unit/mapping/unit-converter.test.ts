import { describe, expect, it } from 'vitest';
import {
  CONVERSION_DIGITS,
  roundConverted,
  UnitConverter,
  UnitProblem,
} from '../../../src/mapping/units/unit-converter.ts';
import { mappingWith } from './helpers.ts';

describe('UnitConverter', () => {
  it('resolves a pair once and hands back the cached conversion', () => {
    const units = new UnitConverter({ degF: '[degF]' });
    const first = units.resolve('degF', 'Cel');
    expect(units.resolve('degF', 'Cel')).toBe(first);
    expect(first.scale).toBeCloseTo(5 / 9, 12);
    expect(first.offset).toBeCloseTo(-160 / 9, 10);
  });

  it('keeps the problem for an unknown unit, naming the spelling used', () => {
    const units = new UnitConverter({ psi: '[psi]' });
    expect(() => units.resolve('degF', 'Cel')).toThrow(UnitProblem);
    expect(() => units.resolve('degF', 'Cel')).toThrow(
      'unknown unit \'degF\': not a UCUM code (UCUM suggests [degF]); add it to units.aliases, e.g. "degF": "[degF]"; declared aliases: psi',
    );
  });
});

describe('converted values keep the precision the conversion carries', () => {
  it.each([
    [33.79999999999994, 33.8],
    [1.5200000000000002, 1.52],
    [-273.15000000000003, -273.15],
    [2.2712470704000003, 2.2712470704],
    [123456789012345, 123456789012000],
    [2.9999999999999997e-20, 3e-20],
    [0, 0],
    [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
  ])(`roundConverted(%d) is %d (${CONVERSION_DIGITS} significant digits)`, (raw, expected) => {
    expect(roundConverted(raw)).toBe(expected);
  });

  it.each([
    [1, 'Cel', '[degF]', 33.8],
    [-40, 'Cel', '[degF]', -40],
    [98.6, '[degF]', 'Cel', 37],
    [0, 'K', 'Cel', -273.15],
    [1520, 'W', 'kW', 1.52],
    [1, '[in_i]/s', 'mm/s', 25.4],
    [60, '[mi_i]/h', 'km/h', 96.56064],
  ])(
    'convert_unit(%d, %s, %s) is exactly %d, with literal units and units from the message',
    (v, from, to, expected) => {
      const literal = mappingWith(`fields:\n  out: 'convert_unit($.v, "${from}", "${to}")'`).map({ v });
      const dynamic = mappingWith("fields:\n  out: 'convert_unit($.v, $.from, $.to)'").map({ v, from, to });
      expect(literal.rows[0]!.out).toBe(expected);
      expect(dynamic.rows[0]!.out).toBe(expected);
    },
  );
});
