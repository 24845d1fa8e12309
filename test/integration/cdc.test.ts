import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConnectClient, type RunningCdc, readConnectorDefinition, startCdc } from '../../src/cdc/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { mdmDatabaseUrl, migrateMdm, runningProcess, stackPaths, stackUp } from '../../src/devtools/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { createLogger, metricsRegistry } from '../../src/observability/index.ts';
import { dropTopics } from '../support/ingest-ledger.ts';

// MDM → Debezium (real Connect) → the hub's CDC stage → SCD2 dimensions: inserts, tracked and type-1 updates,
// the asset hierarchy, a connector restart that re-sends changes (no duplicate versions), and a delete.
describe('CDC: MDM devices and assets into dw.dim_device and dw.dim_asset', () => {
  const sfx = randomUUID().replaceAll('-', '').slice(0, 8);
  const prefix = `test_cdc_${sfx}`;
  const name = `test-cdc-${sfx}`;
  const slot = `test_cdc_slot_${sfx}`;
  const publication = `test_cdc_pub_${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const connect = new ConnectClient(inject('connectUrl'));
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-cdc' });
  const mdm = new pg.Pool({ connectionString: mdmDatabaseUrl(inject('serverUrl')), max: 2 });
  const dw = new pg.Pool({ connectionString: config.database.url, max: 2 });
  let cdc: RunningCdc | null = null;
  let def: ReturnType<typeof readConnectorDefinition>;
  const id = (s: string) => `${s}-${sfx}`;

  const asset = (assetId: string, parent: string | null, level: string, assetName: string) =>
    mdm.query(
      `INSERT INTO public.asset (asset_id, parent_id, level, name, criticality, status)
       VALUES ($1, $2, $3, $4, 'high', 'active')`,
      [assetId, parent, level, assetName],
    );

  const device = (deviceId: string) =>
    mdm.query(
      `INSERT INTO public.device (device_id, serial_number, vendor, manufacturer, model, firmware_version,
         primary_metric, measurement_unit, range_min, range_max, resolution, metrics, metric_specs,
         expected_interval_s, calibration_interval_days)
       VALUES ($1, $1, 'acme', 'Acme', 'TX-1', '1.0', 'temperature', 'Cel', -40, 125, 0.1, '{temperature}',
               '{"temperature": {"unit": "Cel"}}', 10, 365)`,
      [deviceId],
    );

  beforeAll(async () => {
    await migrateMdm(inject('serverUrl'));
    await asset(id('probe'), null, 'site', 'Probe site');
    // In MDM before the connector starts without a snapshot: the dimension never hears of their inserts.
    await device(id('pre'));
    await device(id('pre-gone'));
    def = readConnectorDefinition('connectors/debezium/mdm-source.json', {
      name,
      'topic.prefix': prefix,
      'slot.name': slot,
      'publication.name': publication,
      // Kept across the connector restart below, as in production; afterAll drops it.
      'slot.drop.on.stop': 'false',
      // Only changes from now on: the shared mdm database may hold other runs' rows.
      'snapshot.mode': 'no_data',
    });
    await connect.putConnector(def);
    await connect.waitRunning(name);
    cdc = await startCdc(config, {
      logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      groupId: `test-cdc-${sfx}`,
      topicPrefix: prefix,
    });
    // Streaming starts a moment after RUNNING: touch the probe until its change arrives (the positive signal).
    await until(async () => {
      await mdm.query('UPDATE public.asset SET name = $2, updated_at = now() WHERE asset_id = $1', [
        id('probe'),
        `Probe ${Date.now()}`,
      ]);
      return (await rows('SELECT 1 FROM dw.dim_asset WHERE asset_nk = $1', [id('probe')])).length > 0;
    }, 60_000);
  }, 180_000);

  afterAll(async () => {
    await cdc?.stop();
    await connect.deleteConnector(name).catch(() => {});
    await new Promise((r) => setTimeout(r, 1000));
    await mdm
      .query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
        [slot],
      )
      .catch(() => {});
    await mdm.query(`DROP PUBLICATION IF EXISTS ${publication}`).catch(() => {});
    // startCdc creates every CDC mapping topic under its prefix, the work orders too.
    await dropTopics(kafka, [
      `${prefix}.public.device`,
      `${prefix}.public.asset`,
      `${prefix}.public.work_order`,
    ]);
    await mdm.end();
    await dw.end();
  });

  async function rows(sql: string, params: unknown[]) {
    return (await dw.query(sql, params)).rows;
  }

  it('applies inserts with the hierarchy, versions tracked changes, survives a connector restart, closes on delete', async () => {
    // Children before parents within one transaction (deferred FK): the hierarchy is rebuilt after each batch.
    const c = await mdm.connect();
    try {
      await c.query('BEGIN');
      await c.query(
        `INSERT INTO public.asset (asset_id, parent_id, level, name, status) VALUES
           ($1, $2, 'line', 'Line 1', 'active'), ($2, $3, 'area', 'Area 1', 'active'), ($3, NULL, 'site', 'Site One', 'active')`,
        [id('line'), id('area'), id('site')],
      );
      await c.query(
        `INSERT INTO public.device (device_id, serial_number, vendor, manufacturer, model, firmware_version, asset_id,
           primary_metric, measurement_unit, range_min, range_max, resolution, metrics, metric_specs,
           expected_interval_s, calibration_interval_days)
         VALUES ($1, $2, 'acme', 'Acme', 'TX-1', '1.0', $3, 'temperature', 'Cel', -40, 125, 0.1, '{temperature}',
                 '{"temperature": {"unit": "Cel"}}', 10, 365)`,
        [id('dev'), `SN-${sfx}`, id('line')],
      );
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    // Devices and assets are two topics, applied independently: wait for both.
    await until(
      async () =>
        (await rows('SELECT 1 FROM dw.dim_device WHERE device_nk = $1', [id('dev')])).length > 0 &&
        (await rows('SELECT 1 FROM dw.dim_asset WHERE asset_nk = $1 AND site_name IS NOT NULL', [id('line')]))
          .length > 0,
      60_000,
    );
    const [line] = await rows(
      'SELECT site_nk, site_name, area_name, line_name, hierarchy_path::text AS path FROM dw.dim_asset WHERE asset_nk = $1 AND is_current',
      [id('line')],
    );
    expect(line).toMatchObject({
      site_nk: id('site'),
      site_name: 'Site One',
      area_name: 'Area 1',
      line_name: 'Line 1',
    });
    expect(line.path.split('.')).toHaveLength(3);
    const closure = await rows(
      'SELECT ancestor_asset_nk, depth_from_ancestor FROM dw.bridge_asset_hierarchy WHERE descendant_asset_nk = $1 ORDER BY 2',
      [id('line')],
    );
    expect(closure.map((r) => [r.ancestor_asset_nk, r.depth_from_ancestor])).toEqual([
      [id('line'), 0],
      [id('area'), 1],
      [id('site'), 2],
    ]);

    // A firmware update opens a new version; a serial number correction rewrites every version in place.
    await mdm.query(
      "UPDATE public.device SET firmware_version = '2.0', updated_at = now() WHERE device_id = $1",
      [id('dev')],
    );
    await mdm.query('UPDATE public.device SET serial_number = $2, updated_at = now() WHERE device_id = $1', [
      id('dev'),
      `SN2-${sfx}`,
    ]);
    await until(
      async () =>
        (
          await rows('SELECT 1 FROM dw.dim_device WHERE device_nk = $1 AND serial_number = $2', [
            id('dev'),
            `SN2-${sfx}`,
          ])
        ).length === 2,
      60_000,
    );
    const versionsBefore = await rows(
      'SELECT firmware_version, is_current, serial_number FROM dw.dim_device WHERE device_nk = $1 ORDER BY valid_from',
      [id('dev')],
    );
    expect(versionsBefore).toEqual([
      { firmware_version: '1.0', is_current: false, serial_number: `SN2-${sfx}` },
      { firmware_version: '2.0', is_current: true, serial_number: `SN2-${sfx}` },
    ]);

    // Restarting the connector and its task makes Debezium resume from its last flushed offset and send
    // changes again; the (commit LSN, LSN) guard keeps every version as it was.
    await connect.restartConnector(name, false);
    await connect.waitRunning(name);
    await mdm.query(
      "UPDATE public.device SET lifecycle_status = 'maintenance', updated_at = now() WHERE device_id = $1",
      [id('dev')],
    );
    await until(
      async () =>
        (
          await rows(
            "SELECT 1 FROM dw.dim_device WHERE device_nk = $1 AND lifecycle_status = 'maintenance'",
            [id('dev')],
          )
        ).length > 0,
      90_000,
    );
    const versionsAfter = await rows(
      'SELECT firmware_version, lifecycle_status FROM dw.dim_device WHERE device_nk = $1 ORDER BY valid_from',
      [id('dev')],
    );
    expect(versionsAfter).toEqual([
      { firmware_version: '1.0', lifecycle_status: 'active' },
      { firmware_version: '2.0', lifecycle_status: 'active' },
      { firmware_version: '2.0', lifecycle_status: 'maintenance' },
    ]);

    // Kafka Connect killed mid-stream (kill -9: no offset flush on the way out) and started again: Debezium resumes
    // from its last flushed offset and re-sends what came after it; still no duplicate version.
    const connectProcess = runningProcess(stackPaths(), 'connect');
    expect(connectProcess, 'the stack runs Kafka Connect').not.toBeNull();
    await mdm.query(
      "UPDATE public.device SET firmware_version = '3.0', updated_at = now() WHERE device_id = $1",
      [id('dev')],
    );
    process.kill(connectProcess!.pid, 'SIGKILL');
    await until(async () => runningProcess(stackPaths(), 'connect') === null, 30_000);
    await stackUp(config, () => {});
    // A standalone worker keeps connector configs in memory only: apply it again, as `connectors apply` does.
    // Its source offsets are on disk, so Debezium resumes from the last flushed one.
    await connect.putConnector(def);
    await connect.waitRunning(name, 120_000);
    await mdm.query(
      "UPDATE public.device SET lifecycle_status = 'active', updated_at = now() WHERE device_id = $1",
      [id('dev')],
    );
    await until(
      async () =>
        (
          await rows(
            "SELECT 1 FROM dw.dim_device WHERE device_nk = $1 AND is_current AND lifecycle_status = 'active' AND firmware_version = '3.0'",
            [id('dev')],
          )
        ).length > 0,
      120_000,
    );
    expect(
      await rows(
        'SELECT firmware_version, lifecycle_status FROM dw.dim_device WHERE device_nk = $1 ORDER BY valid_from',
        [id('dev')],
      ),
    ).toEqual([
      { firmware_version: '1.0', lifecycle_status: 'active' },
      { firmware_version: '2.0', lifecycle_status: 'active' },
      { firmware_version: '2.0', lifecycle_status: 'maintenance' },
      { firmware_version: '3.0', lifecycle_status: 'maintenance' },
      { firmware_version: '3.0', lifecycle_status: 'active' },
    ]);

    // A delete in MDM closes the current version.
    await mdm.query('DELETE FROM public.device WHERE device_id = $1', [id('dev')]);
    await until(
      async () =>
        (await rows('SELECT 1 FROM dw.dim_device WHERE device_nk = $1 AND is_current', [id('dev')]))
          .length === 0,
      60_000,
    );
    expect(
      await rows('SELECT count(*)::int AS n FROM dw.dim_device WHERE device_nk = $1', [id('dev')]),
    ).toEqual([{ n: 5 }]);
  }, 300_000);

  it('an update before its insert, a delete of an unknown key and a column added in MDM: applied by policy, counted in /metrics', async () => {
    const column = `test_note_${sfx}`;
    try {
      await mdm.query(
        "UPDATE public.device SET firmware_version = '1.1', updated_at = now() WHERE device_id = $1",
        [id('pre')],
      );
      await mdm.query('DELETE FROM public.device WHERE device_id = $1', [id('pre-gone')]);
      await mdm.query(`ALTER TABLE public.device ADD COLUMN ${column} text`);
      await mdm.query(
        `UPDATE public.device SET ${column} = 'new column', firmware_version = '1.2', updated_at = now() WHERE device_id = $1`,
        [id('pre')],
      );
      await until(
        async () =>
          (
            await rows(
              "SELECT 1 FROM dw.dim_device WHERE device_nk = $1 AND is_current AND firmware_version = '1.2'",
              [id('pre')],
            )
          ).length > 0,
        60_000,
      );
      // The update of an unknown key became its first version (from -infinity); the next update versioned it.
      expect(
        await rows(
          "SELECT firmware_version, valid_from = '-infinity' AS from_start FROM dw.dim_device WHERE device_nk = $1 ORDER BY valid_from",
          [id('pre')],
        ),
      ).toEqual([
        { firmware_version: '1.1', from_start: true },
        { firmware_version: '1.2', from_start: false },
      ]);
      expect(await rows('SELECT 1 FROM dw.dim_device WHERE device_nk = $1', [id('pre-gone')])).toEqual([]);
      const metrics = await metricsRegistry.metrics();
      const value = (name: string, labels: string) =>
        Number(metrics.match(new RegExp(`^${name}\\{${labels}[^}]*\\} (\\d+)`, 'm'))?.[1] ?? 0);
      const topic = `topic="${prefix}.public.device"`;
      expect(value('iot_hub_cdc_changes_total', `${topic},outcome="orphanUpdates"`)).toBe(1);
      expect(value('iot_hub_cdc_changes_total', `${topic},outcome="unknownDeletes"`)).toBe(1);
      expect(value('iot_hub_cdc_mapping_warnings_total', `${topic},code="UNKNOWN_FIELD"`)).toBe(1);
    } finally {
      await mdm.query(`ALTER TABLE public.device DROP COLUMN IF EXISTS ${column}`);
    }
  }, 120_000);

  it('a hub killed mid-apply and started again ends with the same dimensions as an uninterrupted run', async () => {
    // This file's in-process stage stops; hub processes of a new group take over (from the topic's start, so
    // everything the first test applied comes again and must change nothing).
    await cdc?.stop();
    cdc = null;
    const devices = Array.from({ length: 20 }, (_, i) => id(`kill-${i}`));
    for (const d of devices)
      await mdm.query(
        `INSERT INTO public.device (device_id, serial_number, vendor, manufacturer, model, firmware_version,
           primary_metric, measurement_unit, range_min, range_max, resolution, metrics, metric_specs,
           expected_interval_s, calibration_interval_days)
         VALUES ($1, $1, 'acme', 'Acme', 'TX-1', '0', 'temperature', 'Cel', -40, 125, 0.1, '{temperature}',
                 '{"temperature": {"unit": "Cel"}}', 10, 365)`,
        [d],
      );
    // Ten firmware versions each, one transaction per change: 200 changes after the 20 inserts.
    for (let v = 1; v <= 10; v++)
      for (const d of devices)
        await mdm.query(
          'UPDATE public.device SET firmware_version = $2, updated_at = now() WHERE device_id = $1',
          [d, String(v)],
        );
    const group = `test-cdc-kill-${sfx}`;
    const applied = async () =>
      (await rows('SELECT count(*)::int AS n FROM dw.dim_device WHERE device_nk = ANY($1)', [devices]))[0]
        .n as number;
    const first = await startChild(group);
    // Positive signal: part of the stream applied (any version of these devices), then kill -9.
    await until(async () => (await applied()) > 0, 60_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const second = await startChild(group);
    try {
      await until(async () => (await applied()) === devices.length * 11, 120_000);
      const perDevice = await rows(
        `SELECT device_nk, count(*)::int AS versions, count(*) FILTER (WHERE is_current)::int AS current,
                max(firmware_version) FILTER (WHERE is_current) AS firmware
         FROM dw.dim_device WHERE device_nk = ANY($1) GROUP BY 1`,
        [devices],
      );
      expect(perDevice).toHaveLength(devices.length);
      for (const r of perDevice) expect(r).toMatchObject({ versions: 11, current: 1, firmware: '10' });
      // The first test's device kept its five versions through the replay from the topic's start.
      expect(
        (await rows('SELECT count(*)::int AS n FROM dw.dim_device WHERE device_nk = $1', [id('dev')]))[0].n,
      ).toBe(5);
    } finally {
      second.kill('SIGTERM');
      await new Promise((r) => second.once('exit', r));
    }
  }, 300_000);

  function startChild(group: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['test/support/cdc-child.ts', config.database.url, prefix, group], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve(child);
      });
      child.once('exit', (code) =>
        reject(new Error(`the CDC child exited with ${code} before it was ready`)),
      );
    });
  }
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the change to be applied');
    await new Promise((r) => setTimeout(r, 250));
  }
}
