import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { type RunningIngest, startIngest } from '../../src/ingest/index.ts';
import { createKafka, type OutgoingMessage } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import {
  deadLettersSince,
  seedGroupAtEnd,
  startHubProcess,
  waitForGroupAtEnd,
} from '../support/ingest-ledger.ts';
import { TcpFaultProxy } from '../support/tcp-fault-proxy.ts';

// The soak ledger (docs/architecture.md, "Accounting"): the real broker and database, three partitions in
// flight, a reference snapshot trusted for 1 s while the dimensions change every second (new devices, new
// assets, devices moved between assets), a tenth of the batches rolled back by the database, the hub's
// connections reset through a fault proxy and terminated on the server, and a second hub process joining and
// leaving the group. At the end: the exact ledger, lineage that reconciles, and every fact keyed to the device
// and asset versions valid at its reading time. SOAK_SECONDS sets the length (60 in CI; `npm run test:soak`).
const soakSeconds = Number(process.env.SOAK_SECONDS ?? 60);

/**
 * Stops a hub process as an operator does (SIGTERM; SIGKILL if it has not exited 20 s later) and returns how it
 * ended: a process that had already exited on its own crashed.
 */
async function stopChild(child: ChildProcess): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null)
    return `crashed before it was stopped (code ${child.exitCode}, signal ${child.signalCode})`;
  const exited = new Promise<string>((r) =>
    child.once('exit', (code, signal) => r(`code ${code}, signal ${signal}`)),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const how = await exited;
  clearTimeout(timer);
  return how;
}

describe('soak: ingest under dimension churn, rollbacks, connection loss and rebalances', () => {
  const sfx = randomUUID().slice(0, 8);
  const prefix = `soak-${sfx}-`;
  const groupId = `test-soak-${sfx}`;
  const config = loadConfig();
  const databaseUrl = inject('databaseUrl');
  const db = new pg.Pool({ connectionString: databaseUrl });
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-soak' });
  const start: Record<string, number> = {};
  let proxy: TcpFaultProxy;
  let ingest: RunningIngest | null = null;

  beforeAll(async () => {
    Object.assign(start, await seedGroupAtEnd(kafka, db, groupId));
    proxy = await TcpFaultProxy.start({ targetPort: Number(new URL(databaseUrl).port || 5432) });
    // A tenth of the batches fail at their last statement, after facts, dead letters and inferred devices were
    // written: the whole batch must roll back and be retried, and nothing it made may leak into the cache.
    await db.query(`
      CREATE OR REPLACE FUNCTION hub.soak_fail_some_batches() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF random() < 0.1 THEN RAISE EXCEPTION 'soak: batch % rolled back on purpose', NEW.batch_id; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER soak_fail_some_batches BEFORE UPDATE OF finished_at ON hub.lineage
        FOR EACH ROW WHEN (NEW.source LIKE 'kafka:telemetry.acme/%') EXECUTE FUNCTION hub.soak_fail_some_batches();`);
  });

  afterAll(async () => {
    await ingest?.stop().catch(() => {});
    await db.query('DROP TRIGGER IF EXISTS soak_fail_some_batches ON hub.lineage').catch(() => {});
    await proxy?.close();
    await db.end();
  });

  it(
    'ends with the exact ledger and every fact keyed as of its reading time',
    async () => {
      const proxied = new URL(databaseUrl);
      proxied.port = String(proxy.port);
      const hubConfig = { ...config, database: { ...config.database, url: proxied.toString() } };
      hubConfig.kafka = { ...config.kafka, sessionTimeoutMs: 10_000 };
      ingest = await startIngest(hubConfig, {
        logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
        groupId,
        topics: ['telemetry.acme'],
        reference: { maxAgeMs: 1000, checkIntervalMs: 200 },
        partitionsConcurrently: 3,
      });

      // The plant at the start: 6 assets with 5 devices each. Devices come with versions from -infinity, so
      // every reading time has exactly one device version and one asset version.
      const assets: string[] = [];
      const devices: string[] = [];
      const addAsset = async () => {
        const nk = `${prefix}asset-${assets.length}`;
        await db.query(
          `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_nk, site_name, hierarchy_path, valid_from, row_hash, source_system)
           VALUES ($1, 'asset', $1, $2, 'Soak site', $3, '-infinity', '\\x01', 'soak')`,
          [nk, `${prefix}site`, `soak.a${assets.length}`],
        );
        assets.push(nk);
      };
      const addDevice = async () => {
        const nk = `${prefix}dev-${devices.length}`;
        await db.query(
          `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, valid_from, row_hash, source_system)
           VALUES ($1, $2, '-infinity', '\\x01', 'soak')`,
          [nk, assets[devices.length % assets.length]],
        );
        devices.push(nk);
      };
      const moveDevice = async (nk: string, asset: string) => {
        const c = await db.connect();
        try {
          await c.query('BEGIN');
          const { rows } = await c.query(
            `UPDATE dw.dim_device SET valid_to = now(), is_current = false
             WHERE device_nk = $1 AND is_current RETURNING serial_number`,
            [nk],
          );
          if (rows.length === 1)
            await c.query(
              `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, valid_from, row_hash, source_system)
               VALUES ($1, $2, now(), '\\x02', 'soak')`,
              [nk, asset],
            );
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        } finally {
          c.release();
        }
      };
      for (let i = 0; i < 6; i++) await addAsset();
      for (let i = 0; i < 30; i++) await addDevice();

      // Readings are stamped 10 s before they are sent, as a buffering gateway does: a device moved at time T
      // is then only ever read with times before T until well after the hub learnt of the move.
      const expected = new Set<string>();
      let invalid = 0;
      let messages = 0;
      let seq = 0;
      const producer = kafka.producer();
      await producer.connect();
      const metrics = ['TEMP', 'VIB', 'PRESS'];
      const send = async () => {
        const batch: OutgoingMessage[] = [];
        const ts = Date.now() - 10_000;
        for (let i = 0; i < 40; i++) {
          seq += 1;
          // Most readings come from MDM devices; some from devices MDM has never heard of (inferred members).
          const device =
            seq % 11 === 0
              ? `${prefix}stray-${seq % 7}`
              : devices[Math.floor(Math.random() * devices.length)]!;
          const at = ts + i; // one reading time per message and device: unique keys unless re-sent on purpose
          if (seq % 50 === 0) {
            batch.push({ key: device, value: '{"schema":"acme.telemetry","v":2,' });
            invalid += 1;
            continue;
          }
          const readings = metrics.map((m) => ({
            m,
            v: 20 + (seq % 10),
            u: m === 'TEMP' ? 'degC' : m === 'VIB' ? 'mm/s' : 'kPa',
          }));
          const value = JSON.stringify({
            schema: 'acme.telemetry',
            v: 2,
            deviceId: device,
            ts: new Date(at).toISOString(),
            readings,
          });
          batch.push({ key: device, value });
          // A device re-send now and then: same keys, counted as duplicates.
          if (seq % 17 === 0) batch.push({ key: device, value });
          for (const m of ['temperature', 'vibration', 'pressure']) expected.add(`${device}|${m}|${at}`);
        }
        messages += batch.length;
        await producer.send('telemetry.acme', batch);
      };

      const deadline = Date.now() + soakSeconds * 1000;
      let second: ReturnType<typeof startHubProcess> | null = null;
      let secondExit = 'never started';
      let tick = 0;
      while (Date.now() < deadline) {
        tick += 1;
        await send();
        await send();
        // Dimension churn every second.
        if (tick % 2 === 0) {
          if (tick % 6 === 0) await addAsset();
          await addDevice();
          await moveDevice(devices[tick % devices.length]!, assets[(tick * 7) % assets.length]!);
        }
        // Connection loss: the proxy resets every connection, or the server terminates the hub's sessions,
        // or a lossy phase resets connections at random.
        if (tick % 10 === 3) proxy.cutAll();
        if (tick % 10 === 7)
          await db.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'iot-hub-ingest' AND pid <> pg_backend_pid()",
          );
        if (tick % 20 === 10) proxy.setResetPerSecond(0.3);
        if (tick % 20 === 15) proxy.setResetPerSecond(0);
        // A second hub process joins the group for a while and leaves it (cleanly).
        if (tick === 16) second = startHubProcess(databaseUrl, groupId);
        if (tick === 60 && second) {
          secondExit = await stopChild(second);
          second = null;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      proxy.setResetPerSecond(0);
      if (second) secondExit = await stopChild(second);
      // The second hub saw the same terminated connections and resets: it must have stopped cleanly, not crashed.
      expect(secondExit).toBe('code 0, signal null');
      await producer.disconnect();

      // Wait for the positive signal: the group's stored offsets reach the end of every partition.
      await waitForGroupAtEnd(kafka, db, groupId, 'telemetry.acme', 150_000);

      // The exact ledger: every unique valid reading once, every invalid message one dead letter.
      const { rows: facts } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk)
         WHERE d.device_nk LIKE $1`,
        [`${prefix}%`],
      );
      expect(facts[0]!.n).toBe(expected.size);
      // This test's letters: its messages are keyed by device (other tests' leftovers may share the topic).
      const letters = (await deadLettersSince(db, start)).filter((l) =>
        l.message_key?.toString().startsWith(prefix),
      );
      expect(letters.length).toBe(invalid);

      const acmeStart = Object.fromEntries(
        Object.entries(start)
          .filter(([k]) => k.startsWith('telemetry.acme/'))
          .map(([k, v]) => [k.split('/')[1], v]),
      );
      // Lineage reconciles: each message in exactly one committed batch, readings = loaded + duplicates + dropped.
      const { rows: lineage } = await db.query(
        `SELECT sum(messages_in)::int AS messages, sum(messages_dead_letter)::int AS dead,
                sum(rows_in)::int AS readings, sum(rows_out)::int AS loaded, sum(rows_duplicate)::int AS duplicates,
                sum(rows_dead_letter)::int AS dropped
         FROM hub.lineage l WHERE source LIKE 'kafka:telemetry.acme/%' AND finished_at IS NOT NULL
           AND (details -> 'offsets' ->> 'from')::bigint >= (($1::jsonb) ->> split_part(source, '/', 2))::bigint`,
        [JSON.stringify(acmeStart)],
      );
      const l = lineage[0]!;
      expect(l.messages).toBe(messages);
      expect(l.dead).toBe(invalid);
      expect(l.loaded).toBe(expected.size);
      expect(l.readings).toBe(l.loaded + l.duplicates + l.dropped);
      expect(l.dropped).toBe(0);

      // Every fact keyed to the versions valid at its reading time.
      const { rows: wrong } = await db.query(
        `SELECT d.device_nk, f.reading_ts, f.device_sk, f.asset_sk FROM dw.fact_sensor_reading f
         JOIN dw.dim_device d ON d.device_sk = f.device_sk
         WHERE d.device_nk LIKE $1 AND NOT (
           f.reading_ts >= d.valid_from AND f.reading_ts < d.valid_to
           AND f.asset_sk = coalesce((SELECT a.asset_sk FROM dw.dim_asset a WHERE a.asset_nk = d.installed_asset_nk
                                        AND f.reading_ts >= a.valid_from AND f.reading_ts < a.valid_to), -1))
         LIMIT 5`,
        [`${prefix}%`],
      );
      expect(wrong).toEqual([]);
      // Facts of MDM devices all have their asset; only the strays (inferred, no asset) have -1.
      const { rows: unknownAsset } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk)
         WHERE d.device_nk LIKE $1 AND d.device_nk NOT LIKE $2 AND f.asset_sk = -1`,
        [`${prefix}%`, `${prefix}stray-%`],
      );
      expect(unknownAsset[0]!.n).toBe(0);
      // The faults really happened.
      expect(proxy.counters.resets).toBeGreaterThan(0);
      const { rows: inferred } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM dw.dim_device WHERE device_nk LIKE $1 AND is_inferred',
        [`${prefix}stray-%`],
      );
      expect(inferred[0]!.n).toBe(7);
    },
    (soakSeconds + 300) * 1000,
  );
});
