import { describe, expect, it } from 'vitest';
import { UnitConverter } from '../../../src/mapping/units/unit-converter.ts';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

// A valid UCUM code meant as another unit ('C' is the coulomb) only fails when it meets the unit it was meant to
// be; the error then names the likely intent and the alias that fixes it.
describe('unit errors that suggest an alias', () => {
  it("'C' for Celsius: coulomb, not a temperature; alias C to Cel", () => {
    expect(() => new UnitConverter().resolve('C', 'Cel')).toThrow(
      "cannot convert C to Cel: the units measure different quantities. 'C' is coulomb (electric charge) in UCUM, not a temperature; if the device means Celsius, add `units.aliases: { C: Cel }` to the mapping",
    );
  });

  it('an alias to the wrong unit is named, to be changed', () => {
    expect(() => new UnitConverter({ degC: 'C' }).resolve('degC', 'Cel')).toThrow(
      'if the device means Celsius, change units.aliases.degC to Cel in the mapping',
    );
  });

  it('quotes an alias target with brackets, and works on either side of the conversion', () => {
    expect(() => new UnitConverter().resolve('Cel', 'F')).toThrow(
      'add `units.aliases: { F: "[degF]" }` to the mapping',
    );
  });

  it('gives no hint when the meant unit would not convert either', () => {
    expect(() => new UnitConverter().resolve('C', 'kPa')).toThrow(
      /^cannot convert C to kPa: the units measure different quantities$/,
    );
  });

  it('the aliased unit converts as meant', () => {
    expect(new UnitConverter({ C: 'Cel' }).resolve('C', '[degF]').offset).toBeCloseTo(32, 9);
  });

  it('a unit read from the payload gets the hint in its mapping error', () => {
    const result = mappingWith('fields:\n  f: \'convert_unit($.v, $.u, "Cel")\'').map({ v: 21, u: 'C' });
    expect([result.deadLetter?.code, result.deadLetter?.detail]).toEqual([
      'INCOMPATIBLE_UNITS',
      "field 'f': cannot convert C to Cel: the units measure different quantities. 'C' is coulomb (electric charge) in UCUM, not a temperature; if the device means Celsius, add `units.aliases: { C: Cel }` to the mapping",
    ]);
  });

  it('a literal pair fails `mappings validate` with the hint and its file:line:col', () => {
    expect(seen(compileErrors(mappingText('fields:\n  a: \'convert_unit($.v, "C", "Cel")\'')))).toEqual([
      [
        'INCOMPATIBLE_UNITS',
        "test.yaml:8:7: cannot convert C to Cel: the units measure different quantities. 'C' is coulomb (electric charge) in UCUM, not a temperature; if the device means Celsius, add `units.aliases: { C: Cel }` to the mapping",
      ],
    ]);
  });
});
