import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { lineageSites, mappingJob } from '../../src/lineage/index.ts';
import { loadMappingFile } from '../../src/mapping/index.ts';
import { freshDatabase, startTestApi, type TestApi } from './graphql-harness.ts';

// GraphQL's lineage(field:) and the OpenLineage events read one graph (docs/lineage.md): the source fields a
// GraphQL field reports are the columnLineage input fields of the mapping's job. Governance is replaced by a
// stand-in through its face, as in graphql-entities.test.ts.
vi.mock('../../src/graphql/governance/index.ts', async () =>
  (await import('./graphql-stand-in.ts')).governanceStandIn(),
);

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi(await freshDatabase(inject('serverUrl'), 'iot_hub_test_lineage_graphql'));
});

afterAll(async () => {
  await api?.close();
});

describe('lineage(field:) reads the graph the OpenLineage events carry', () => {
  const job = mappingJob(
    lineageSites({
      jobNamespace: 'iot-hub',
      kafkaBroker: '127.0.0.1:19092',
      databaseUrl: 'postgres://127.0.0.1:5432/iot_hub',
      servicenowUrl: 'http://127.0.0.1:18090',
    }),
    loadMappingFile('mappings/telemetry-acme-v2.yaml'),
  );
  const inputFieldsOf = (column: string) =>
    job.outputs[0]!.columnLineage!.fields[column]!.inputFields.map((f) => f.field);

  it.each([
    ['Reading.value', 'value', 'value'],
    ['Reading.ts', 'reading_ts', 'ts'],
    ['Reading.quality', 'quality_code', 'quality'],
  ])('%s: the mapping field and source fields of column %s', async (field, column, mappingField) => {
    const { data, errors } = await api.post(
      `{ lineage(field: "${field}") { column sources { mappingId mappingField sourceFields } } }`,
    );
    expect(errors).toBeUndefined();
    expect(data.lineage.column).toBe(column);
    const acme = data.lineage.sources.find((s: { mappingId: string }) => s.mappingId === 'telemetry-acme');
    expect(acme).toEqual({ mappingId: 'telemetry-acme', mappingField, sourceFields: inputFieldsOf(column) });
  });

  it('a rollup column says what it is computed from', async () => {
    const { data } = await api.post(
      '{ lineage(field: "HourlyRollup.avg") { table column via sources { mappingId } } }',
    );
    expect(data.lineage).toMatchObject({
      table: 'dw.fact_sensor_hourly',
      column: 'avg_value',
      via: 'hourly rollup (src/warehouse/rollup.ts) of dw.fact_sensor_reading.value',
    });
    expect(data.lineage.sources.map((s: { mappingId: string }) => s.mappingId)).toContain('telemetry-acme');
  });
});
