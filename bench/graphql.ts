// GraphQL benchmark: `npm run bench -- graphql [options]` → bench/results/graphql.json (docs/graphql.md,
// "GraphQL benchmark").
//
// Builds a scratch warehouse (migrated like the hub's) with --devices devices on 100 assets (5 sites × 2 areas ×
// 2 lines × 5 assets) reading one metric every --interval-s seconds over the last 30 days (defaults: 1,000 devices,
// 240 s: 10.8 M readings), fills the hourly rollup from them and analyzes. Then, in the same run:
//   (a) entity query: 100 readings of one device with device → asset → site, asked of the hub's GraphQL stage
//       (startGraphql, in a child process: this file with --serve-hub) and of PostGraphile v5 with the amber preset
//       (bench/lib/postgraphile-peer.ts, also a child), each in its own query shape, over HTTP with autocannon: the
//       same connections, duration and database pool size, --rounds rounds alternating, medians. Each request asks
//       for a random device; a response with GraphQL errors or without readings counts as a mismatch.
//   (b) metric: the hourly average per site over the 30 days, through the hub's `metrics` query (HTTP), through
//       compileMetricsQuery + pool.query in this process (the same SQL without HTTP and GraphQL), and as
//       hand-written SQL over the raw facts; --runs sequential runs each after 2 warm-ups, median and p95.
// The scratch database is dropped at the end, also on failure (--keep keeps it, --reuse uses a kept one).
//
// Options: --devices N (1000), --interval-s N (240), --connections N (20), --duration-s N (10), --rounds N (3),
// --runs N (20), --pool N (10: database connections of each server), --keep, --reuse, --out FILE.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import pg from 'pg';
import { defaultConfig, loadConfig } from '../src/config/index.ts';
import { createPool, ensureDatabase, withDatabase } from '../src/db/index.ts';
import { startGraphql } from '../src/graphql/index.ts';
import {
  compileMetricsQuery,
  loadSemanticModel,
  type MetricsRequest,
} from '../src/graphql/semantic/index.ts';
import { createLogger, startHttpServer } from '../src/observability/index.ts';
import { migrateDatabase } from '../src/warehouse/index.ts';
import { fmt, load1, log, machineInfo, median, round, writeResults } from './lib/bench-kit.ts';
import type { PeerMessage } from './lib/postgraphile-peer.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const DB_NAME = 'bench_graphql_h2';
const JWT_SECRET = 'bench-graphql-secret-0123456789abcdef';
const SITES = 5;
const ASSETS = 100;
const DAYS = 30;

// ---------------------------------------------------------------------------------------------------------
// autocannon ships no types; the part used here

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  method: 'POST';
  headers: Record<string, string>;
  requests: { setupRequest: (req: { body?: string }) => { body?: string } }[];
  verifyBody: (body: string) => boolean;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: AutocannonOptions,
) => Promise<AutocannonResult>;

// ---------------------------------------------------------------------------------------------------------
// the hub's GraphQL stage as a child process: this file with --serve-hub <database-url> <pool-max> (dispatched at
// the end of the file, once every constant is initialised)

/** Statement times of the hub's pool while timing is on: where a request's time goes (no pg_stat_statements). */
type StatementTimes = { statement: string; calls: number; total_ms: number }[];
/** With the statement times, the process's CPU time (user + system) over the same window. */
type TimingMessage = { type: 'timing'; statements: StatementTimes; cpuMs: number };

async function serveHub(url: string, poolMax: number): Promise<void> {
  const send = (m: PeerMessage | TimingMessage) => process.send?.(m);
  try {
    const logger = createLogger(process.env.BENCH_HUB_LOG_LEVEL ?? 'warn', 'iot-hub-bench');
    const http = await startHttpServer(0, [], '127.0.0.1');
    const db = createPool(url, { max: poolMax, logger, name: 'graphql' });
    let timing: Map<string, { calls: number; ms: number }> | null = null;
    const query = db.query.bind(db) as (...args: unknown[]) => Promise<unknown>;
    (db as { query: unknown }).query = (...args: unknown[]) => {
      const times = timing;
      if (!times) return query(...args);
      const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text);
      const key = text.replace(/\s+/g, ' ').trim().slice(0, 100);
      const t = performance.now();
      const done = () => {
        const entry = times.get(key) ?? { calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += performance.now() - t;
        times.set(key, entry);
      };
      const result = query(...args);
      result.then(done, done);
      return result;
    };
    const graphql = await startGraphql({ http, db, servicenow: defaultConfig.servicenow, logger });
    await graphql.ready();
    send({ type: 'ready', port: http.port });
    let cpuAtStart = process.cpuUsage();
    process.on('message', (m: { type?: string; on?: boolean }) => {
      if (m?.type === 'timing') {
        if (m.on) {
          timing = new Map();
          cpuAtStart = process.cpuUsage();
        } else {
          const cpu = process.cpuUsage(cpuAtStart);
          const statements = [...(timing ?? new Map()).entries()].map(([statement, e]) => ({
            statement,
            calls: e.calls,
            total_ms: e.ms,
          }));
          timing = null;
          send({ type: 'timing', statements, cpuMs: (cpu.user + cpu.system) / 1000 });
        }
        return;
      }
      if (m?.type === 'cpu') {
        const cpu = process.cpuUsage();
        send({ type: 'cpu', ms: (cpu.user + cpu.system) / 1000 });
        return;
      }
      if (m?.type !== 'stop') return;
      void (async () => {
        await graphql.stop();
        await http.close();
        await db.end();
        process.exit(0);
      })();
    });
  } catch (err) {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
    process.exitCode = 1;
    process.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------
// small helpers

function options() {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      'interval-s': { type: 'string', default: '240' },
      connections: { type: 'string', default: '20' },
      'duration-s': { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      runs: { type: 'string', default: '20' },
      pool: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(benchDir, 'results', 'graphql.json') },
    },
    allowPositionals: false,
  });
  const n = (k: 'devices' | 'interval-s' | 'connections' | 'duration-s' | 'rounds' | 'runs' | 'pool') => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} wants a positive integer, got '${values[k]}'`);
    return v;
  };
  return {
    devices: n('devices'),
    intervalS: n('interval-s'),
    connections: n('connections'),
    durationS: n('duration-s'),
    rounds: n('rounds'),
    runs: n('runs'),
    pool: n('pool'),
    keep: values.keep!,
    reuse: values.reuse!,
    out: values.out!,
  };
}

const packageVersion = (name: string) =>
  (
    JSON.parse(readFileSync(path.join(benchDir, '..', 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/** Nearest-rank percentile. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function startChild(file: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  // Both servers as deployed: NODE_ENV=production (graphql-js skips its development checks, errors are masked).
  const child = fork(file, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${path.basename(file)} exited with ${code} before it was ready`)),
    );
    child.on('message', (m: PeerMessage) => {
      if (m.type === 'ready') resolve({ child, port: m.port });
      else if (m.type === 'error') reject(new Error(`${path.basename(file)} failed: ${m.message}`));
    });
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const result = await fn();
  return [result, performance.now() - t];
}

const stats = (ms: number[]) => ({
  runs: ms.length,
  median_ms: round(median(ms), 1),
  p95_ms: round(percentile(ms, 95), 1),
  min_ms: round(Math.min(...ms), 1),
  max_ms: round(Math.max(...ms), 1),
});

// ---------------------------------------------------------------------------------------------------------
// the dataset

interface Span {
  from: Date;
  to: Date;
}

async function buildDataset(db: pg.Pool, o: ReturnType<typeof options>, span: Span): Promise<number> {
  await db.query(
    `INSERT INTO dw.dim_asset (asset_nk, asset_level, parent_asset_nk, asset_name, site_nk, site_name, area_nk,
       area_name, line_nk, line_name, hierarchy_path, criticality, valid_from, row_hash, source_system)
     WITH s AS (SELECT i FROM generate_series(1, $1::int) i),
          nodes AS (
       SELECT 'S' || s.i AS nk, 'site' AS level, NULL AS parent, s.i AS si, NULL::int AS ai, NULL::int AS li,
              NULL::int AS mi FROM s
       UNION ALL SELECT 'S' || s.i || 'A' || a, 'area', 'S' || s.i, s.i, a, NULL, NULL
         FROM s, generate_series(1, 2) a
       UNION ALL SELECT 'S' || s.i || 'A' || a || 'L' || l, 'line', 'S' || s.i || 'A' || a, s.i, a, l, NULL
         FROM s, generate_series(1, 2) a, generate_series(1, 2) l
       UNION ALL SELECT 'S' || s.i || 'A' || a || 'L' || l || 'M' || m, 'asset', 'S' || s.i || 'A' || a || 'L' || l,
              s.i, a, l, m
         FROM s, generate_series(1, 2) a, generate_series(1, 2) l, generate_series(1, $2::int / ($1::int * 4)) m)
     SELECT nk, level, parent, 'Asset ' || nk, 'S' || si, 'Site ' || si,
            CASE WHEN ai IS NOT NULL THEN 'S' || si || 'A' || ai END,
            CASE WHEN ai IS NOT NULL THEN 'Area ' || si || '.' || ai END,
            CASE WHEN li IS NOT NULL THEN 'S' || si || 'A' || ai || 'L' || li END,
            CASE WHEN li IS NOT NULL THEN 'Line ' || si || '.' || ai || '.' || li END,
            text2ltree(concat_ws('.', 'S' || si, 'A' || ai, 'L' || li, 'M' || mi)),
            CASE WHEN mi % 3 = 0 THEN 'high' ELSE 'medium' END, '-infinity', '\\x01', 'bench'
     FROM nodes`,
    [SITES, ASSETS],
  );
  await db.query(`
    INSERT INTO dw.bridge_asset_hierarchy (ancestor_asset_nk, descendant_asset_nk, depth_from_ancestor, is_leaf)
    SELECT a.asset_nk, d.asset_nk, nlevel(d.hierarchy_path) - nlevel(a.hierarchy_path), d.asset_level = 'asset'
    FROM dw.dim_asset a JOIN dw.dim_asset d ON d.hierarchy_path <@ a.hierarchy_path
    WHERE a.asset_sk <> -1 AND d.asset_sk <> -1`);
  await db.query(
    `INSERT INTO dw.dim_device (device_nk, serial_number, model, manufacturer, firmware_version, installed_asset_nk,
       measurement_unit, expected_interval_s, lifecycle_status, valid_from, row_hash, source_system)
     SELECT 'dev-' || lpad(i::text, 5, '0'), 'SN-' || i, 'TX-' || (i % 4), 'Acme', '1.' || (i % 3), a.asset_nk,
            'Cel', $2::int, 'active', '-infinity', '\\x01', 'bench'
     FROM generate_series(1, $1::int) i
     JOIN (SELECT asset_nk, row_number() OVER (ORDER BY asset_nk) - 1 AS n FROM dw.dim_asset
           WHERE asset_level = 'asset' AND asset_sk <> -1) a ON a.n = (i - 1) % ${ASSETS}`,
    [o.devices, o.intervalS],
  );
  const batch = await db.query<{ batch_id: number }>(
    `INSERT INTO hub.lineage (source, mapping_id, mapping_version, target_table, rows_in, rows_out, finished_at)
     VALUES ('bench:graphql', 'bench-graphql', 1, 'dw.fact_sensor_reading', 0, 0, now()) RETURNING batch_id`,
  );
  await db.query('SELECT dw.ensure_reading_partitions($1::date, $2::date)', [span.from, span.to]);
  await db.query('SELECT dw.ensure_dim_date($1::date, $2::date)', [span.from, span.to]);

  // In chunks of devices, each in (device, time) order so the primary key's index grows at its right edge; two
  // chunks at a time (the machine has 2 cores).
  const chunk = 50;
  const perDevice = Math.floor((span.to.getTime() - span.from.getTime()) / 1000 / o.intervalS);
  const total = o.devices * perDevice;
  let loaded = 0;
  const starts = Array.from({ length: Math.ceil(o.devices / chunk) }, (_, i) => i * chunk + 1);
  const t0 = performance.now();
  const loadChunk = async (first: number) => {
    await db.query(
      `INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value,
         quality_code, batch_id, mapping_id, mapping_version, source_topic)
       SELECT d.device_sk, a.asset_sk, m.metric_sk,
              to_char(ts AT TIME ZONE 'UTC', 'YYYYMMDD')::int,
              (extract(hour FROM ts AT TIME ZONE 'UTC') * 60 + extract(minute FROM ts AT TIME ZONE 'UTC'))::smallint,
              ts, 20 + (d.device_sk % 10) + 3 * sin(extract(epoch FROM ts) / 43200 * pi()) + random(),
              1, $4, 'bench-graphql', 1, 'bench.graphql'
       FROM (SELECT * FROM dw.dim_device WHERE device_sk <> -1 ORDER BY device_sk OFFSET $1 LIMIT $2) d
       JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
       CROSS JOIN (SELECT metric_sk FROM dw.dim_metric WHERE metric_code = 'temperature') m
       CROSS JOIN LATERAL generate_series($3::timestamptz, $5::timestamptz - make_interval(secs => $6::int),
                                          make_interval(secs => $6::int)) ts`,
      [first - 1, chunk, span.from, batch.rows[0]!.batch_id, span.to, o.intervalS],
    );
    loaded += Math.min(chunk, o.devices - first + 1) * perDevice;
    const s = (performance.now() - t0) / 1000;
    log(`readings ${fmt(loaded)} / ${fmt(total)} (${fmt(loaded / s)}/s, load ${load1()})`);
  };
  const queue = [...starts];
  await Promise.all(
    [0, 1].map(async () => {
      for (let first = queue.shift(); first !== undefined; first = queue.shift()) await loadChunk(first);
    }),
  );
  log('hourly rollup from the readings');
  await db.query(
    `INSERT INTO dw.fact_sensor_hourly (device_sk, asset_sk, metric_sk, hour_start, date_key, time_key,
       n_expected, n_received, min_value, max_value, avg_value, sum_value, stddev_value)
     SELECT f.device_sk, min(f.asset_sk), f.metric_sk, date_trunc('hour', f.reading_ts), min(f.date_key),
            min(f.time_key) - min(f.time_key) % 60, 3600 / $1::int, count(*), min(f.value), max(f.value),
            avg(f.value), sum(f.value), stddev_samp(f.value)
     FROM dw.fact_sensor_reading f GROUP BY f.device_sk, f.metric_sk, date_trunc('hour', f.reading_ts)`,
    [o.intervalS],
  );
  log('asset rollup from the hourly rollup');
  await db.query(
    `INSERT INTO dw.fact_asset_hourly (asset_sk, metric_sk, hour_start, n_devices, n_expected, n_received, n_suspect,
       n_fail, min_value, max_value, sum_value)
     SELECT asset_sk, metric_sk, hour_start, count(*), sum(n_expected), sum(n_received), sum(n_suspect), sum(n_fail),
            min(min_value), max(max_value), sum(sum_value)
     FROM dw.fact_sensor_hourly GROUP BY asset_sk, metric_sk, hour_start`,
  );
  log('ANALYZE');
  await db.query('ANALYZE');
  return total;
}

// ---------------------------------------------------------------------------------------------------------
// (a) the entity query

const hubEntityQuery = `query Readings($id: ID!, $from: DateTime!, $to: DateTime!) {
  readings(deviceId: $id, from: $from, to: $to, first: 100) {
    edges { node { ts value device { id asset { name site { name } } } } } } }`;

const peerEntityQuery = `query Readings($sk: BigInt!) {
  allFactSensorReadings(first: 100, condition: { deviceSk: $sk }, orderBy: PRIMARY_KEY_ASC) {
    nodes { readingTs value device { deviceNk installedAsset { assetName site { assetName } } } } } }`;

interface EntityApi {
  name: 'hub' | 'postgraphile';
  url: string;
  headers: Record<string, string>;
  body: (device: { sk: number; nk: string }) => string;
}

async function postJson(api: EntityApi, body: string): Promise<{ data?: unknown; errors?: unknown }> {
  const res = await fetch(api.url, { method: 'POST', headers: api.headers, body });
  const answer = (await res.json()) as { data?: unknown; errors?: unknown };
  if (!res.ok || answer.errors)
    throw new Error(
      `${api.name} answered ${res.status}: ${JSON.stringify(answer.errors ?? answer).slice(0, 500)}`,
    );
  return answer;
}

/** Both APIs must give the same 100 readings with the same asset and site before any timing counts. */
async function checkSameAnswer(hub: EntityApi, peer: EntityApi, device: { sk: number; nk: string }) {
  type HubData = {
    readings: {
      edges: {
        node: {
          ts: string;
          value: number;
          device: { id: string; asset: { name: string; site: { name: string } } };
        };
      }[];
    };
  };
  type PeerData = {
    allFactSensorReadings: {
      nodes: {
        readingTs: string;
        value: number;
        device: { deviceNk: string; installedAsset: { assetName: string; site: { assetName: string } } };
      }[];
    };
  };
  const h = ((await postJson(hub, hub.body(device))).data as HubData).readings.edges.map(({ node: n }) => [
    new Date(n.ts).getTime(),
    n.value,
    n.device.id,
    n.device.asset.name,
    n.device.asset.site.name,
  ]);
  const p = ((await postJson(peer, peer.body(device))).data as PeerData).allFactSensorReadings.nodes.map(
    (n) => [
      new Date(n.readingTs).getTime(),
      n.value,
      n.device.deviceNk,
      n.device.installedAsset.assetName,
      n.device.installedAsset.site.assetName,
    ],
  );
  if (h.length !== 100 || JSON.stringify(h) !== JSON.stringify(p))
    throw new Error(
      `the hub and PostGraphile disagree for ${device.nk}: hub ${JSON.stringify(h.slice(0, 2))} (${h.length} rows), ` +
        `PostGraphile ${JSON.stringify(p.slice(0, 2))} (${p.length} rows)`,
    );
  return { device: device.nk, first_reading: h[0] };
}

type CannonResult = Awaited<ReturnType<typeof cannon>>;

/** CPU time a server child has used so far (ms). */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: PeerMessage) => {
      if (m.type !== 'cpu') return;
      child.off('message', onMessage);
      resolve(m.ms);
    };
    child.on('message', onMessage);
    child.send({ type: 'cpu' });
  });
}

async function cannon(
  api: EntityApi,
  devices: { sk: number; nk: string }[],
  o: ReturnType<typeof options>,
  server: ChildProcess,
) {
  const cpuBefore = await cpuOf(server);
  const result = await autocannon({
    url: api.url,
    connections: o.connections,
    duration: o.durationS,
    method: 'POST',
    headers: api.headers,
    requests: [
      {
        setupRequest: (req) => {
          req.body = api.body(devices[Math.floor(Math.random() * devices.length)]!);
          return req;
        },
      },
    ],
    verifyBody: (body) => !body.includes('"errors"') && body.includes('"value"'),
  });
  const cpuMs = (await cpuOf(server)) - cpuBefore;
  const bad = result.non2xx + result.errors + result.timeouts + result.mismatches;
  return {
    // The server's own CPU per request: less sensitive than req/s to what else runs on the machine.
    cpu_ms_per_request: round(cpuMs / Math.max(1, result.requests.total), 2),
    rps: round(result.requests.average, 1),
    requests: result.requests.total,
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    mean_ms: round(result.latency.average, 2),
    failed: bad,
    load1: load1(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// (b) the metric

function metricsRequest(span: Span): MetricsRequest {
  return {
    measures: ['readings.avgValue'],
    dimensions: ['readings.site'],
    timeDimension: {
      dimension: 'readings.time',
      granularity: 'hour',
      from: span.from.toISOString(),
      to: span.to.toISOString(),
    },
    limit: 5000, // the admin role's cost limit (schema/policy.yaml) allows 5000 rows of this shape
  };
}

const hubMetricsQuery = `query Metric($from: String!, $to: String!) {
  metrics(measures: ["readings.avgValue"], dimensions: ["readings.site"], limit: 5000,
          timeDimension: { dimension: "readings.time", granularity: HOUR, from: $from, to: $to }) {
    usedRollup rows } }`;

const rawMetricSql = `
  SELECT a.site_name AS site, date_trunc('hour', f.reading_ts) AS hour, avg(f.value) AS avg_value
  FROM dw.fact_sensor_reading f JOIN dw.dim_asset a ON a.asset_sk = f.asset_sk
  WHERE f.reading_ts >= $1 AND f.reading_ts < $2
  GROUP BY a.site_name, date_trunc('hour', f.reading_ts)`;

async function repeat(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 2; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push((await timed(fn))[1]);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = options();
  const config = loadConfig();
  const url = withDatabase(config.database.url, DB_NAME);
  const admin = new pg.Client({ connectionString: withDatabase(config.database.url, 'postgres') });
  await admin.connect();
  process.env.HUB_GRAPHQL_JWT_SECRET = JWT_SECRET;
  const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  let span: Span = { from: new Date(end.getTime() - DAYS * 86_400_000), to: end };
  let db: pg.Pool | undefined;
  let hubChild: ChildProcess | undefined;
  let peerChild: ChildProcess | undefined;
  try {
    let readings: number;
    let buildS: number | null = null;
    const exists =
      (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME])).rowCount! > 0;
    if (o.reuse && exists) {
      await migrateDatabase(url, 'up'); // a kept dataset from before a migration gets it (they fill from the rollup)
      db = createPool(url, { max: 4, name: 'bench' });
      const kept = await db.query<{ n: number; from: Date; to: Date }>(
        `SELECT count(*)::int8 AS n, min(hour_start) AS from, max(hour_start) + interval '1 hour' AS to
         FROM dw.fact_sensor_hourly`,
      );
      const n = await db.query<{ n: number }>('SELECT sum(n_received)::int8 AS n FROM dw.fact_sensor_hourly');
      readings = n.rows[0]!.n;
      span = { from: kept.rows[0]!.from, to: kept.rows[0]!.to };
      log(
        `reusing ${DB_NAME}: ${fmt(readings)} readings, ${span.from.toISOString()} … ${span.to.toISOString()}`,
      );
    } else {
      if (exists) await admin.query(`DROP DATABASE ${DB_NAME} WITH (FORCE)`);
      const t = performance.now();
      await ensureDatabase(url);
      await migrateDatabase(url, 'up');
      db = createPool(url, { max: 4, name: 'bench' });
      log(`scratch database ${DB_NAME} migrated; loading`);
      readings = await buildDataset(db, o, span);
      buildS = round((performance.now() - t) / 1000, 1);
      log(`dataset built in ${buildS} s: ${fmt(readings)} readings`);
    }
    const size = await db.query<{ mb: number }>(
      `SELECT round(pg_database_size(current_database()) / 1048576.0)::int AS mb`,
    );

    // (a) entity query -----------------------------------------------------------------------------------
    const [hubStarted, peerStarted] = [
      await startChild(fileURLToPath(import.meta.url), ['--serve-hub', url, String(o.pool)]),
      await startChild(path.join(benchDir, 'lib', 'postgraphile-peer.ts'), [url, String(o.pool)]),
    ];
    hubChild = hubStarted.child;
    peerChild = peerStarted.child;
    const token = await new SignJWT({ hub_role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bench')
      .setIssuer('iot-hub-idp')
      .setAudience('iot-hub-graphql')
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const vars = { from: span.from.toISOString(), to: span.to.toISOString() };
    const hub: EntityApi = {
      name: 'hub',
      url: `http://127.0.0.1:${hubStarted.port}/graphql`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: (d) => JSON.stringify({ query: hubEntityQuery, variables: { id: d.nk, ...vars } }),
    };
    const peer: EntityApi = {
      name: 'postgraphile',
      url: `http://127.0.0.1:${peerStarted.port}/graphql`,
      headers: { 'content-type': 'application/json' },
      body: (d) => JSON.stringify({ query: peerEntityQuery, variables: { sk: String(d.sk) } }),
    };
    const devices = (
      await db.query<{ sk: number; nk: string }>(
        'SELECT device_sk AS sk, device_nk AS nk FROM dw.dim_device WHERE device_sk <> -1 ORDER BY device_sk',
      )
    ).rows;
    const sameAnswer = await checkSameAnswer(hub, peer, devices[devices.length - 1]!);
    log('the hub and PostGraphile give the same 100 readings, device, asset and site; warming up');
    const serverOf = (api: EntityApi) => (api.name === 'hub' ? hubChild! : peerChild!);
    for (const api of [hub, peer]) await cannon(api, devices, { ...o, durationS: 3 }, serverOf(api));
    const rounds: { round: number; hub: CannonResult; postgraphile: CannonResult }[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      // alternate which goes first, so neither always runs on the warmer cache or the quieter machine
      const order = r % 2 ? [hub, peer] : [peer, hub];
      const got: Partial<Record<EntityApi['name'], CannonResult>> = {};
      for (const api of order) got[api.name] = await cannon(api, devices, o, serverOf(api));
      rounds.push({ round: r, hub: got.hub!, postgraphile: got.postgraphile! });
      log(
        `round ${r}: hub ${fmt(got.hub!.rps)} req/s p99 ${got.hub!.p99_ms} ms ${got.hub!.cpu_ms_per_request} CPU ms/req · PostGraphile ${fmt(got.postgraphile!.rps)} req/s p99 ${got.postgraphile!.p99_ms} ms ${got.postgraphile!.cpu_ms_per_request} CPU ms/req`,
      );
    }
    const med = (api: EntityApi['name'], k: 'rps' | 'p99_ms' | 'p50_ms' | 'cpu_ms_per_request') =>
      median(rounds.map((r) => r[api][k]));
    const failed = rounds.reduce((s, r) => s + r.hub.failed + r.postgraphile.failed, 0);
    if (failed > 0) log(`WARNING: ${failed} requests failed or answered errors; see rounds in the results`);

    // Where the time goes: sequential requests (no queueing), the hub's statements timed in its pool.
    const sequential = async (api: EntityApi, n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++)
        ms.push((await timed(() => postJson(api, api.body(devices[(i * 37) % devices.length]!))))[1]);
      return ms;
    };
    const sequentialRuns = 50;
    hubChild.send({ type: 'timing', on: true });
    const hubSeqMs = await sequential(hub, sequentialRuns);
    const statementTimes = new Promise<StatementTimes>((resolve) =>
      hubChild!.once('message', (m: TimingMessage) => resolve(m.statements)),
    );
    hubChild.send({ type: 'timing', on: false });
    const hubStatements = (await statementTimes).map((st) => ({
      statement: st.statement,
      calls_per_request: round(st.calls / sequentialRuns, 2),
      ms_per_request: round(st.total_ms / sequentialRuns, 2),
    }));
    const peerSeqMs = await sequential(peer, sequentialRuns);
    const hubDbMs = hubStatements.reduce((sum, st) => sum + st.ms_per_request, 0);
    log(
      `sequential: hub median ${round(median(hubSeqMs), 1)} ms (database ${round(hubDbMs, 1)} ms a request), PostGraphile median ${round(median(peerSeqMs), 1)} ms`,
    );

    // (b) metric -----------------------------------------------------------------------------------------
    const model = loadSemanticModel();
    const compiled = compileMetricsQuery(model, metricsRequest(span), { sites: null });
    if (!compiled.usedRollup) throw new Error(`the metric did not use the rollup: ${compiled.rollupNote}`);
    const direct = await db.query(compiled.sql, compiled.params);
    const raw = await db.query<{ site: string; hour: Date; avg_value: number }>(rawMetricSql, [
      span.from,
      span.to,
    ]);
    const viaHub = (
      (await postJson(hub, JSON.stringify({ query: hubMetricsQuery, variables: vars }))).data as {
        metrics: { usedRollup: boolean; rows: Record<string, unknown>[] };
      }
    ).metrics;
    const rawAvg = new Map(raw.rows.map((r) => [`${r.site}|${r.hour.getTime()}`, r.avg_value]));
    const mismatched = viaHub.rows.filter((row) => {
      const rawValue = rawAvg.get(
        `${row['readings.site']}|${new Date(String(row['readings.time'])).getTime()}`,
      );
      return (
        rawValue === undefined ||
        Math.abs(rawValue - Number(row['readings.avgValue'])) > 1e-9 * Math.abs(rawValue)
      );
    }).length;
    if (viaHub.rows.length !== raw.rows.length || direct.rows.length !== raw.rows.length || mismatched > 0)
      throw new Error(
        `the metric answers differ: hub ${viaHub.rows.length} rows, compiled ${direct.rows.length}, raw SQL ${raw.rows.length}, ${mismatched} values apart`,
      );
    log(
      `metric: ${fmt(raw.rows.length)} site-hours, the same from the semantic layer and the raw SQL; timing`,
    );
    const hubMs = await repeat(o.runs, () =>
      postJson(hub, JSON.stringify({ query: hubMetricsQuery, variables: vars })),
    );
    log(
      `metric via the hub: median ${round(median(hubMs), 1)} ms, p95 ${round(percentile(hubMs, 95), 1)} ms`,
    );
    const directMs = await repeat(o.runs, () => db!.query(compiled.sql, compiled.params));
    const compileMs = await repeat(o.runs, async () =>
      compileMetricsQuery(model, metricsRequest(span), { sites: null }),
    );
    log(`metric compiled SQL alone: median ${round(median(directMs), 1)} ms`);
    const rawMs = await repeat(o.runs, () => db!.query(rawMetricSql, [span.from, span.to]));
    log(`metric as raw SQL: median ${round(median(rawMs), 1)} ms, p95 ${round(percentile(rawMs, 95), 1)} ms`);

    const ratios = {
      hub_vs_postgraphile_rps: round(med('hub', 'rps') / med('postgraphile', 'rps'), 2),
      hub_vs_postgraphile_p99: round(med('postgraphile', 'p99_ms') / med('hub', 'p99_ms'), 2),
      metric_vs_raw_sql: round(median(rawMs) / median(hubMs), 1),
    };
    const goals = {
      hub_vs_postgraphile_rps: { goal: '>= 1.5', met: ratios.hub_vs_postgraphile_rps >= 1.5 },
      hub_vs_postgraphile_p99: { goal: '>= 1', met: ratios.hub_vs_postgraphile_p99 >= 1 },
      metric_vs_raw_sql: { goal: '>= 10', met: ratios.metric_vs_raw_sql >= 10 },
      metric_p95_ms: {
        goal: '< 100',
        value: round(percentile(hubMs, 95), 1),
        met: percentile(hubMs, 95) < 100,
      },
    };
    const results = {
      benchmark: 'graphql',
      ratios,
      goals,
      dataset: {
        readings,
        devices: devices.length,
        assets: ASSETS,
        sites: SITES,
        interval_s: o.intervalS,
        from: span.from.toISOString(),
        to: span.to.toISOString(),
        hourly_rows: Number((await db.query('SELECT count(*) AS n FROM dw.fact_sensor_hourly')).rows[0].n),
        database_mb: size.rows[0]!.mb,
        build_s: buildS,
      },
      entity_query: {
        method:
          'autocannon POST, the same connections and duration against each API, rounds alternating which goes first, medians of the rounds; each request asks for a random one of the devices; both servers in their own Node process with a database pool of the same size; the hub with an admin JWT (its full governance: authentication, limits, field policy, audit row per operation), PostGraphile 5 amber preset without auth; both answers checked equal before timing',
        connections: o.connections,
        duration_s: o.durationS,
        pool_max: o.pool,
        hub_query: hubEntityQuery,
        postgraphile_query: peerEntityQuery,
        same_answer_checked: sameAnswer,
        median: {
          hub: {
            rps: med('hub', 'rps'),
            p50_ms: med('hub', 'p50_ms'),
            p99_ms: med('hub', 'p99_ms'),
            cpu_ms_per_request: med('hub', 'cpu_ms_per_request'),
          },
          postgraphile: {
            rps: med('postgraphile', 'rps'),
            p50_ms: med('postgraphile', 'p50_ms'),
            p99_ms: med('postgraphile', 'p99_ms'),
            cpu_ms_per_request: med('postgraphile', 'cpu_ms_per_request'),
          },
          // Not a goal of the issue: the servers' own CPU per request, a check on req/s from a shared machine.
          postgraphile_cpu_vs_hub_cpu: round(
            med('postgraphile', 'cpu_ms_per_request') / med('hub', 'cpu_ms_per_request'),
            2,
          ),
        },
        failed_requests: failed,
        rounds,
        sequential: {
          method: `${sequentialRuns} requests one after another (no queueing); the hub's pool timed per statement, from call to result (the audit insert runs after the answer is sent)`,
          hub: { ...stats(hubSeqMs), database_ms_per_request: round(hubDbMs, 2), statements: hubStatements },
          postgraphile: stats(peerSeqMs),
        },
      },
      metric: {
        method: `hourly average per site over ${DAYS} days; ${o.runs} sequential runs each after 2 warm-ups, median and nearest-rank p95; answers checked equal (hub ↔ raw SQL per site-hour)`,
        site_hours: raw.rows.length,
        request: metricsRequest(span),
        hub_graphql: { ...stats(hubMs), used_rollup: viaHub.usedRollup },
        compiled_sql_only: { ...stats(directMs), table: compiled.table, sql: compiled.sql },
        compile_only: stats(compileMs),
        raw_sql: { ...stats(rawMs), sql: rawMetricSql.trim().replace(/\s+/g, ' ') },
      },
      machine: machineInfo({
        postgres: (await db.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v,
        postgraphile: packageVersion('postgraphile'),
        autocannon: packageVersion('autocannon'),
      }),
    };
    writeResults(o.out, results);
    log(`ratios ${JSON.stringify(ratios)} → ${path.relative(process.cwd(), o.out)}`);
  } finally {
    await Promise.all([stopChild(hubChild), stopChild(peerChild)]);
    await db?.end();
    if (!o.keep)
      await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`).catch((err: Error) => {
        log(`could not drop ${DB_NAME}: ${err.message}`);
      });
    await admin.end();
  }
}

if (process.argv[2] === '--serve-hub') await serveHub(process.argv[3]!, Number(process.argv[4]));
else await main();
