import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractSources } from '../../../src/cli/contracts.ts';
import { loadContracts, parseContract } from '../../../src/contracts/index.ts';

// The committed contracts (contracts/*.odcs.yaml): valid ODCS v3 as schema/odcs-v3.schema.json states it, one per
// data product, and their classifications are the GraphQL policy's (one source of truth).

const products = [
  'dim_asset',
  'dim_cmdb_ci',
  'dim_device',
  'dim_metric',
  'fact_dq_event',
  'fact_maintenance_event',
  'fact_sensor_hourly',
  'fact_sensor_reading',
];

describe('the committed contracts', () => {
  const contracts = loadContracts();

  it('are one valid ODCS v3 contract per data product, each with owner, support, objectives and quality rules', () => {
    expect(contracts.map((c) => c.contract.id)).toEqual(products);
    for (const { contract } of contracts) {
      expect(contract.apiVersion).toMatch(/^v3\./);
      expect(contract.status).toBe('active');
      expect(
        contract.team?.members?.some((m) => m.role === 'owner'),
        contract.id,
      ).toBe(true);
      expect(contract.support?.length, contract.id).toBeGreaterThan(0);
      expect(
        contract.slaProperties?.some((s) => s.property === 'availability'),
        contract.id,
      ).toBe(true);
      expect(contract.servers?.[0]).toMatchObject({ server: 'local', type: 'postgres', schema: 'dw' });
      const object = contract.schema[0]!;
      expect(object.quality?.length, contract.id).toBeGreaterThan(0);
      expect(
        object.properties.some((p) => p.primaryKey),
        contract.id,
      ).toBe(true);
    }
  });

  it('classify every column as the @classified directive of the GraphQL fields that read it', () => {
    const { classifications } = contractSources();
    let classified = 0;
    for (const { contract } of contracts)
      for (const object of contract.schema)
        for (const p of object.properties) {
          const derived = classifications.get(`${object.physicalName}.${p.name}`);
          expect(p.classification, `${object.physicalName}.${p.name}`).toBe(derived);
          if (derived) classified++;
        }
    expect(classified).toBeGreaterThan(50);
    // A column read by several fields takes the most restrictive class; PII reaches the contracts.
    expect(classifications.get('dw.fact_maintenance_event.technician')).toBe('PII');
    expect(classifications.get('dw.dim_device.serial_number')).toBe('CONFIDENTIAL');
  });

  it('keep the freshness objective of the readings on an indexed rollup column', () => {
    const readings = contracts.find((c) => c.contract.id === 'fact_sensor_reading')!.contract;
    expect(readings.slaProperties?.find((s) => s.property === 'latency')).toMatchObject({
      value: 2,
      unit: 'h',
      element: 'fact_sensor_hourly.hour_start',
    });
    // Status queries must stay cheap: no rule of the 10M-row table reads it.
    for (const rule of readings.schema[0]!.quality ?? []) expect(rule.query).not.toMatch(/\{object\}/);
  });
});

describe('contract validation', () => {
  const valid = readFileSync('contracts/dim_metric.odcs.yaml', 'utf8');
  const cases: [name: string, from: string, to: string, message: RegExp][] = [
    ['apiVersion not v3', 'apiVersion: v3.1.0', 'apiVersion: v2.2.2', /apiVersion/],
    ['kind', 'kind: DataContract', 'kind: Contract', /kind/],
    ['status', 'status: active', 'status: live', /status: must be one of/],
    ['logicalType', 'logicalType: integer', 'logicalType: int', /logicalType/],
    ['unknown key', 'physicalType: table', 'physicalType: table\n    owner: me', /unknown key 'owner'/],
    ['rule without operator', '        mustBeGreaterThan: 1\n', '', /needs exactly one operator: mustBe/],
    ['primary key without position', '        primaryKeyPosition: 1\n', '', /primaryKeyPosition/],
  ];
  it.each(cases)('refuses %s with file:line and the path', (_name, from, to, message) => {
    expect(valid).toContain(from);
    const broken = valid.replace(from, to);
    expect(() => parseContract(broken, 'contracts/dim_metric.odcs.yaml')).toThrow(message);
    expect(() => parseContract(broken, 'contracts/dim_metric.odcs.yaml')).toThrow(
      /contracts\/dim_metric\.odcs\.yaml:\d+:\d+: /,
    );
  });

  it('refuses a file whose name is not its id', () => {
    expect(() => parseContract(valid, 'contracts/metrics.odcs.yaml')).toThrow(
      "contracts/metrics.odcs.yaml: id 'dim_metric' differs from the file name; name the file dim_metric.odcs.yaml",
    );
  });
});
