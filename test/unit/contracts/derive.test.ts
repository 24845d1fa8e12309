import { describe, expect, it } from 'vitest';
import {
  type CatalogTable,
  contractDrift,
  type DataContract,
  type DerivationSources,
  deriveContract,
  graphqlColumnKnowledge,
  localServer,
  logicalTypeOf,
  satisfies,
  semanticDescriptions,
} from '../../../src/contracts/index.ts';

// `contracts export` (docs/data-products.md, "Export"): one derivation for every table, merged into the
// hand-written contract; and the drift check that names breaking changes.

const table: CatalogTable = {
  schema: 'dw',
  name: 'fact_x',
  comment: 'from the catalog',
  columns: [
    {
      name: 'id',
      physicalType: 'bigint',
      notNull: true,
      primaryKeyPosition: 1,
      partitionKeyPosition: null,
      comment: null,
    },
    {
      name: 'owner_name',
      physicalType: 'text',
      notNull: false,
      primaryKeyPosition: null,
      partitionKeyPosition: null,
      comment: 'a comment',
    },
    {
      name: 'metric_sk',
      physicalType: 'smallint',
      notNull: true,
      primaryKeyPosition: null,
      partitionKeyPosition: null,
      comment: null,
    },
    {
      name: 'hour_start',
      physicalType: 'timestamp with time zone',
      notNull: true,
      primaryKeyPosition: null,
      partitionKeyPosition: 1,
      comment: null,
    },
    {
      name: 'min_value',
      physicalType: 'double precision',
      notNull: false,
      primaryKeyPosition: null,
      partitionKeyPosition: null,
      comment: null,
    },
    {
      name: 'max_value',
      physicalType: 'double precision',
      notNull: false,
      primaryKeyPosition: null,
      partitionKeyPosition: null,
      comment: null,
    },
    {
      name: 'n_fail',
      physicalType: 'integer',
      notNull: true,
      primaryKeyPosition: null,
      partitionKeyPosition: null,
      comment: null,
    },
  ],
};

const sources: DerivationSources = {
  classifications: new Map([['dw.fact_x.owner_name', 'PII']]),
  descriptions: new Map([['dw.fact_x.id', 'from GraphQL']]),
  metricRanges: [
    { code: 'humidity', min: 0, max: 100, unit: '%' },
    { code: 'unbounded', min: null, max: null, unit: null },
  ],
};
const server = localServer('postgres://postgres@127.0.0.1:5432/iot_hub');

describe('deriveContract', () => {
  it('writes a new draft from the catalog, the classifications, the descriptions and the metric ranges', () => {
    const contract = deriveContract(table, sources, server);
    expect(contract).toMatchObject({
      apiVersion: 'v3.1.0',
      kind: 'DataContract',
      id: 'fact_x',
      status: 'draft',
    });
    expect(contract.servers).toEqual([server]);
    const object = contract.schema[0]!;
    expect(object).toMatchObject({ physicalName: 'dw.fact_x', description: 'from the catalog' });
    expect(object.properties[0]).toEqual({
      name: 'id',
      logicalType: 'integer',
      physicalType: 'bigint',
      description: 'from GraphQL',
      required: true,
      primaryKey: true,
      primaryKeyPosition: 1,
    });
    expect(object.properties[1]).toMatchObject({ description: 'a comment', classification: 'PII' });
    expect(object.properties[1]?.required).toBeUndefined();
    expect(object.properties[3]).toMatchObject({ partitioned: true, partitionKeyPosition: 1 });
    // One range rule per metric with a bound, reading the hourly min/max.
    expect(object.quality?.map((r) => r.name)).toEqual(['value_range_humidity']);
    expect(object.quality?.[0]?.query).toContain('(min_value < 0 OR max_value > 100) AND n_fail = 0');
  });

  it('keeps what people wrote and replaces what the migrations decide', () => {
    const existing = deriveContract(table, sources, server);
    const edited: DataContract = structuredClone({
      ...existing,
      version: '2.0.0',
      status: 'active',
      team: { name: 'ops', members: [{ username: 'ana', role: 'owner' }] },
      slaProperties: [{ property: 'latency', value: 2, unit: 'h', element: 'fact_x.hour_start' }],
    });
    const object = edited.schema[0]!;
    object.description = 'hand-written table';
    object.quality = [
      { name: 'own_rule', type: 'library', metric: 'rowCount', mustBeGreaterThan: 0 },
      ...(object.quality ?? []),
    ];
    object.properties[0]!.description = 'hand-written key';
    object.properties[0]!.physicalType = 'integer'; // stale: the catalog says bigint
    object.properties[1]!.required = true; // a promise the table does not enforce
    object.properties.push({ name: 'dropped', logicalType: 'string', physicalType: 'text' });

    const merged = deriveContract(table, sources, server, edited);
    expect(merged).toMatchObject({
      version: '2.0.0',
      status: 'active',
      team: edited.team,
      slaProperties: edited.slaProperties,
    });
    const m = merged.schema[0]!;
    expect(m.description).toBe('hand-written table');
    expect(m.properties.map((p) => p.name)).toEqual(table.columns.map((c) => c.name));
    expect(m.properties[0]).toMatchObject({ description: 'hand-written key', physicalType: 'bigint' });
    expect(m.properties[1]?.required).toBe(true);
    expect(m.quality?.map((r) => r.name)).toEqual(['own_rule', 'value_range_humidity']);
    expect(merged.servers).toHaveLength(1);
  });
});

describe('contractDrift', () => {
  const object = deriveContract(table, sources, server).schema[0]!;
  const changed = (edit: (t: CatalogTable) => void): CatalogTable => {
    const t = structuredClone(table);
    edit(t);
    return t;
  };
  const cases: [name: string, edit: (t: CatalogTable) => void, kind: string, breaking: boolean][] = [
    ['a column dropped', (t) => t.columns.splice(1, 1), 'column removed', true],
    ['a type changed', (t) => (t.columns[0]!.physicalType = 'integer'), 'type changed', true],
    ['a column made NOT NULL', (t) => (t.columns[1]!.notNull = true), 'nullability tightened', true],
    ['a key widened', (t) => (t.columns[2]!.primaryKeyPosition = 2), 'key changed', true],
    ['a column added', (t) => t.columns.push({ ...t.columns[1]!, name: 'extra' }), 'column added', false],
    ['a NOT NULL dropped', (t) => (t.columns[0]!.notNull = false), 'nullability loosened', true],
  ];
  it.each(cases)('names %s', (_name, edit, kind, breaking) => {
    const drift = contractDrift(object, changed(edit));
    expect(drift.map((d) => [d.kind, d.breaking])).toEqual([[kind, breaking]]);
  });
  it('is empty when the table is as the contract says, and names a missing table', () => {
    expect(contractDrift(object, table)).toEqual([]);
    expect(contractDrift(object, undefined)).toMatchObject([{ kind: 'table missing', breaking: true }]);
  });
});

describe('sources', () => {
  it('takes the most restrictive class of the fields reading a column, and their descriptions', () => {
    const sdl = `
      directive @classified(level: String!) on FIELD_DEFINITION
      type A { "the owner" name: String @classified(level: OPERATIONAL) }
      type B { who: String @classified(level: PII) other: String @classified(level: PUBLIC) }`;
    const known = graphqlColumnKnowledge([sdl], {
      'A.name': { table: 'dw.t', column: 'owner' },
      'B.who': { table: 'dw.t', column: 'owner' },
    });
    expect(known.classifications).toEqual(new Map([['dw.t.owner', 'PII']]));
    expect(known.descriptions).toEqual(new Map([['dw.t.owner', 'the owner']]));
  });

  it('reads cube and dimension descriptions from the semantic model', () => {
    const cube = `
cube: c
table: dw.fact_x
description: Facts.
joins: { d: { table: dw.dim_y, on: "x" } }
dimensions:
  name: { sql: d.y_name, join: d, description: The name. }
  computed: { sql: "upper(d.y_name)", join: d, description: Not a column. }`;
    expect(semanticDescriptions([cube])).toEqual(
      new Map([
        ['dw.fact_x', 'Facts.'],
        ['dw.dim_y.y_name', 'The name.'],
      ]),
    );
  });

  it.each([
    ['bigint', 'integer'],
    ['double precision', 'number'],
    ['timestamp with time zone', 'timestamp'],
    ['character varying(64)', 'string'],
    ['jsonb', 'object'],
    ['ltree', 'string'],
    ['integer[]', 'array'],
    ['boolean', 'boolean'],
  ])('maps %s to the logical type %s', (physical, logical) => {
    expect(logicalTypeOf(physical)).toBe(logical);
  });
});

describe('rule operators', () => {
  it.each([
    [{ mustBe: 0 }, 0, true],
    [{ mustBe: 0 }, 1, false],
    [{ mustBeGreaterThan: 0 }, 0, false],
    [{ mustBeGreaterOrEqualTo: 0.9 }, 0.9, true],
    [{ mustBeLessOrEqualTo: 5 }, 5.1, false],
    [{ mustBeBetween: [1, 2] as [number, number] }, 2, true],
    [{ mustNotBeBetween: [1, 2] as [number, number] }, 1.5, false],
  ])('%o with %d passes: %s', (operator, value, passes) => {
    expect(satisfies({ name: 'r', type: 'sql', ...operator }, value)).toBe(passes);
  });
});
