import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createKnex, createPool, inTransaction } from '../../src/db/index.ts';
import { type RunningIngest, startIngest } from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { loadQualityRules, parametersFor, SeriesMonitor } from '../../src/quality/detectors/index.ts';
import {
  drainAlertOutbox,
  runCalibrationStep,
  runDrift,
  runGapSweep,
  StreamQualityStage,
} from '../../src/quality/index.ts';
import { combineFlags } from '../../src/quality/monitor/index.ts';
import { seedGroupAtEnd, waitForGroupAtEnd } from '../support/ingest-ledger.ts';

// Data-quality monitoring through the real ingest (Kafka → stages → PostgreSQL): flags on readings, dq events
// with hysteresis, alerts, state that survives a restart or a second process, gap sweep, drift without peers.
describe('data-quality monitoring in the pipeline', () => {
  const sfx = randomUUID().slice(0, 8);
  const groupId = `test-dq-${sfx}`;
  const topic = 'telemetry.flatline';
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-dq' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const pool = createPool(config.database.url, { max: 2 });
  const knex = createKnex(config.database.url, { poolMax: 2, name: 'test-dq' });
  const rules = loadQualityRules();
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  let ingest: RunningIngest | null = null;
  const t0 = Date.now() - 6 * 3600_000; // reading times well inside max_lateness, minutes apart
  const fToC = (f: number) => ((f - 32) * 5) / 9;
  // A smooth temperature with small deterministic noise, in °F as Flatline sends it.
  const valueAt = (i: number) => 70 + 2 * Math.sin(i / 5) + ((i * 7919) % 13) / 20;

  const dev = (name: string) => `dq-${name}-${sfx}`;
  async function send(device: string, from: number, to: number, override: Record<number, number> = {}) {
    const producer = kafka.producer();
    await producer.connect();
    const messages = [];
    for (let i = from; i < to; i++)
      messages.push({
        key: device,
        value: JSON.stringify({ dev: device, t: t0 + i * 60_000, temp_f: override[i] ?? valueAt(i) }),
      });
    await producer.send(topic, messages);
    await producer.disconnect();
    await waitForGroupAtEnd(kafka, db, groupId, topic, 60_000);
  }
  const flags = async (device: string) =>
    (
      await db.query<{ ts: Date; q: number }>(
        `SELECT f.reading_ts AS ts, f.quality_code AS q FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk)
         JOIN dw.dim_metric m USING (metric_sk) WHERE d.device_nk = $1 AND m.metric_code = 'temperature' ORDER BY 1`,
        [device],
      )
    ).rows;
  const events = async (device: string) =>
    (
      await db.query<{
        check_name: string;
        severity: string;
        opened_at: Date;
        closed_at: Date | null;
        details: Record<string, unknown>;
      }>(
        `SELECT e.check_name, e.severity, e.opened_at, e.closed_at, e.details FROM dw.fact_dq_event e
         JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk = $1 ORDER BY e.opened_at, e.check_name`,
        [device],
      )
    ).rows;
  /** The flags an uninterrupted run of the detectors gives the same readings (pipeline flag 2). */
  function expectedFlags(n: number, override: Record<number, number> = {}): number[] {
    const monitor = new SeriesMonitor(
      { metric: 'temperature', expectedIntervalS: 60 },
      parametersFor(rules, 'temperature', null),
    );
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = monitor.observe({ ts: t0 + i * 60_000, value: fToC(override[i] ?? valueAt(i)) })!;
      let flag = 2;
      for (const r of o.results) {
        if (r.check === 'spike') {
          if (r.flag === 3 || r.flag === 4) {
            const j = out.length - 1;
            out[j] = combineFlags(out[j]!, r.flag);
          } else flag = combineFlags(flag, r.flag);
        } else flag = combineFlags(flag, r.flag);
      }
      out.push(flag);
    }
    return out;
  }

  beforeAll(async () => {
    await seedGroupAtEnd(kafka, db, groupId);
    await db.query(
      `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_name, area_name, line_name, line_nk, hierarchy_path, valid_from, row_hash, source_system)
       VALUES ($1, 'asset', 'DQ press', 'DQ site', 'Area', 'DQ line', $2, 'dq_site.area.line.press', '2020-01-01', '\\x01', 'test')`,
      [`dq-asset-${sfx}`, `dq-line-${sfx}`],
    );
    // The lonely device sits on an asset of its own line: no peers for drift.
    await db.query(
      `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_name, area_name, line_name, line_nk, hierarchy_path, valid_from, row_hash, source_system)
       VALUES ($1, 'asset', 'DQ pump', 'DQ site', 'Area', 'DQ line 2', $2, 'dq_site.area.line2.pump', '2020-01-01', '\\x01', 'test')`,
      [`dq-asset2-${sfx}`, `dq-line2-${sfx}`],
    );
    for (const name of ['spike', 'restart', 'gap', 'lonely', 'calib'])
      await db.query(
        `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, expected_interval_s, valid_from, row_hash, source_system)
         VALUES ($1, $2, 60, '2020-01-01', '\\x01', 'test')`,
        [dev(name), name === 'lonely' ? `dq-asset2-${sfx}` : `dq-asset-${sfx}`],
      );
    ingest = await startIngest(config, { logger, groupId });
  }, 60_000);

  afterAll(async () => {
    await ingest?.stop();
    await knex.destroy();
    await pool.end();
    await db.end();
  });

  it('flags a spike 4/3 on that reading, opens one dq event that raises an alert, and closes both after the hysteresis', async () => {
    const device = dev('spike');
    const spike = { 40: 300 };
    await send(device, 0, 43, spike);
    const stored = await flags(device);
    expect(stored).toHaveLength(43);
    expect([3, 4]).toContain(stored[40]!.q);
    expect(stored.slice(30, 39).every((r) => r.q === 1)).toBe(true);
    const open = (await events(device)).filter((e) => e.check_name === 'spike');
    expect(open).toHaveLength(1);
    expect(open[0]!.closed_at).toBeNull();
    // The "average" spike test also judges the reading before a spike (|x39 − (x40 + x38) / 2| is large).
    expect(open[0]!.opened_at.getTime()).toBeGreaterThanOrEqual(t0 + 39 * 60_000);
    expect(open[0]!.opened_at.getTime()).toBeLessThanOrEqual(t0 + 40 * 60_000);
    await drainAlertOutbox(knex);
    const alert = await db.query(
      `SELECT status, severity, evidence FROM hub.alert WHERE alert_key = $1 AND status <> 'cleared'`,
      [`${device}:temperature:spike`],
    );
    expect(alert.rows).toHaveLength(1);
    expect(alert.rows[0].evidence.check).toBe('spike');
    expect(alert.rows[0].evidence.excerpt.length).toBeGreaterThan(5);
    expect(alert.rows[0].evidence.parameters.check.failSigma).toBe(8);

    // Passing readings: the event stays open until close_after passes in a row, then closes with its alert.
    await send(device, 43, 60);
    const closed = (await events(device)).filter((e) => e.check_name === 'spike');
    expect(closed).toHaveLength(1);
    expect(closed[0]!.closed_at).not.toBeNull();
    await drainAlertOutbox(knex);
    const cleared = await db.query(
      `SELECT status FROM hub.alert WHERE alert_key = $1 ORDER BY id DESC LIMIT 1`,
      [`${device}:temperature:spike`],
    );
    expect(cleared.rows[0].status).toBe('cleared');
  }, 120_000);

  it('continues the series state over a hub restart: same flags as an uninterrupted run, no event opened twice', async () => {
    const device = dev('restart');
    const spike = { 45: 300 };
    await send(device, 0, 30, spike);
    await ingest!.stop();
    ingest = await startIngest(config, { logger, groupId }); // a fresh process cache
    await send(device, 30, 70, spike);
    const stored = (await flags(device)).map((r) => r.q);
    expect(stored).toEqual(expectedFlags(70, spike));
    const spikes = (await events(device)).filter((e) => e.check_name === 'spike');
    expect(spikes).toHaveLength(1);
  }, 120_000);

  it('two processes handing a series over read the newer state instead of their stale cache', async () => {
    const device = dev('restart');
    const { rows } = await db.query(
      `SELECT d.device_sk, a.asset_sk, m.metric_sk FROM dw.dim_device d, dw.dim_asset a, dw.dim_metric m
       WHERE d.device_nk = $1 AND a.asset_nk = $2 AND m.metric_code = 'temperature'`,
      [device, `dq-asset-${sfx}`],
    );
    const keys = {
      deviceSk: Number(rows[0].device_sk),
      assetSk: Number(rows[0].asset_sk),
      metricSk: rows[0].metric_sk,
    };
    const a = new StreamQualityStage(rules);
    const b = new StreamQualityStage(rules);
    const fact = (i: number) => ({ ...keys, tsMs: t0 + i * 60_000, value: fToC(valueAt(i)), quality: 2 });
    const run = (stage: StreamQualityStage, i: number) =>
      inTransaction(pool, async (client) => {
        const facts = [fact(i)];
        const stats = await stage.assess(client, facts, 0);
        return { stats, quality: facts[0]!.quality };
      });
    // a caches the series, b then writes it twice, a's next batch must notice and read again.
    await run(a, 70);
    await run(b, 71);
    await run(b, 72);
    const handedBack = await run(a, 73);
    expect(handedBack.stats.conflicts).toBe(1);
    // A reading older than what b already saw would be evaluated by a stale cache; with the state re-read,
    // a sees reading 73 after 72: a one-minute interval, no gap.
    const state = await db.query(`SELECT last_ts FROM hub.dq_series_state WHERE device_nk = $1`, [device]);
    expect(state.rows[0].last_ts.getTime()).toBe(t0 + 73 * 60_000);
    expect(handedBack.quality).toBe(1);
  }, 60_000);

  it('opens a gap event for a silent device, and closes it when readings resume after a restart', async () => {
    const device = dev('gap');
    await send(device, 0, 30);
    // 15 minutes of silence past the last reading: > 10 × the 60 s cadence.
    const sweep = await runGapSweep(pool, rules, t0 + 29 * 60_000 + 15 * 60_000);
    expect(sweep.ran).toBe(true);
    const gap = (await events(device)).filter((e) => e.check_name === 'gap');
    expect(gap).toHaveLength(1);
    expect(gap[0]!.closed_at).toBeNull();
    expect(gap[0]!.severity).toBe('fail');
    await ingest!.stop();
    ingest = await startIngest(config, { logger, groupId });
    await send(device, 50, 55);
    const after = (await events(device)).filter((e) => e.check_name === 'gap');
    expect(after).toHaveLength(1);
    expect(after[0]!.closed_at?.getTime()).toBe(t0 + 50 * 60_000);
  }, 120_000);

  it('gives a device without peers no drift verdict', async () => {
    const device = dev('lonely');
    await send(device, 0, 5);
    // Hourly means for the lonely device only (no other temperature sensor on its line).
    const hour = Math.floor(t0 / 3600_000) * 3600_000;
    await db.query(
      `INSERT INTO dw.fact_sensor_hourly (device_sk, asset_sk, metric_sk, hour_start, date_key, time_key, n_expected, n_received, avg_value)
       SELECT d.device_sk, a.asset_sk, m.metric_sk, h, 20261201, 0, 60, 60, 21.5
       FROM dw.dim_device d, dw.dim_asset a, dw.dim_metric m, generate_series($2::timestamptz, $3::timestamptz, interval '1 hour') h
       WHERE d.device_nk = $1 AND a.asset_nk = $4 AND m.metric_code = 'temperature'
       ON CONFLICT DO NOTHING`,
      [device, new Date(hour - 5 * 3600_000), new Date(hour), `dq-asset2-${sfx}`],
    );
    const drift = await runDrift(pool, rules, hour + 2 * 3600_000, 12);
    expect(drift.ran).toBe(true);
    const { rows } = await db.query(
      `SELECT drift_hour, tracker_state FROM hub.dq_series_state s JOIN dw.dim_metric m USING (metric_sk)
       WHERE s.device_nk = $1 AND m.metric_code = 'temperature'`,
      [device],
    );
    expect(rows[0].drift_hour.getTime()).toBe(hour);
    expect(rows[0].tracker_state.checks.drift_cusum).toBeUndefined(); // flag 2: counted neither way
    expect((await events(device)).filter((e) => e.check_name.startsWith('drift'))).toHaveLength(0);
  }, 60_000);

  it('finds the level step across a calibration against the peers on the line, once', async () => {
    const device = dev('calib');
    await send(device, 0, 5);
    const startedAt = Math.floor(t0 / 3600_000) * 3600_000 - 24 * 3600_000;
    const finishedAt = startedAt + 3600_000;
    // Hourly means: three peers on the line with noise; the calibrated device reads like them before and
    // 5 °C higher after (the technician moved its level).
    const rows: [string, number, number][] = [];
    for (let h = -24; h < 25; h++) {
      const hour = startedAt + h * 3600_000;
      if (hour >= startedAt && hour < finishedAt) continue;
      const base = 20 + Math.sin(h / 4);
      for (const [k, p] of ['spike', 'restart', 'gap'].entries())
        rows.push([dev(p), hour, base + ((h * (k + 3)) % 5) / 10]);
      rows.push([device, hour, base + ((h * 7) % 5) / 10 + (hour >= finishedAt ? 5 : 0)]);
    }
    await db.query(
      `INSERT INTO dw.fact_sensor_hourly (device_sk, asset_sk, metric_sk, hour_start, date_key, time_key, n_expected, n_received, avg_value)
       SELECT d.device_sk, a.asset_sk, m.metric_sk, v.hour, 20261201, 0, 60, 60, v.value
       FROM unnest($1::text[], $2::timestamptz[], $3::float8[]) AS v(device, hour, value)
       JOIN dw.dim_device d ON d.device_nk = v.device JOIN dw.dim_asset a ON a.asset_nk = $4
       JOIN dw.dim_metric m ON m.metric_code = 'temperature'
       ON CONFLICT DO NOTHING`,
      [rows.map((r) => r[0]), rows.map((r) => new Date(r[1])), rows.map((r) => r[2]), `dq-asset-${sfx}`],
    );
    await db.query(
      `INSERT INTO dw.fact_maintenance_event (source_system, source_event_id, device_sk, asset_sk, date_key, event_type, status,
         started_at, finished_at, work_order_number)
       SELECT 'test', $1, d.device_sk, a.asset_sk, 20261201, 'calibration', 'completed', $2, $3, $1
       FROM dw.dim_device d, dw.dim_asset a WHERE d.device_nk = $4 AND a.asset_nk = $5`,
      [`WO-dq-${sfx}`, new Date(startedAt), new Date(finishedAt), device, `dq-asset-${sfx}`],
    );
    const now = finishedAt + 25 * 3600_000;
    const first = await runCalibrationStep(pool, rules, now);
    expect(first.ran).toBe(true);
    const step = (await events(device)).filter((e) => e.check_name === 'calibration_step');
    expect(step).toHaveLength(1);
    expect(step[0]!.closed_at).toBeNull();
    expect((step[0]!.details.details as { offset: number }).offset).toBeCloseTo(5, 0);
    await runCalibrationStep(pool, rules, now); // evaluated once: no second event
    expect((await events(device)).filter((e) => e.check_name === 'calibration_step')).toHaveLength(1);
  }, 60_000);
});
