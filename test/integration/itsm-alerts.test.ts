import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createKnex, type Knex } from '../../src/db/index.ts';
import { knexAlertStore } from '../../src/quality/alert-store.ts';
import {
  type AlertEngine,
  type AlertReading,
  alertKey,
  createAlertEngine,
  parseAlertRules,
  raiseAlerts,
} from '../../src/quality/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';

// The alert engine against the real PostgreSQL: threshold rules over the device's range with
// flapping suppression, escalation, heartbeat loss, and maintenance suppression from dw.fact_maintenance_event.
// Its own database, shared with itsm-tickets.test.ts (files run one at a time; each recreates it).

let knex: Knex;

const rules = parseAlertRules(`
rules:
  - name: temperature_high
    kind: threshold
    metric: temperature
    above: device.range_max
    for: 5m
    clear_for: 2m
    hysteresis: 2
    severity: warn
    escalate: { margin: 10, after: 30m }
  - name: heartbeat_lost
    kind: heartbeat
    missed_intervals: 3
    severity: warn
`);

const base = Date.now() - 6 * 3_600_000; // readings in the past, maintenance windows around them
const at = (minutes: number) => new Date(base + minutes * 60_000);
const minute = 60_000;

/** Readings of one device every 30 s from `fromMin` (inclusive) to `toMin` (exclusive) at `value`. */
function series(deviceId: string, fromMin: number, toMin: number, value: number): AlertReading[] {
  const out: AlertReading[] = [];
  for (let t = fromMin * minute; t < toMin * minute; t += 30_000) {
    out.push({ deviceId, metric: 'temperature', value, ts: new Date(base + t), unit: 'Cel' });
  }
  return out;
}

async function addDevice(
  deviceId: string,
  rangeMax: number,
  intervalS = 30,
  measurementUnit: string | null = null,
): Promise<number> {
  const [row] = await knex('dw.dim_device')
    .insert({
      device_nk: deviceId,
      measurement_unit: measurementUnit,
      range_min: -20,
      range_max: rangeMax,
      expected_interval_s: intervalS,
      valid_from: new Date(base - 86_400_000),
      row_hash: Buffer.from('00', 'hex'),
      source_system: 'test',
    })
    .returning('device_sk');
  return row.device_sk as number;
}

async function alertsOf(deviceId: string) {
  return knex('hub.alert').where({ device_id: deviceId }).orderBy('id');
}

let engine: AlertEngine;
let databaseUrl: string;

beforeAll(async () => {
  databaseUrl = await recreateItsmDatabase(inject('serverUrl'));
  knex = createKnex(databaseUrl, 4);
});

beforeEach(async () => {
  await knex.raw('TRUNCATE hub.alert, dw.fact_maintenance_event');
  await knex('dw.dim_device').where('device_sk', '>', 0).delete();
  engine = createAlertEngine({ knex, rules });
});

afterAll(async () => {
  await knex?.destroy();
});

describe('alert engine', () => {
  it("applies a device's range only to the metric it measures (its measurement unit's metrics)", async () => {
    await addDevice('dev-thermo', 80, 30, 'Cel');
    await addDevice('dev-vib', 50, 30, 'mm/s');
    // 85 °C from both for 6 minutes: over the thermometer's range; the vibration sensor's 50 mm/s is no limit.
    await engine.evaluateReadings([...series('dev-thermo', 0, 6, 85), ...series('dev-vib', 0, 6, 85)]);
    expect((await alertsOf('dev-thermo')).map((a) => a.alert_key)).toEqual([
      'dev-thermo:temperature:temperature_high',
    ]);
    expect(await alertsOf('dev-vib')).toEqual([]);
  });

  it('opens only after the breach lasted `for`; shorter excursions (flapping) open nothing', async () => {
    await addDevice('dev-a', 80);
    await addDevice('dev-flap', 80);
    // Both at 85 °C (limit 80): dev-a for 6 minutes, dev-flap 3 min high, 1 min normal, 3 min high.
    let outcome = await engine.evaluateReadings([
      ...series('dev-a', 0, 4.5, 85),
      ...series('dev-flap', 0, 3, 85),
      ...series('dev-flap', 3, 4, 75),
      ...series('dev-flap', 4, 7, 85),
    ]);
    expect(outcome.opened).toBe(0);
    outcome = await engine.evaluateReadings(series('dev-a', 4.5, 6, 85));
    expect(outcome.opened).toBe(1);
    expect(await alertsOf('dev-flap')).toEqual([]);
    const [alert] = await alertsOf('dev-a');
    expect(alert).toMatchObject({
      alert_key: 'dev-a:temperature:temperature_high',
      status: 'open',
      severity: 'warn',
      ticket_state: 'pending',
      ticket_action: 'create',
      revision: 1,
    });
    expect(alert.opened_at.getTime()).toBe(at(5).getTime());
    expect(alert.evidence).toMatchObject({ value: 85, threshold: 80, breach_since: at(0).toISOString() });
  });

  it('clears only after clear_for inside the hysteresis band, and escalates beyond the margin', async () => {
    await addDevice('dev-b', 80);
    await engine.evaluateReadings(series('dev-b', 0, 6, 85));
    // 79 is below the limit but inside the 2-degree hysteresis band: the alert stays open.
    await engine.evaluateReadings(series('dev-b', 6, 12, 79));
    expect((await alertsOf('dev-b'))[0].status).toBe('open');
    // 91 is 11 above the limit (margin 10): escalated, severity fail.
    const escalation = await engine.evaluateReadings(series('dev-b', 12, 13, 91));
    expect(escalation.escalated).toBe(1);
    expect((await alertsOf('dev-b'))[0]).toMatchObject({
      status: 'escalated',
      severity: 'fail',
      revision: 2,
    });
    // 77 is out of the band; it must hold for 2 minutes.
    let outcome = await engine.evaluateReadings(series('dev-b', 13, 14.5, 77));
    expect(outcome.cleared).toBe(0);
    outcome = await engine.evaluateReadings(series('dev-b', 14.5, 16, 77));
    expect(outcome.cleared).toBe(1);
    const [alert] = await alertsOf('dev-b');
    expect(alert).toMatchObject({ status: 'cleared', ticket_action: 'resolve', ticket_state: 'pending' });
    expect(alert.cleared_at.getTime()).toBe(at(15).getTime());
    // A new breach afterwards is a new alert.
    await engine.evaluateReadings(series('dev-b', 20, 26, 85));
    expect((await alertsOf('dev-b')).map((a) => a.status)).toEqual(['cleared', 'open']);
  });

  it('escalates an alert that stays open longer than escalate.after', async () => {
    await addDevice('dev-c', 80);
    await engine.evaluateReadings(series('dev-c', 0, 30, 85));
    expect((await alertsOf('dev-c'))[0].status).toBe('open');
    await engine.evaluateReadings(series('dev-c', 30, 36, 85));
    const [alert] = await alertsOf('dev-c');
    expect(alert).toMatchObject({ status: 'escalated', severity: 'fail' });
    expect(alert.evidence.escalation).toBe('duration');
  });

  it('picks up alerts opened before a restart instead of opening them again', async () => {
    await addDevice('dev-r', 80);
    await engine.evaluateReadings(series('dev-r', 0, 6, 85));
    const restarted = createAlertEngine({ knex, rules });
    const outcome = await restarted.evaluateReadings(series('dev-r', 6, 20, 85));
    expect(outcome.opened).toBe(0);
    expect(await alertsOf('dev-r')).toHaveLength(1);
    await restarted.evaluateReadings(series('dev-r', 20, 23, 70));
    expect((await alertsOf('dev-r'))[0].status).toBe('cleared');
  });

  it('opens a heartbeat alert after missed_intervals × expected interval of silence, cleared by the next reading', async () => {
    await addDevice('dev-hb', 80, 60);
    await engine.evaluateReadings(series('dev-hb', 0, 1, 20));
    const last = at(0.5).getTime(); // the last reading
    expect((await engine.checkHeartbeats(new Date(last + 3 * minute - 1000))).opened).toBe(0);
    expect((await engine.checkHeartbeats(new Date(last + 3 * minute + 1000))).opened).toBe(1);
    expect((await engine.checkHeartbeats(new Date(last + 10 * minute))).opened).toBe(0); // still the same alert
    const [alert] = await alertsOf('dev-hb');
    expect(alert).toMatchObject({
      alert_key: 'dev-hb:device:heartbeat_lost',
      rule: 'heartbeat_lost',
      status: 'open',
    });
    expect(alert.evidence).toMatchObject({ expected_interval_s: 60, missed_intervals: 3 });
    const outcome = await engine.evaluateReadings(series('dev-hb', 20, 21, 20));
    expect(outcome.cleared).toBe(1);
    expect((await alertsOf('dev-hb'))[0].status).toBe('cleared');
  });

  it('keeps alerts of devices under maintenance as suppressed, without a ticket, until the work order closes', async () => {
    const sk = await addDevice('dev-m', 80);
    await knex('dw.fact_maintenance_event').insert({
      source_system: 'cmms',
      source_event_id: 'WO-1',
      device_sk: sk,
      asset_sk: -1,
      date_key: -1,
      event_type: 'corrective',
      status: 'in_progress',
      started_at: at(-60),
      work_order_number: 'WO-1',
    });
    const outcome = await engine.evaluateReadings(series('dev-m', 0, 6, 85));
    expect(outcome).toMatchObject({ opened: 0, suppressed: 1, keys: [] });
    expect((await alertsOf('dev-m'))[0]).toMatchObject({ status: 'suppressed', ticket_state: null });
    await engine.evaluateReadings(series('dev-m', 6, 8, 86));
    expect((await alertsOf('dev-m'))[0]).toMatchObject({ status: 'suppressed', ticket_state: null });

    await knex('dw.fact_maintenance_event')
      .where({ source_event_id: 'WO-1' })
      .update({ status: 'completed', finished_at: at(9) });
    const after = await engine.evaluateReadings(series('dev-m', 10, 11, 86));
    expect(after.unsuppressed).toBe(1);
    const [alert] = await alertsOf('dev-m');
    expect(alert).toMatchObject({ status: 'open', ticket_state: 'pending', ticket_action: 'create' });
    expect(alert.ticket_requested_at).not.toBeNull();
  });

  it('raiseAlerts folds a batch per key: repeats, escalation, clear and re-open in one transaction', async () => {
    const raise = (severity: 'warn' | 'fail' = 'warn') => ({
      kind: 'raise' as const,
      deviceId: 'dev-f',
      rule: 'spike',
      metric: 'vibration',
      severity,
    });
    const outcome = await raiseAlerts(knex, [
      raise(),
      raise(),
      raise('fail'),
      { kind: 'clear', deviceId: 'dev-f', rule: 'spike', metric: 'vibration' },
      raise(),
      { kind: 'clear', deviceId: 'dev-x', rule: 'spike', metric: 'vibration' },
    ]);
    expect(outcome).toMatchObject({ opened: 2, repeated: 1, escalated: 1, cleared: 1, ignored: 1 });
    const rows = await alertsOf('dev-f');
    expect(rows.map((r) => [r.status, r.severity, r.repeat_count, r.revision, r.ticket_action])).toEqual([
      ['cleared', 'fail', 2, 4, 'resolve'],
      ['open', 'warn', 0, 1, 'create'],
    ]);
    // Applied to stored rows, the same batch gives the same counts.
    await raiseAlerts(knex, [raise(), raise('fail')]);
    const [, open] = await alertsOf('dev-f');
    expect(open).toMatchObject({
      status: 'escalated',
      repeat_count: 2,
      revision: 3,
      ticket_state: 'pending',
    });
  });

  it('evaluates concurrent batches in call order, though the first waits longer for PostgreSQL', async () => {
    await addDevice('dev-o', 80);
    await addDevice('dev-s', 80);
    // The first call's device lookup is held back: unordered, the second batch (back to normal) would be
    // applied first and the first batch's older readings ignored, so the alert would never open.
    const real = knexAlertStore(knex);
    let calls = 0;
    const slowFirst = createAlertEngine({
      rules,
      store: {
        ...real,
        devices: async (ids) => {
          if (calls++ === 0) await new Promise((r) => setTimeout(r, 150));
          return real.devices(ids);
        },
      },
    });
    const results = await Promise.all([
      slowFirst.evaluateReadings(series('dev-o', 0, 6, 85)),
      slowFirst.evaluateReadings(series('dev-o', 6, 12, 70)),
    ]);
    expect(results.map((o) => [o.opened, o.cleared])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    await engine.evaluateReadings(series('dev-s', 0, 6, 85));
    await engine.evaluateReadings(series('dev-s', 6, 12, 70));
    const shape = (rows: Array<Record<string, unknown>>) =>
      rows.map((r) => [
        r.status,
        r.revision,
        (r.opened_at as Date).getTime(),
        (r.cleared_at as Date).getTime(),
      ]);
    expect(shape(await alertsOf('dev-o'))).toEqual(shape(await alertsOf('dev-s')));
    expect(shape(await alertsOf('dev-o'))).toEqual([['cleared', 2, at(5).getTime(), at(8).getTime()]]);
  });

  it('loses no alert when its write is cut off (backend terminated mid-transaction): it is retried', async () => {
    await addDevice('dev-t', 80);
    const key = alertKey('dev-t', 'temperature', 'temperature_high');
    // Hold the key's advisory lock (raise-alerts.ts, class 0x414c) so the write waits inside its transaction,
    // then terminate that backend the way a PostgreSQL restart or failover would.
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('SELECT pg_advisory_lock($1, hashtext($2))', [0x414c, key]);
      const retrying = createAlertEngine({ knex, rules, retryDelayMs: 50 });
      const written = retrying.evaluateReadings(series('dev-t', 0, 6, 85));
      let terminated = 0;
      const deadline = Date.now() + 20_000;
      while (terminated === 0) {
        if (Date.now() > deadline) throw new Error('the alert write never waited for the advisory lock');
        const { rows } = await blocker.query(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock%'`,
        );
        terminated = rows.length;
        if (terminated === 0) await new Promise((r) => setTimeout(r, 20));
      }
      await blocker.query('SELECT pg_advisory_unlock($1, hashtext($2))', [0x414c, key]);
      const outcome = await written;
      expect(outcome.opened).toBe(1);
    } finally {
      await blocker.end();
    }
    const rows = await alertsOf('dev-t');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ alert_key: key, status: 'open', revision: 1, ticket_state: 'pending' });
  });

  it('stop() waits for the queued evaluations to be written, then refuses new ones', async () => {
    const devices = ['dev-q1', 'dev-q2', 'dev-q3'];
    for (const d of devices) await addDevice(d, 80);
    const written = devices.map((d) => engine.evaluateReadings(series(d, 0, 6, 85)));
    expect(engine.queued).toBe(3);
    await engine.stop();
    const rows = await knex('hub.alert').whereIn('device_id', devices).select('device_id', 'status');
    expect(rows.map((r) => r.device_id).sort()).toEqual(devices);
    expect((await Promise.all(written)).map((o) => o.opened)).toEqual([1, 1, 1]);
    await expect(engine.evaluateReadings(series('dev-q1', 6, 7, 85))).rejects.toThrow(
      /alert engine is stopped/,
    );
  });
});
