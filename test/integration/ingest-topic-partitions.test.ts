import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { readTelemetryConnector, startIngest } from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { captureLogger } from '../support/capture-logger.ts';
import { dropTopics } from '../support/ingest-ledger.ts';

// A producer that writes to a topic before the hub creates it leaves the broker's default partition count (1 here):
// the ingest says so at start instead of running on one partition silently.
describe('topic partitions at ingest start', () => {
  const sfx = randomUUID().slice(0, 8);
  const short = `test.partitions.${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-partitions' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-mappings-'));

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropTopics(kafka, [short]);
  });

  it('warns when a subscribed topic has fewer partitions than the connector asks for', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.ensureTopics([{ topic: short, partitions: 1 }]);
    await admin.disconnect();
    cpSync('mappings', dir, { recursive: true });
    const file = path.join(dir, 'telemetry-acme-v2.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('topic: telemetry.acme', `topic: ${short}`));

    const log = captureLogger();
    const ingest = await startIngest(config, {
      logger: log.logger,
      connector: { ...readTelemetryConnector(), topics: [short], partitions: 4, mappings: dir },
      groupId: `test-partitions-${sfx}`,
      mappingReload: false,
    });
    await ingest.stop();

    const warnings = log.at(40).filter((l) => l.topic === short);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ partitions: 1, wanted: 4 });
    expect(warnings[0]!.msg).toContain(
      `topic ${short} has 1 partition(s), fewer than partitions: 4 in connectors/telemetry.yaml`,
    );
    expect(warnings[0]!.msg).toContain(`--alter --topic ${short} --partitions 4`);
  });
});
