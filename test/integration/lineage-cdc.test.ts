import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningCdc, startCdc } from '../../src/cdc/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { lineage, startLineage } from '../../src/lineage/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { dropTopics } from '../support/ingest-ledger.ts';
import { OpenLineageStandIn, runEventErrors } from '../unit/lineage/openlineage-stand-in.ts';

// The CDC apply of a source reports its runs (docs/lineage.md): a Debezium change event, as Connect writes it,
// on a test prefix's topic, through the real CDC stage into dw.dim_asset.
describe('OpenLineage run events from CDC', () => {
  const sfx = randomUUID().replaceAll('-', '').slice(0, 8);
  const prefix = `test_lineage_${sfx}`;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const config = loadConfig({ env: {} });
  config.database.url = inject('databaseUrl');
  config.openlineage.windowSeconds = 1;
  const database = new URL(config.database.url).pathname.slice(1);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-lineage-cdc' });
  const dw = new pg.Pool({ connectionString: config.database.url, max: 2 });
  let standIn: OpenLineageStandIn;
  let cdc: RunningCdc | null = null;

  beforeAll(async () => {
    standIn = await OpenLineageStandIn.start();
    config.openlineage.url = standIn.url;
    await startLineage(config, logger, { flushIntervalMs: 50 });
    cdc = await startCdc(config, { logger, groupId: `test-lineage-cdc-${sfx}`, topicPrefix: prefix });
  });

  afterAll(async () => {
    await cdc?.stop();
    await lineage.close();
    await standIn?.close();
    await dw.query('DELETE FROM hub.consumer_offsets WHERE consumer_group = $1', [`test-lineage-cdc-${sfx}`]);
    await dw.query('DELETE FROM dw.dim_asset WHERE asset_nk = $1', [`lineage-site-${sfx}`]);
    await dropTopics(kafka, [
      `${prefix}.public.device`,
      `${prefix}.public.asset`,
      `${prefix}.public.work_order`,
    ]);
    await dw.end();
  });

  it('a START/COMPLETE pair for the source, with the dimension and its column lineage', async () => {
    const assetId = `lineage-site-${sfx}`;
    const updatedAt = new Date().toISOString();
    const source = {
      connector: 'postgresql',
      name: prefix,
      ts_ms: Date.parse(updatedAt),
      db: 'mdm',
      schema: 'public',
      table: 'asset',
      lsn: 1008,
      sequence: JSON.stringify(['1000', '1008']),
    };
    const after = {
      asset_id: assetId,
      parent_id: null,
      level: 'site',
      name: 'Lineage site',
      criticality: 'high',
      status: 'active',
      updated_at: updatedAt,
    };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send(`${prefix}.public.asset`, [
      {
        key: JSON.stringify({ asset_id: assetId }),
        value: JSON.stringify({ before: null, after, source, op: 'c', ts_ms: source.ts_ms }),
      },
    ]);
    await producer.disconnect();

    const job = `cdc.${prefix}.public.asset.mdm-asset`;
    const complete = await standIn.waitFor((e) => e.job.name === job && e.eventType === 'COMPLETE', 60_000);
    const { rows } = await dw.query('SELECT asset_name FROM dw.dim_asset WHERE asset_nk = $1', [assetId]);
    expect(rows).toEqual([{ asset_name: 'Lineage site' }]);
    expect(standIn.of(job).map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    expect(complete.inputs).toEqual([
      { namespace: `kafka://${config.kafka.brokers[0]}`, name: `${prefix}.public.asset` },
    ]);
    const output = complete.outputs[0]!;
    expect(output.name).toBe(`${database}.dw.dim_asset`);
    expect(output.outputFacets?.outputStatistics?.rowCount).toBe(1);
    expect(output.facets?.columnLineage?.fields.asset_nk?.inputFields).toEqual([
      {
        namespace: `kafka://${config.kafka.brokers[0]}`,
        name: `${prefix}.public.asset`,
        field: 'asset_id',
        transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
      },
    ]);
    for (const event of standIn.events) expect(runEventErrors(event)).toBeNull();
  });
});
