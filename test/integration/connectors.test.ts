import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  applyConnectors,
  ConnectClient,
  ConnectorApplyError,
  type ConnectorReport,
  connectorStatus,
  readConnectorDefinition,
} from '../../src/cdc/index.ts';
import { registerConnectorsCommand } from '../../src/cli/connectors.ts';
import { withDatabase } from '../../src/db/index.ts';
import { cdcRole } from '../../src/devtools/stack/index.ts';
import { createKafka } from '../../src/kafka/index.ts';

// `connectors apply|status` against the real Connect worker with Debezium 3.5 and the mdm database.
describe('connectors apply and status', () => {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 8);
  const table = `conn_probe_${suffix}`;
  const prefix = `test_conn_${suffix}`;
  const name = `test-conn-source-${suffix}`;
  const slot = `test_slot_${suffix}`;
  const connect = new ConnectClient(inject('connectUrl'));
  const kafka = createKafka({ brokers: inject('kafkaBrokers'), clientId: 'test-connectors' });
  // The CDC role owns the mdm database, so it owns the table it creates and may add it to a publication.
  const mdmUrl = withDatabase(inject('serverUrl'), 'mdm').replace(
    /\/\/[^@/]*@/,
    `//${cdcRole.name}:${cdcRole.password}@`,
  );
  const db = new pg.Client({ connectionString: mdmUrl });
  const failing = {
    name: `test-conn-failing-${suffix}`,
    slot: `test_slot_f_${suffix}`,
    pub: `test_pub_f_${suffix}`,
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'connectors-test-'));
  const file = path.join(dir, `${name}.json`);
  const overrides = {
    name,
    'topic.prefix': prefix,
    'slot.name': slot,
    'publication.name': `test_pub_${suffix}`,
    'table.include.list': `public.${table}`,
    // mdm-source.json keeps its slot on stop, as this test must: an update restarts the task, and a slot
    // dropped on that stop would leave the connector's stored offset pointing at WAL no slot retains.
  };
  const writeDefinition = (extra: Record<string, string> = {}) => {
    const def = readConnectorDefinition('connectors/debezium/mdm-source.json', { ...overrides, ...extra });
    writeFileSync(file, JSON.stringify(def, null, 2));
  };

  beforeAll(async () => {
    await db.connect();
    await db.query(`CREATE TABLE ${table} (id text PRIMARY KEY, name text NOT NULL)`);
    await db.query(`ALTER TABLE ${table} REPLICA IDENTITY FULL`);
    await db.query(`INSERT INTO ${table} VALUES ('dev-0', 'before-snapshot')`);
  });

  afterAll(async () => {
    await connect.deleteConnector(failing.name).catch(() => {});
    await connect.deleteConnector(name).catch(() => {});
    // The slot outlives the connector (slot.drop.on.stop=false) and a left-over slot pins WAL forever: drop it
    // once the task's walsender has let go of it.
    await waitFor(async () => {
      const { rows } = await db.query(
        'SELECT 1 FROM pg_replication_slots WHERE slot_name = ANY($1) AND active',
        [[slot, failing.slot]],
      );
      return rows.length === 0 ? true : null;
    }, 30_000).catch(() => {});
    await db.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ANY($1) AND NOT active',
      [[slot, failing.slot]],
    );
    await db.query(`DROP PUBLICATION IF EXISTS test_pub_${suffix}, ${failing.pub}`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics([`${prefix}.public.${table}`, `${prefix}_f.public.${table}`]).catch(() => {});
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, leaves unchanged, dry-runs and updates a connector, waiting until it runs', async () => {
    writeDefinition();
    const [created] = await applyConnectors(connect, [file]);
    expect(created).toMatchObject({ name, file, action: 'created', changedKeys: [] });
    expect(created?.status?.connector.state).toBe('RUNNING');
    expect(created?.status?.tasks.map((t) => t.state)).toEqual(['RUNNING']);

    const [again] = await applyConnectors(connect, [file]);
    expect(again).toMatchObject({ name, action: 'unchanged', changedKeys: [] });

    writeDefinition({ 'tombstones.on.delete': 'false' });
    const [planned] = await applyConnectors(connect, [file], { dryRun: true });
    expect(planned).toMatchObject({ action: 'updated', changedKeys: ['tombstones.on.delete'] });
    expect(planned?.status).toBeUndefined();
    expect((await connect.connectorConfig(name))?.['tombstones.on.delete']).toBe('true');

    const [updated] = await applyConnectors(connect, [file]);
    expect(updated).toMatchObject({ action: 'updated', changedKeys: ['tombstones.on.delete'] });
    expect(updated?.status?.connector.state).toBe('RUNNING');
    expect((await connect.connectorConfig(name))?.['tombstones.on.delete']).toBe('false');

    const [afterUpdate] = await applyConnectors(connect, [file]);
    expect(afterUpdate?.action).toBe('unchanged');
  });

  it('reports the connector RUNNING with its tasks, worker and a numeric slot lag', async () => {
    // RUNNING comes before the task opens its replication stream: wait until the slot is in use.
    const report = await waitFor(async () => {
      const r = (await connectorStatus(connect, inject('serverUrl'))).find((c) => c.name === name);
      return r?.slot?.active ? r : null;
    });
    expect(report).toMatchObject({
      name,
      type: 'source',
      connectorClass: 'io.debezium.connector.postgresql.PostgresConnector',
      state: 'RUNNING',
      tasks: [{ id: 0, state: 'RUNNING' }],
      slot: { name: slot, database: 'mdm', exists: true, active: true },
    });
    expect(report.workerId).toMatch(/:\d+$/);
    expect(report.tasks[0]?.workerId).toBe(report.workerId);
    expect(report.slot?.error).toBeUndefined();
    expect(typeof report.slot?.lagBytes).toBe('number');
    expect(report.slot?.lagBytes).toBeGreaterThanOrEqual(0);
  });

  it('fails with the task trace and what to do, and restarts the connector once the cause is fixed', async () => {
    // With autocreation off and no such publication, Debezium's task fails as it starts.
    const def = readConnectorDefinition('connectors/debezium/mdm-source.json', {
      ...overrides,
      name: failing.name,
      'topic.prefix': `${prefix}_f`,
      'slot.name': failing.slot,
      'publication.name': failing.pub,
      'publication.autocreate.mode': 'disabled',
    });
    const error = await applyConnectors(connect, [def], { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorApplyError);
    const { message, results } = error as ConnectorApplyError;
    expect(results).toMatchObject([{ name: failing.name, action: 'created' }]);
    expect(results[0]?.status).toBeUndefined();
    expect(message).toContain(`connector ${failing.name}: task 0 FAILED on worker`);
    expect(message).toContain('Publication autocreation is disabled');
    expect(message).toContain('run `npx iot-hub connectors apply` again');
    expect(message).not.toContain('\tat '); // only the trace's first line

    const report = (await connectorStatus(connect, inject('serverUrl'))).find((c) => c.name === failing.name);
    expect(report?.tasks[0]).toMatchObject({
      state: 'FAILED',
      trace: expect.stringContaining('Publication autocreation is disabled'),
    });

    await db.query(`CREATE PUBLICATION ${failing.pub} FOR TABLE ${table}`);
    const [restarted] = await applyConnectors(connect, [def], { timeoutMs: 30_000 });
    expect(restarted).toMatchObject({ action: 'restarted', changedKeys: [] });
    expect(restarted?.status?.tasks.map((t) => t.state)).toEqual(['RUNNING']);
  });

  it('prints status as JSON from the CLI', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line));
    try {
      await cli(['connectors', 'status', '--json']);
    } finally {
      spy.mockRestore();
    }
    const reports = JSON.parse(lines.join('\n')) as ConnectorReport[];
    expect(reports.find((r) => r.name === name)).toMatchObject({ state: 'RUNNING', slot: { name: slot } });
  });

  it('tells the user to run stack up when Connect is not reachable', async () => {
    const config = path.join(dir, 'unreachable.yaml');
    writeFileSync(config, 'connect:\n  url: http://127.0.0.1:9\n');
    await expect(cli(['-c', config, 'connectors', 'status'])).rejects.toThrow(
      'Kafka Connect at http://127.0.0.1:9 is not reachable; run `npx iot-hub stack up`',
    );
    await expect(cli(['-c', config, 'connectors', 'apply', file])).rejects.toThrow(
      'Kafka Connect at http://127.0.0.1:9 is not reachable',
    );
  });

  async function cli(args: string[]): Promise<void> {
    const program = new Command('iot-hub').option('-c, --config <file>').exitOverride();
    registerConnectorsCommand(program);
    await program.parseAsync(args, { from: 'user' });
  }

  async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== null) return value;
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
});
