import { describe, expect, it } from 'vitest';
import { UnitConverter, UnitProblem } from '../../../src/mapping/units/unit-converter.ts';

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
