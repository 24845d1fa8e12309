import { describe, expect, it } from 'vitest';
import { lineageSites, mappingJob, targetColumnsOf } from '../../../src/lineage/index.ts';
import { type CompiledMapping, compileMappingText, loadMappingFile } from '../../../src/mapping/index.ts';

// Column lineage derived from the mapping files: the graph both the OpenLineage events and GraphQL's lineage read.
const sites = lineageSites({
  jobNamespace: 'iot-hub',
  kafkaBroker: 'broker-1:9092',
  databaseUrl: 'postgres://hub@db.internal:5433/warehouse',
  servicenowUrl: 'https://acme.service-now.com/',
});

function columnLineage(mapping: CompiledMapping) {
  const output = mappingJob(sites, mapping).outputs[0]!;
  return Object.fromEntries(
    Object.entries(output.columnLineage!.fields).map(([column, { inputFields }]) => [
      column,
      inputFields.map((f) => `${f.field}:${f.transformations[0]!.subtype}`).sort(),
    ]),
  );
}

describe('datasets', () => {
  it('names datasets by the OpenLineage conventions: kafka://host:port, postgres://host:port db.schema.table, the ServiceNow origin', () => {
    const acme = mappingJob(sites, loadMappingFile('mappings/telemetry-acme-v2.yaml'));
    expect(acme).toMatchObject({
      namespace: 'iot-hub',
      name: 'ingest.telemetry.acme.telemetry-acme',
      processingType: 'STREAMING',
      inputs: [{ namespace: 'kafka://broker-1:9092', name: 'telemetry.acme' }],
      outputs: [{ namespace: 'postgres://db.internal:5433', name: 'warehouse.dw.fact_sensor_reading' }],
    });
    const tickets = mappingJob(sites, loadMappingFile('mappings/alert-incident-v1.yaml'));
    expect(tickets).toMatchObject({
      name: 'tickets.servicenow.incident',
      inputs: [{ namespace: 'postgres://db.internal:5433', name: 'warehouse.hub.alert' }],
      outputs: [{ namespace: 'https://acme.service-now.com', name: 'incident' }],
    });
    const cdc = mappingJob(sites, loadMappingFile('mappings/mdm-device-v1.yaml'), 'test-1.public.device');
    expect(cdc).toMatchObject({
      name: 'cdc.test-1.public.device.mdm-device',
      inputs: [{ namespace: 'kafka://broker-1:9092', name: 'test-1.public.device' }],
      outputs: [{ name: 'warehouse.dw.dim_device' }],
    });
  });
});

describe('column lineage from mapping files', () => {
  it('follows explode, lets, the loader renames and lookups (acme v2)', () => {
    const lineage = columnLineage(loadMappingFile('mappings/telemetry-acme-v2.yaml'));
    expect(lineage).toEqual({
      reading_ts: ['ts:TRANSFORMATION'],
      value: ['readings.m:TRANSFORMATION', 'readings.u:TRANSFORMATION', 'readings.v:TRANSFORMATION'],
      quality_code: ['readings.q:TRANSFORMATION'],
      device_sk: ['deviceId:TRANSFORMATION'],
      metric_sk: ['readings.m:TRANSFORMATION'],
    });
    const output = mappingJob(sites, loadMappingFile('mappings/telemetry-acme-v2.yaml')).outputs[0]!;
    expect(output.columnLineage!.fields.device_sk!.inputFields[0]!.transformations[0]).toEqual({
      type: 'DIRECT',
      subtype: 'TRANSFORMATION',
      description: 'surrogate key looked up by device_id',
    });
    // explode decides which rows exist: dataset-level, INDIRECT
    expect(output.columnLineage!.dataset).toEqual([
      {
        namespace: 'kafka://broker-1:9092',
        name: 'telemetry.acme',
        field: 'readings',
        transformations: [{ type: 'INDIRECT', subtype: 'FILTER' }],
      },
    ]);
  });

  it('reads $parent one explode level up and $row through the field it names (gateway)', () => {
    const lineage = columnLineage(loadMappingFile('mappings/telemetry-gateway-v1.yaml'));
    expect(lineage.device_sk).toEqual(['sensors.id:TRANSFORMATION']);
    expect(lineage.reading_ts).toEqual(['sensors.readings.t:TRANSFORMATION']);
    // quality reads $.status and $row.value, so value's sources too
    expect(lineage.quality_code).toEqual(
      expect.arrayContaining(['sensors.readings.status:TRANSFORMATION', 'sensors.readings.v:TRANSFORMATION']),
    );
  });

  it('marks a field copied as is IDENTITY, one computed TRANSFORMATION; constants and $meta have no sources', () => {
    const mapping = compileMappingText(
      `apiVersion: hub.mapping/v1
kind: DimensionMapping
id: lineage-probe
version: 1
source: { kind: cdc, topic: probe.public.thing, table: public.thing, system: probe }
target: { table: dw.dim_thing, natural_key: thing_nk }
let:
  upper: upper($.name)
fields:
  thing_nk: $.id
  nested: $$.attrs.colour
  thing_name: $upper
  label: $row.thing_name
  source_system: { const: probe }
  op: $meta.op
`,
      'lineage-probe.yaml',
    );
    expect(targetColumnsOf(mapping).map((c) => [c.column, c.sources])).toEqual([
      ['thing_nk', [{ path: 'id', identity: true }]],
      ['nested', [{ path: 'attrs.colour', identity: true }]],
      ['thing_name', [{ path: 'name', identity: false }]],
      ['label', [{ path: 'name', identity: false }]],
      ['source_system', []],
      ['op', []],
    ]);
    // columns without sources carry no column lineage
    expect(Object.keys(columnLineage(mapping))).toEqual(['thing_nk', 'nested', 'thing_name', 'label']);
  });
});
