import { createRequire } from 'node:module';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKnex, type Knex, withDatabase } from '../../src/db/index.ts';
import { migrateDatabase } from '../../src/warehouse/index.ts';

// ucum-lhc ships no types; this is the one call the test needs.
interface UcumUtils {
  validateUnitString(unit: string): { status: 'valid' | 'invalid' | 'error' };
}
const ucum = (
  createRequire(import.meta.url)('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } }
).UcumLhcUtils.getInstance();

const databaseName = 'iot_hub_test_migrations';
const allMigrations = [
  '20261126000001_dw_dimensions',
  '20261126000002_dw_facts',
  '20261126000003_hub_state',
  '20261126000004_rollup_queue',
  '20261126000005_alert_tickets',
  '20261201000000_ingest_accounting',
  '20261201100000_device_state',
  '20261201120000_cmdb_ci',
  '20261201130000_device_outbox',
  '20261201140000_cmdb_sink',
  '20261201150000_data_quality',
  '20261201160000_graphql_audit',
  '20261201170000_asset_hourly',
  '20261201180000_dimension_notify',
];

let url: string;
let knex: Knex;
/** On the server's postgres database, to drop and look for the test database. */
let admin: pg.Client;

/** The SQLSTATE a statement fails with, or 'ok'. */
async function sqlState(statement: PromiseLike<unknown>): Promise<string> {
  try {
    await statement;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

async function tablesIn(schema: string): Promise<string[]> {
  const rows: { table_name: string }[] = await knex('information_schema.tables')
    .where({ table_schema: schema })
    .orderBy('table_name')
    .select('table_name');
  return rows.map((r) => r.table_name);
}

async function partitionOf(deviceSk: number, readingTs: string): Promise<string> {
  const { rows } = await knex.raw(
    'SELECT tableoid::regclass::text AS part FROM dw.fact_sensor_reading WHERE device_sk = ? AND reading_ts = ?',
    [deviceSk, readingTs],
  );
  return rows[0]?.part;
}

/** A reading row for `deviceSk` at `readingTs` with the unknown asset and the temperature metric. */
function reading(deviceSk: number, metricSk: number, readingTs: string) {
  return {
    device_sk: deviceSk,
    asset_sk: -1,
    metric_sk: metricSk,
    date_key: -1,
    time_key: -1,
    reading_ts: readingTs,
    value: 21.5,
    batch_id: 1,
  };
}

beforeAll(async () => {
  url = withDatabase(inject('serverUrl'), databaseName);
  admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  knex = createKnex(url, 2);
});

afterAll(async () => {
  await knex?.destroy();
  await admin?.end();
});

describe('migrations', () => {
  it('status on a missing database reports everything pending without creating it', async () => {
    const lines: string[] = [];
    const status = await migrateDatabase(url, 'status', (line) => lines.push(line));
    expect(status).toMatchObject({ applied: [], pending: allMigrations });
    expect(lines[0]).toBe(`database ${databaseName} does not exist`);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    expect(rowCount).toBe(0);
  });

  it('up creates the database and applies every migration in order', async () => {
    const lines: string[] = [];
    const result = await migrateDatabase(url, 'up', (line) => lines.push(line));
    expect(result.changed).toEqual(allMigrations);
    expect(result.pending).toEqual([]);
    expect(lines[0]).toBe(`created database ${databaseName}`);
    expect(lines).toContainEqual(expect.stringMatching(/^applied 20261126000001_dw_dimensions \(\d+ m?s\)$/));
  });

  it('up again changes nothing', async () => {
    const lines: string[] = [];
    const result = await migrateDatabase(url, 'up', (line) => lines.push(line));
    expect(result.changed).toEqual([]);
    expect(result.applied).toEqual(allMigrations);
    expect(lines).toContain('already up to date');
  });

  it('creates the star schema and the hub tables', async () => {
    const dw = await tablesIn('dw');
    for (const table of [
      'dim_date',
      'dim_time_of_day',
      'dim_metric',
      'dim_asset',
      'bridge_asset_hierarchy',
      'dim_device',
      'dim_cmdb_ci',
      'fact_sensor_reading',
      'fact_sensor_reading_default',
      'fact_sensor_hourly',
      'fact_dq_event',
      'fact_maintenance_event',
    ]) {
      expect(dw).toContain(table);
    }
    expect(await tablesIn('hub')).toEqual([
      'alert',
      'alert_ticket_lease',
      'audit_log',
      'cmdb_poll_state',
      'cmdb_sink_state',
      'consumer_offsets',
      'dead_letter',
      'device_state',
      'dq_alert_outbox',
      'dq_calibration_step_done',
      'dq_series_state',
      'lineage',
      'outbox',
      'reference_version',
      'rollup_dirty',
    ]);
  });

  it('populates dim_date 2020..2035 and one row per minute in dim_time_of_day', async () => {
    const [dates] = await knex('dw.dim_date')
      .where('date_key', '>', 0)
      .select(knex.raw('count(*)::int AS n, min(full_date)::text AS first, max(full_date)::text AS last'));
    expect(dates).toEqual({ n: 5844, first: '2020-01-01', last: '2035-12-31' });
    // 2021-01-03 is a Sunday in ISO week 53 of 2020.
    const day = await knex('dw.dim_date').where({ date_key: 20210103 }).first();
    expect(day).toMatchObject({
      iso_year: 2020,
      iso_week: 53,
      iso_dow: 7,
      day_name: 'Sunday',
      is_weekend: true,
    });
    const [minutes] = await knex('dw.dim_time_of_day').where('time_key', '>=', 0).count({ n: '*' });
    expect(Number(minutes?.n)).toBe(1440);
    expect(await knex('dw.dim_time_of_day').where({ time_key: 605 }).first()).toMatchObject({
      hh: 10,
      mi: 5,
      hh_mi: '10:05',
    });
  });

  it('has the unknown member -1 in every dimension', async () => {
    expect(await knex('dw.dim_date').where({ date_key: -1 }).first()).toMatchObject({ full_date: null });
    expect(await knex('dw.dim_time_of_day').where({ time_key: -1 }).first()).toMatchObject({ hh: null });
    expect(await knex('dw.dim_metric').where({ metric_sk: -1 }).first()).toMatchObject({
      metric_code: '#unknown',
    });
    expect(await knex('dw.dim_asset').where({ asset_sk: -1 }).first()).toMatchObject({
      asset_nk: '#unknown',
      is_current: true,
    });
    expect(await knex('dw.dim_device').where({ device_sk: -1 }).first()).toMatchObject({
      device_nk: '#unknown',
      is_current: true,
    });
  });

  it('seeds dim_metric with valid UCUM units and sane ranges', async () => {
    const metrics: {
      metric_code: string;
      canonical_unit: string;
      valid_min: number;
      valid_max: number | null;
    }[] = await knex('dw.dim_metric').where('metric_sk', '>', 0);
    const units = Object.fromEntries(metrics.map((m) => [m.metric_code, m.canonical_unit]));
    expect(units).toMatchObject({
      temperature: 'Cel',
      vibration: 'mm/s',
      pressure: 'kPa',
      humidity: '%',
      power: 'kW',
      battery: '%',
      flow: 'm3/h',
      energy: 'kW.h',
    });
    for (const m of metrics) {
      expect(ucum.validateUnitString(m.canonical_unit).status, m.canonical_unit).toBe('valid');
      if (m.valid_max !== null) expect(m.valid_min).toBeLessThan(m.valid_max);
    }
  });

  it('rejects a second current row and overlapping validity for one device', async () => {
    const version = { device_nk: 'dev-scd', row_hash: Buffer.from([1]), source_system: 'test' };
    await knex('dw.dim_device').insert({
      ...version,
      valid_from: '-infinity',
      valid_to: '2026-01-01T00:00:00Z',
    });
    // Adjacent validity but both current: the partial unique index refuses it.
    expect(
      await sqlState(
        knex('dw.dim_device').insert({ ...version, valid_from: '2026-01-01T00:00:00Z', is_current: true }),
      ),
    ).toBe('23505');
    // Not current but overlapping the first version: the exclusion constraint refuses it.
    expect(
      await sqlState(
        knex('dw.dim_device').insert({ ...version, valid_from: '2025-06-01T00:00:00Z', is_current: false }),
      ),
    ).toBe('23P01');
    // Closing the first version, then opening the next one, is the valid SCD2 step.
    await knex('dw.dim_device').where({ device_nk: 'dev-scd' }).update({ is_current: false });
    await knex('dw.dim_device').insert({ ...version, valid_from: '2026-01-01T00:00:00Z' });
    const versions = await knex('dw.dim_device').where({ device_nk: 'dev-scd' }).orderBy('valid_from');
    expect(versions.map((v) => v.is_current)).toEqual([false, true]);
  });

  it('stores readings in monthly partitions, a far-future one in DEFAULT, and ignores duplicates', async () => {
    const now = new Date().toISOString();
    await knex('dw.fact_sensor_reading').insert(reading(-1, 1, now));
    const month = now.slice(0, 7).replace('-', '');
    expect(await partitionOf(-1, now)).toBe(`dw.fact_sensor_reading_${month}`);

    const farFuture = '2099-06-15T12:00:00.000Z';
    await knex('dw.fact_sensor_reading').insert(reading(-1, 1, farFuture));
    expect(await partitionOf(-1, farFuture)).toBe('dw.fact_sensor_reading_default');

    // The natural key (device, metric, ts) is the primary key: a duplicate fails, or is skipped on conflict.
    expect(await sqlState(knex('dw.fact_sensor_reading').insert(reading(-1, 1, farFuture)))).toBe('23505');
    const inserted = await knex('dw.fact_sensor_reading')
      .insert(reading(-1, 1, farFuture))
      .onConflict(['device_sk', 'metric_sk', 'reading_ts'])
      .ignore()
      .returning('device_sk');
    expect(inserted).toEqual([]);
    // Another metric at the same instant is a different reading.
    await knex('dw.fact_sensor_reading').insert(reading(-1, 2, farFuture));
  });

  it('ensure_reading_partitions creates months idempotently and moves rows out of DEFAULT', async () => {
    const created = await knex.raw("SELECT dw.ensure_reading_partitions('2099-05-10', '2099-07-01') AS n");
    expect(created.rows[0].n).toBe(3);
    expect(await partitionOf(-1, '2099-06-15T12:00:00.000Z')).toBe('dw.fact_sensor_reading_209906');
    const [left] = await knex('dw.fact_sensor_reading_default').count({ n: '*' });
    expect(Number(left?.n)).toBe(0);
    const again = await knex.raw("SELECT dw.ensure_reading_partitions('2099-05-01', '2099-07-31') AS n");
    expect(again.rows[0].n).toBe(0);
  });

  it('allows one active alert per key, and checks status vocabularies', async () => {
    const alert = { alert_key: 'dev-1:flat_line', device_id: 'dev-1', rule: 'flat_line', severity: 'warn' };
    await knex('hub.alert').insert(alert);
    expect(await sqlState(knex('hub.alert').insert(alert))).toBe('23505');
    await knex('hub.alert')
      .where({ alert_key: alert.alert_key })
      .update({ status: 'cleared', cleared_at: knex.fn.now() });
    await knex('hub.alert').insert(alert);
    expect(await sqlState(knex('hub.alert').insert({ ...alert, alert_key: 'x', status: 'closed' }))).toBe(
      '23514',
    );
    expect(
      await sqlState(
        knex('hub.dead_letter').insert({ stage: 'map', error_code: 'E', error_message: 'm', status: 'lost' }),
      ),
    ).toBe('23514');
    const [outbox] = await knex('hub.outbox')
      .insert({ aggregatetype: 'device', aggregateid: 'dev-1', type: 'state_changed', payload: { on: true } })
      .returning('id');
    expect(outbox.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('down rolls everything back, newest first, and up works again', async () => {
    const lines: string[] = [];
    const down = await migrateDatabase(url, 'down', (line) => lines.push(line));
    expect(down.changed).toEqual([...allMigrations].reverse());
    expect(down.pending).toEqual(allMigrations);
    expect(lines[0]).toBe(`rolled back ${allMigrations.at(-1)}`);
    const { rows } = await knex.raw("SELECT nspname FROM pg_namespace WHERE nspname IN ('dw', 'hub')");
    expect(rows).toEqual([]);

    const status = await migrateDatabase(url, 'status');
    expect(status).toMatchObject({ changed: [], applied: [], pending: allMigrations });

    const up = await migrateDatabase(url, 'up');
    expect(up.changed).toEqual(allMigrations);
    expect(await tablesIn('hub')).toHaveLength(15);
  });
});
