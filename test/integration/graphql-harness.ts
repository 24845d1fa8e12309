import type pg from 'pg';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/index.ts';
import { createPool } from '../../src/db/index.ts';
import type { IncidentSource } from '../../src/graphql/index.ts';
import { type RunningGraphql, startGraphql } from '../../src/graphql/index.ts';
import { type HubHttpServer, startHttpServer } from '../../src/observability/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';

// Shared by the graphql-*.test.ts files: an own database with a small seeded warehouse, and the GraphQL stage on
// an HTTP port of its own, its pool counting the statements it runs.

export const silentLogger = pino({ level: 'silent' });

export interface CountingPool extends pg.Pool {
  statements: string[];
}

/** A pool that records each statement's text; the GraphQL stage issues everything through pool.query. */
export function countingPool(url: string): CountingPool {
  const pool = createPool(url, { max: 6 }) as CountingPool;
  pool.statements = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    pool.statements.push(
      typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text),
    );
    return query(...args);
  };
  return pool;
}

export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  return recreateItsmDatabase(serverUrl, name);
}

export interface TestApi {
  url: string;
  wsUrl: string;
  http: HubHttpServer;
  graphql: RunningGraphql;
  db: CountingPool;
  post(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphqlAnswer>;
  close(): Promise<void>;
}

export interface GraphqlAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in the tests
  data: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export async function startTestApi(
  databaseUrl: string,
  options: { servicenowUrl?: string; incidents?: IncidentSource; incidentCacheMs?: number } = {},
): Promise<TestApi> {
  const http = await startHttpServer(0, [], '127.0.0.1');
  const db = countingPool(databaseUrl);
  const graphql = await startGraphql({
    http,
    db,
    servicenow: { ...defaultConfig.servicenow, url: options.servicenowUrl ?? 'http://127.0.0.1:9' },
    logger: silentLogger,
    incidents: options.incidents,
    incidentCacheMs: options.incidentCacheMs,
  });
  const url = `http://127.0.0.1:${http.port}/graphql`;
  return {
    url,
    wsUrl: url.replace('http:', 'ws:'),
    http,
    graphql,
    db,
    post: async (query, variables = {}, headers = {}) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Omit<GraphqlAnswer, 'status'>;
      return { status: res.status, ...body };
    },
    close: async () => {
      await graphql.stop();
      await http.close();
      await db.end();
    },
  };
}

export interface SeedOptions {
  devices: number;
  /** Readings per device, one a minute ending `readingsEnd`. */
  readings: number;
  readingsEnd: Date;
}

/**
 * Sites S1 (area A1 > line L1 > asset M1) and S2 (asset M2) with their closure rows; `devices` devices dev-001…,
 * odd ones on M1, even ones on M2, each with a CMDB CI, readings of temperature, an hourly rollup row, an alert,
 * a data-quality event and a maintenance event; dev-001 has an older SCD2 version (firmware 1.0 until
 * 2026-06-01). One hub.lineage batch of telemetry-acme v2 from telemetry.acme.
 */
export async function seedWarehouse(db: pg.Pool, options: SeedOptions): Promise<void> {
  const assets: [nk: string, level: string, parent: string | null, path: string, site: string][] = [
    ['S1', 'site', null, 'S1', 'S1'],
    ['A1', 'area', 'S1', 'S1.A1', 'S1'],
    ['L1', 'line', 'A1', 'S1.A1.L1', 'S1'],
    ['M1', 'asset', 'L1', 'S1.A1.L1.M1', 'S1'],
    ['S2', 'site', null, 'S2', 'S2'],
    ['M2', 'asset', 'S2', 'S2.M2', 'S2'],
  ];
  for (const [nk, level, parent, path, site] of assets)
    await db.query(
      `INSERT INTO dw.dim_asset (asset_nk, asset_level, parent_asset_nk, asset_name, site_nk, site_name,
         hierarchy_path, valid_from, row_hash, source_system)
       VALUES ($1, $2, $3, $4, $5, $6, $7::ltree, '-infinity', '\\x01', 'test')`,
      [nk, level, parent, `Asset ${nk}`, site, `Site ${site}`, path],
    );
  await db.query(`
    INSERT INTO dw.bridge_asset_hierarchy (ancestor_asset_nk, descendant_asset_nk, depth_from_ancestor, is_leaf)
    SELECT a.asset_nk, d.asset_nk, nlevel(d.hierarchy_path) - nlevel(a.hierarchy_path),
           NOT EXISTS (SELECT 1 FROM dw.dim_asset c WHERE c.parent_asset_nk = d.asset_nk)
    FROM dw.dim_asset a JOIN dw.dim_asset d ON d.hierarchy_path <@ a.hierarchy_path
    WHERE a.asset_sk <> -1 AND d.asset_sk <> -1`);
  await db.query(
    `INSERT INTO dw.dim_device (device_nk, serial_number, model, firmware_version, installed_asset_nk,
       lifecycle_status, valid_from, valid_to, is_current, row_hash, source_system)
     VALUES ('dev-001', 'SN-001', 'TX-1', '1.0', 'M1', 'active', '2026-01-01', '2026-06-01', false, '\\x01', 'test')`,
  );
  await db.query(
    `INSERT INTO dw.dim_device (device_nk, serial_number, model, firmware_version, installed_asset_nk,
       lifecycle_status, valid_from, row_hash, source_system)
     SELECT 'dev-' || lpad(i::text, 3, '0'), 'SN-' || lpad(i::text, 3, '0'), 'TX-1',
            CASE WHEN i = 1 THEN '2.0' ELSE '1.0' END, CASE WHEN i % 2 = 1 THEN 'M1' ELSE 'M2' END, 'active',
            CASE WHEN i = 1 THEN timestamptz '2026-06-01' ELSE timestamptz '2026-01-01' END, '\\x01', 'test'
     FROM generate_series(1, $1::int) AS i`,
    [options.devices],
  );
  await db.query(`
    INSERT INTO dw.dim_cmdb_ci (cmdb_ci_nk, ci_class, ci_name, device_nk, serial_number, operational_status,
      valid_from, row_hash, source_system)
    SELECT md5(device_nk), 'cmdb_ci_iot', 'CI ' || device_nk, device_nk, serial_number, 'operational',
           '-infinity', '\\x01', 'test'
    FROM dw.dim_device WHERE is_current AND device_sk <> -1`);
  const batch = await db.query<{ batch_id: number }>(
    `INSERT INTO hub.lineage (source, mapping_id, mapping_version, target_table, rows_in, rows_out, finished_at)
     VALUES ('kafka:telemetry.acme/0', 'telemetry-acme', 2, 'dw.fact_sensor_reading', $1, $1, now())
     RETURNING batch_id`,
    [options.devices * options.readings],
  );
  await db.query(
    `INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value,
       quality_code, batch_id, mapping_id, mapping_version, source_topic)
     SELECT d.device_sk, a.asset_sk, m.metric_sk, -1, -1, $2::timestamptz - (r || ' minutes')::interval,
            20 + r, 1, $3, 'telemetry-acme', 2, 'telemetry.acme'
     FROM dw.dim_device d
     JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
     CROSS JOIN dw.dim_metric m CROSS JOIN generate_series(0, $1::int - 1) AS r
     WHERE d.is_current AND d.device_sk <> -1 AND m.metric_code = 'temperature'`,
    [options.readings, options.readingsEnd, batch.rows[0]!.batch_id],
  );
  await db.query(
    `INSERT INTO dw.fact_sensor_hourly (device_sk, asset_sk, metric_sk, hour_start, date_key, time_key,
       n_expected, n_received, min_value, max_value, avg_value, sum_value, last_value)
     SELECT f.device_sk, min(f.asset_sk), f.metric_sk, date_trunc('hour', f.reading_ts), -1, -1, 60, count(*),
            min(f.value), max(f.value), avg(f.value), sum(f.value), min(f.value)
     FROM dw.fact_sensor_reading f GROUP BY f.device_sk, f.metric_sk, date_trunc('hour', f.reading_ts)`,
  );
  await db.query(`
    INSERT INTO dw.fact_dq_event (device_sk, asset_sk, metric_sk, check_name, severity, opened_at, detector_version)
    SELECT d.device_sk, a.asset_sk, (SELECT metric_sk FROM dw.dim_metric WHERE metric_code = 'temperature'),
           'flat_line', 'warn', now() - interval '1 hour', 'test'
    FROM dw.dim_device d JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
    WHERE d.is_current AND d.device_sk <> -1`);
  await db.query(`
    INSERT INTO dw.fact_maintenance_event (source_system, source_event_id, device_sk, asset_sk, date_key,
      event_type, status, started_at, work_order_number, technician)
    SELECT 'cmms', 'WO-' || d.device_nk, d.device_sk, a.asset_sk, -1, 'calibration', 'completed',
           now() - interval '2 days', 'WO-' || d.device_nk, 'Jane Doe'
    FROM dw.dim_device d JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
    WHERE d.is_current AND d.device_sk <> -1`);
  await db.query(`
    INSERT INTO hub.alert (alert_key, device_id, asset_id, metric_code, rule, severity)
    SELECT d.device_nk || ':temperature_high', d.device_nk, d.installed_asset_nk, 'temperature',
           'temperature_high', 'warn'
    FROM dw.dim_device d WHERE d.is_current AND d.device_sk <> -1`);
}
