import { describe, expect, it } from 'vitest';
import { compileErrors, mappingText, mappingWith, seen } from './helpers.ts';

const gateway = {
  gw: 'gw-7',
  sensors: [
    { id: 's-1', readings: [{ v: 1 }, { v: 2 }] },
    { id: 's-2' }, // no readings: no rows, not an error
    { id: 's-3', readings: [{ v: 3 }] },
  ],
};

describe('explode: nested arrays, objects, lets', () => {
  it('explodes two levels deep; $parent is the element one level up', () => {
    const mapping = mappingWith(
      'explode: $.sensors[*].readings[*]\nfields:\n  sensor: $parent.id\n  gw: $$.gw\n  v: $.v',
    );
    const result = mapping.map(gateway);
    expect(result.deadLetter).toBeNull();
    expect(result.rows.map((r) => [r.sensor, r.gw, r.v])).toEqual([
      ['s-1', 'gw-7', 1],
      ['s-1', 'gw-7', 2],
      ['s-3', 'gw-7', 3],
    ]);
    // Element indexes count the innermost elements across parents, as dead letters report them.
    expect(result.rowElements).toEqual([0, 1, 2]);
  });

  it('a trailing [*] is optional at every depth', () => {
    const a = mappingWith('explode: $.sensors[*].readings\nfields:\n  v: $.v').map(gateway);
    expect(a.rows.map((r) => r.v)).toEqual([1, 2, 3]);
  });

  it('with one level, $parent is the message', () => {
    const mapping = mappingWith('explode: $.readings\nfields:\n  id: $parent.id\n  v: $.v');
    expect(mapping.map({ id: 'm', readings: [{ v: 1 }] }).rows.map((r) => [r.id, r.v])).toEqual([['m', 1]]);
  });

  it('lets read $parent per element', () => {
    const mapping = mappingWith(
      'explode: $.sensors[*].readings[*]\nlet:\n  sensor: upper($parent.id)\nfields:\n  sensor: $sensor\n  v: $.v',
    );
    expect(mapping.map(gateway).rows.map((r) => r.sensor)).toEqual(['S-1', 'S-1', 'S-3']);
  });

  it('explodes an object into {key, value} entries', () => {
    const mapping = mappingWith('explode: $.values\nfields:\n  metric: $.key\n  v: $.value');
    const result = mapping.map({ values: { temp: 21.5, hum: 40 } });
    expect(result.rows.map((r) => [r.metric, r.v])).toEqual([
      ['temp', 21.5],
      ['hum', 40],
    ]);
  });

  it('explodes objects nested in arrays, with the array element as $parent', () => {
    const mapping = mappingWith(
      'explode: $.sensors[*].values\nfields:\n  sensor: $parent.id\n  metric: $.key\n  v: $.value',
    );
    const result = mapping.map({
      sensors: [
        { id: 'a', values: { t: 1, h: 2 } },
        { id: 'b', values: { t: 3 } },
      ],
    });
    expect(result.rows.map((r) => [r.sensor, r.metric, r.v])).toEqual([
      ['a', 't', 1],
      ['a', 'h', 2],
      ['b', 't', 3],
    ]);
  });

  it('explodes a let that is evaluated once per message', () => {
    const mapping = mappingWith(
      'let:\n  items: $$.batch.items\nexplode: $items\nfields:\n  v: $.v\n  batch: $$.batch.id',
    );
    expect(
      mapping.map({ batch: { id: 'b1', items: [{ v: 1 }, { v: 2 }] } }).rows.map((r) => [r.batch, r.v]),
    ).toEqual([
      ['b1', 1],
      ['b1', 2],
    ]);
  });

  it('explodes a let through nested levels', () => {
    const mapping = mappingWith(
      'let:\n  sensors: $$.payload.sensors\nexplode: $sensors[*].readings[*]\nfields:\n  sensor: $parent.id\n  v: $.v',
    );
    expect(mapping.map({ payload: gateway }).rows.map((r) => [r.sensor, r.v])).toEqual([
      ['s-1', 1],
      ['s-1', 2],
      ['s-3', 3],
    ]);
  });

  it('an inner level that is not an array or object dead-letters the message, naming the level', () => {
    const result = mappingWith('explode: $.sensors[*].readings[*]\nfields:\n  v: $.v').map({
      sensors: [{ readings: [] }, { readings: 'none' }],
    });
    expect([result.deadLetter?.code, result.deadLetter?.message]).toEqual([
      'EXPLODE_NOT_ARRAY',
      'test.yaml:7:10: explode: .readings[*] of element 1 of the level above: expected an array or an object, got "none"',
    ]);
  });

  it('refuses an explode that reads a per-element let, and $parent outside explode', () => {
    expect(
      seen(compileErrors(mappingText('let:\n  x: $.items\nexplode: $x[*].r\nfields:\n  a: $.v\n  b: $x'))),
    ).toEqual([
      [
        'INVALID_MAPPING',
        'test.yaml:9:10: explode reads $x, which reads $ (an element) or $parent; explode can read only lets evaluated once per message, which read the message as $$ (e.g. $$.items, not $.items)',
      ],
    ]);
    expect(seen(compileErrors(mappingText('fields:\n  a: $parent.id')))[0]?.[0]).toBe('UNKNOWN_VARIABLE');
  });
});
