import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyChangeBatch, type CdcDimension, loadCdcDimensions } from '../../src/cdc/index.ts';
import type { HubMessage } from '../../src/kafka/index.ts';
import {
  correctFactAssets,
  type FactReading,
  loadReadings,
  mergeDimension,
  recomputeDirtyHours,
} from '../../src/warehouse/index.ts';

// Late-arriving dimension rows corrected in the facts (src/warehouse/fact-correction.ts), against the real
// PostgreSQL: readings loaded under an inferred device or before their asset existed get the asset valid at
// their reading time once MDM tells; a move reported late re-keys only the readings from the move on.
describe('fact correction after late dimension rows', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  const sfx = randomUUID().slice(0, 8);
  const nk = (s: string) => `fc-${sfx}-${s}`;
  const dims = new Map<string, CdcDimension>(loadCdcDimensions().map((d) => [d.target.table, d]));
  let metricSk = 0;
  let lsn = 9_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
  let offset = 0;
  const hour = (h: number, m = 0) => Date.UTC(2026, 10, 10, h, m);

  afterAll(() => db.end());

  beforeAll(async () => {
    const { rows } = await db.query<{ metric_sk: number }>(
      'SELECT metric_sk FROM dw.dim_metric WHERE metric_sk > 0 ORDER BY metric_sk LIMIT 1',
    );
    metricSk = rows[0]!.metric_sk;
  });

  /** Runs `fn` in a transaction of its own, as the CDC and ingest stages do. */
  const tx = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  };

  /** A Debezium change event of an MDM table, as Connect writes it; each call has a later position. */
  const event = (table: 'device' | 'asset', op: 'c' | 'u', after: Record<string, unknown>): HubMessage => {
    lsn += 1000;
    const id = table === 'device' ? after.device_id : after.asset_id;
    const source = {
      connector: 'postgresql',
      name: 'mdm',
      ts_ms: Date.parse(String(after.updated_at)),
      db: 'mdm',
      schema: 'public',
      table,
      lsn: lsn + 8,
      sequence: JSON.stringify([String(lsn), String(lsn + 8)]),
    };
    return {
      topic: `mdm.public.${table}`,
      partition: 0,
      offset: String(offset++),
      key: Buffer.from(JSON.stringify({ id })),
      value: Buffer.from(JSON.stringify({ before: null, after, source, op, ts_ms: source.ts_ms })),
      headers: {},
      timestamp: Date.now(),
    };
  };
  const device = (id: string, assetId: string | null, updatedAt: string) =>
    event('device', 'u', {
      device_id: id,
      asset_id: assetId,
      model: 'TX-300',
      firmware_version: '1.0',
      lifecycle_status: 'active',
      expected_interval_s: 600,
      updated_at: updatedAt,
    });
  const asset = (id: string) =>
    event('asset', 'c', {
      asset_id: id,
      level: 'asset',
      name: `Pump ${id}`,
      criticality: 'high',
      updated_at: '2026-01-01T00:00:00Z',
    });
  const apply = (table: 'dw.dim_device' | 'dw.dim_asset', ...messages: HubMessage[]) =>
    tx((client) => applyChangeBatch(client, dims.get(table)!, messages));

  const inferDevice = async (id: string) => {
    const { rows } = await db.query<{ device_sk: string }>(
      `INSERT INTO dw.dim_device (device_nk, valid_from, is_inferred, lifecycle_status, row_hash, source_system)
       VALUES ($1, '-infinity', true, 'inferred', '\\x00', 'hub-ingest') RETURNING device_sk`,
      [id],
    );
    return Number(rows[0]!.device_sk);
  };
  const assetSk = async (id: string) =>
    Number(
      (await db.query('SELECT asset_sk FROM dw.dim_asset WHERE asset_nk = $1 AND is_current', [id])).rows[0]
        .asset_sk,
    );
  /** Readings every 10 minutes from `fromMs` to `toMs` (exclusive), loaded by the fact loader. */
  const load = (deviceSk: number, assetSkAtLoad: number, fromMs: number, toMs: number) =>
    tx(async (client) => {
      const { rows } = await client.query(
        `INSERT INTO hub.lineage (source, target_table) VALUES ('test:fact-correction', 'dw.fact_sensor_reading')
         RETURNING batch_id`,
      );
      const readings: FactReading[] = [];
      for (let ts = fromMs; ts < toMs; ts += 600_000)
        readings.push({
          deviceSk,
          assetSk: assetSkAtLoad,
          metricSk,
          tsMs: ts,
          value: ts / 1e9,
          quality: 1,
          mappingId: 'test',
          mappingVersion: 1,
          topic: null,
          partition: null,
          offset: null,
        });
      await loadReadings(client, Number(rows[0].batch_id), readings);
      return readings.length;
    });
  /** The asset_sk of each fact of the device's versions, by reading time. */
  const factAssets = async (deviceNk: string) =>
    (
      await db.query<{ ts: string; asset_sk: number }>(
        `SELECT to_char(f.reading_ts AT TIME ZONE 'UTC', 'HH24:MI') AS ts, f.asset_sk::int AS asset_sk
         FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk)
         WHERE d.device_nk = $1 ORDER BY f.reading_ts`,
        [deviceNk],
      )
    ).rows;
  const lineage = async (deviceNk: string) =>
    (
      await db.query(
        `SELECT rows_in, rows_out, rows_duplicate, rows_dead_letter, finished_at IS NOT NULL AS finished
         FROM hub.lineage WHERE source = 'cdc:correction' AND details->'device_nks' ? $1`,
        [deviceNk],
      )
    ).rows;

  it('gives the facts of an inferred device its asset once MDM completes it, and recomputes their hours', async () => {
    const pump = nk('pump-1');
    const dev = nk('dev-1');
    await apply('dw.dim_asset', asset(pump));
    const pumpSk = await assetSk(pump);
    const deviceSk = await inferDevice(dev);
    // Three hours of readings loaded while the device was only known from telemetry: asset unknown.
    const loaded = await load(deviceSk, -1, hour(8), hour(11));
    expect(loaded).toBe(18);
    // The MDM row completes the inferred member in place, naming the pump, inside the CDC batch's transaction.
    lsn += 1000;
    const completion = dims
      .get('dw.dim_device')!
      .mapping.map(
        { device_id: dev, asset_id: pump, lifecycle_status: 'active', updated_at: '2026-11-01T00:00:00Z' },
        { op: 'c', commit_lsn: lsn, lsn: lsn + 8 },
      );
    expect(completion.deadLetter).toBeNull();
    const outcome = await tx(async (client) => {
      const merged = await mergeDimension(client, dims.get('dw.dim_device')!.target, completion.rows);
      expect(merged).toMatchObject({ completed: 1, keys: { completed: [dev] } });
      // Small batches: the keyset walk over the primary key must visit every fact exactly once.
      return correctFactAssets(client, { deviceNks: merged.keys.completed, batchSize: 5 });
    });
    expect(outcome).toEqual({ updated: 18, hours: 3 });
    const facts = await factAssets(dev);
    expect(facts).toHaveLength(18);
    expect(facts.every((f) => f.asset_sk === pumpSk)).toBe(true);
    expect(await lineage(dev)).toEqual([
      { rows_in: 18, rows_out: 18, rows_duplicate: 0, rows_dead_letter: 0, finished: true },
    ]);
    // The hourly rollup is recomputed from the corrected facts (by this call or a concurrent test's).
    await recomputeDirtyHours(db, { settleMs: 0, limit: 100_000 });
    const { rows: hourly } = await db.query(
      `SELECT asset_sk::int AS asset_sk, n_received FROM dw.fact_sensor_hourly WHERE device_sk = $1
       ORDER BY hour_start`,
      [deviceSk],
    );
    expect(hourly).toEqual([
      { asset_sk: pumpSk, n_received: 6 },
      { asset_sk: pumpSk, n_received: 6 },
      { asset_sk: pumpSk, n_received: 6 },
    ]);
    // A second run finds nothing to correct and records nothing.
    expect(await tx((client) => correctFactAssets(client, { deviceNks: [dev] }))).toEqual({
      updated: 0,
      hours: 0,
    });
    expect(await lineage(dev)).toHaveLength(1);
  });

  it('re-keys only the readings from a late-reported move on; earlier ones keep the old asset', async () => {
    const [pumpA, pumpB, dev] = [nk('pump-a'), nk('pump-b'), nk('dev-2')];
    await apply('dw.dim_asset', asset(pumpA), asset(pumpB));
    const [aSk, bSk] = [await assetSk(pumpA), await assetSk(pumpB)];
    await apply('dw.dim_device', device(dev, pumpA, '2026-01-01T00:00:00Z'));
    const { rows } = await db.query('SELECT device_sk FROM dw.dim_device WHERE device_nk = $1', [dev]);
    // Readings 08:00–09:50, all loaded on pump A: MDM has not told of the move yet.
    await load(Number(rows[0].device_sk), aSk, hour(8), hour(10));
    // The device moved to pump B at 09:00; MDM reports it afterwards. The CDC batch corrects the facts.
    const moved = await apply('dw.dim_device', device(dev, pumpB, '2026-11-10T09:00:00Z'));
    expect(moved).toMatchObject({ versioned: 1 });
    const facts = await factAssets(dev);
    expect(facts).toHaveLength(12);
    expect(facts.filter((f) => f.ts < '09:00').map((f) => f.asset_sk)).toEqual(Array(6).fill(aSk));
    expect(facts.filter((f) => f.ts >= '09:00').map((f) => f.asset_sk)).toEqual(Array(6).fill(bSk));
    expect(await lineage(dev)).toMatchObject([{ rows_in: 6, rows_out: 6 }]);
  });

  it('gives readings loaded before their asset existed that asset when the asset arrives', async () => {
    const [pump, dev] = [nk('pump-late'), nk('dev-3')];
    // The device names a pump MDM has not sent yet: its readings load with the unknown asset.
    await apply('dw.dim_device', device(dev, pump, '2026-01-01T00:00:00Z'));
    const { rows } = await db.query('SELECT device_sk FROM dw.dim_device WHERE device_nk = $1', [dev]);
    await load(Number(rows[0].device_sk), -1, hour(12), hour(13));
    expect((await factAssets(dev)).map((f) => f.asset_sk)).toEqual(Array(6).fill(-1));
    await apply('dw.dim_asset', asset(pump));
    const pumpSk = await assetSk(pump);
    expect((await factAssets(dev)).map((f) => f.asset_sk)).toEqual(Array(6).fill(pumpSk));
    expect(await lineage(dev)).toMatchObject([{ rows_in: 6, rows_out: 6 }]);
  });
});
