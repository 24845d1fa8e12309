import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type ChangeEvent,
  ConnectClient,
  changePosition,
  parseChangeEvent,
  readConnectorDefinition,
  type Tombstone,
} from '../../src/cdc/index.ts';
import { withDatabase } from '../../src/db/index.ts';
import { cdcRole } from '../../src/devtools/stack/index.ts';
import { createKafka } from '../../src/kafka/index.ts';

// The real pipeline: PostgreSQL (mdm, wal_level=logical) → Debezium 3.5 on Kafka Connect → Kafka → typed events.
describe('Debezium PostgreSQL source on the mdm database', () => {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 8);
  const table = `cdc_probe_${suffix}`;
  const prefix = `test_mdm_${suffix}`;
  const name = `test-mdm-source-${suffix}`;
  const connect = new ConnectClient(inject('connectUrl'));
  const kafka = createKafka({ brokers: inject('kafkaBrokers'), clientId: 'test-debezium' });
  // The CDC role owns the mdm database, so it owns the table it creates and may add it to a publication.
  const mdmUrl = withDatabase(inject('serverUrl'), 'mdm').replace(
    /\/\/[^@/]*@/,
    `//${cdcRole.name}:${cdcRole.password}@`,
  );
  const db = new pg.Client({ connectionString: mdmUrl });

  beforeAll(async () => {
    await db.connect();
    await db.query(
      `CREATE TABLE ${table} (id text PRIMARY KEY, name text NOT NULL, firmware numeric(10,2), last_seen timestamptz, attrs jsonb)`,
    );
    await db.query(`ALTER TABLE ${table} REPLICA IDENTITY FULL`);
    await db.query(`INSERT INTO ${table} VALUES ('dev-0', 'before-snapshot', 0.90, now(), '{}')`);
    const def = readConnectorDefinition('connectors/debezium/mdm-source.json', {
      name,
      'topic.prefix': prefix,
      'slot.name': `test_slot_${suffix}`,
      'publication.name': `test_pub_${suffix}`,
      'table.include.list': `public.${table}`,
      'slot.drop.on.stop': 'true',
    });
    await connect.putConnector(def);
    await connect.waitRunning(name);
    // RUNNING comes before the snapshot is read: wait for the snapshot row, so the changes below stream as c/u/d.
    await waitForMessages(`${prefix}.public.${table}`, 1);
  });

  afterAll(async () => {
    await connect.deleteConnector(name).catch(() => {});
    // The slot is dropped on a graceful stop; make sure, since a left-over slot pins WAL forever.
    await new Promise((r) => setTimeout(r, 1000));
    await db.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
      [`test_slot_${suffix}`],
    );
    await db.query(`DROP PUBLICATION IF EXISTS test_pub_${suffix}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics([`${prefix}.public.${table}`]).catch(() => {});
    await admin.disconnect();
  });

  it('turns a snapshot row, an insert, an update and a delete into typed events with a tombstone', async () => {
    await db.query(
      `INSERT INTO ${table} VALUES ('dev-1', 'sensor-1', 1.20, '2026-08-20T10:15:30.123456Z', '{"room":"lab"}')`,
    );
    await db.query(`UPDATE ${table} SET firmware = 1.30 WHERE id = 'dev-1'`);
    await db.query(`DELETE FROM ${table} WHERE id = 'dev-1'`);

    const events = await readEvents(`${prefix}.public.${table}`, 5);
    const [snapshot, insert, update, del, tombstone] = events as [
      ChangeEvent,
      ChangeEvent,
      ChangeEvent,
      ChangeEvent,
      Tombstone,
    ];

    expect(snapshot.op).toBe('r');
    expect(['true', 'first', 'last', 'first_in_data_collection', 'last_in_data_collection']).toContain(
      snapshot.source.snapshot,
    );
    expect(snapshot.after).toMatchObject({ id: 'dev-0', name: 'before-snapshot', firmware: '0.90' });

    expect(insert.op).toBe('c');
    expect(insert.key).toEqual({ id: 'dev-1' });
    expect(insert.before).toBeNull();
    // decimal.handling.mode=string keeps numeric exact; jsonb arrives as a string holding JSON.
    expect(insert.after).toMatchObject({
      id: 'dev-1',
      name: 'sensor-1',
      firmware: '1.20',
      last_seen: '2026-08-20T10:15:30.123456Z',
    });
    expect(JSON.parse(insert.after?.attrs as string)).toEqual({ room: 'lab' });
    expect(insert.source).toMatchObject({
      connector: 'postgresql',
      name: prefix,
      db: 'mdm',
      schema: 'public',
      table,
      snapshot: 'false',
    });
    expect(typeof insert.source.lsn).toBe('number');
    expect(typeof insert.source.txId).toBe('number');

    expect(update.op).toBe('u');
    expect(update.before).toMatchObject({ firmware: '1.20' });
    expect(update.after).toMatchObject({ firmware: '1.30' });
    expect(changePosition(update) > changePosition(insert)).toBe(true);

    expect(del.op).toBe('d');
    expect(del.after).toBeNull();
    expect(del.before).toMatchObject({ id: 'dev-1', firmware: '1.30' });

    expect(tombstone).toEqual({ kind: 'tombstone', key: { id: 'dev-1' } });
  });

  async function waitForMessages(topic: string, count: number): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let i = 0; i < 300; i++) {
        if ((await admin.listTopics()).includes(topic)) {
          const offsets = await admin.topicOffsets(topic);
          if (offsets.reduce((n, o) => n + Number(o.high), 0) >= count) return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`${topic} did not reach ${count} messages within 60 s`);
    } finally {
      await admin.disconnect();
    }
  }

  async function readEvents(topic: string, count: number): Promise<(ChangeEvent | Tombstone)[]> {
    const consumer = kafka.consumer({ groupId: `test-debezium-${suffix}`, fromBeginning: true });
    await consumer.connect();
    await consumer.subscribe([topic]);
    const events: (ChangeEvent | Tombstone)[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run(async (batch, control) => {
        for (const m of batch.messages) {
          events.push(parseChangeEvent(m.key, m.value));
          control.resolveOffset(m.offset);
        }
        if (events.length >= count) resolve();
      });
    });
    await consumer.stop();
    await consumer.disconnect();
    return events;
  }
});
