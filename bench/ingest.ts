// Ingest benchmark: `npm run bench -- ingest [options]` → bench/results/ingest.json.
//
// Loads ≥ 1,000,000 readings that are already in Kafka and, in the same run on the same machine, measures
//   hub        the hub's ingest stage (startIngest in a child process: Kafka → validate → map → enrich → COPY +
//              INSERT … ON CONFLICT DO NOTHING, offsets in hub.consumer_offsets in the same transaction);
//   copy_merge the floor for an idempotent load: psql \copy of the identical fact rows into a staging table,
//              then one INSERT … SELECT … ON CONFLICT DO NOTHING into the empty fact table;
//   jdbc_sink  the Debezium JDBC sink connector (Kafka Connect) loading the same readings, one flat schema-ful
//              JSON record per reading, into an equivalent table (upsert on device_id, metric, ts).
//
// Options: --readings N (default 1000002), --devices N (1000), --hub-runs N (3), --copy-runs N (3),
// --sink-runs N (2), --no-sink, --sink-set key=value (repeatable; overrides a connector setting),
// --cpu-prof (profile the hub child into $TMPDIR/iot-hub-bench-profiles/), --hub-node-option OPT (repeatable;
// a Node option for the hub child, e.g. --max-old-space-size=256), --out FILE.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConnectClient } from '../src/cdc/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { ensureDatabase, withDatabase } from '../src/db/index.ts';
import { createKafka, type HubAdmin, type HubProducer, type OutgoingMessage } from '../src/kafka/index.ts';
import { migrateDatabase } from '../src/warehouse/index.ts';
import { fmt, load1, log, machineInfo, median, round, sleep, writeResults } from './lib/bench-kit.ts';
import type { ChildMessage } from './lib/hub-child.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const HUB_TOPIC = 'telemetry.acme';
const SINK_TABLE = 'peer_bench_readings';
const DB_NAME = 'iot_hub_bench';

const { values: opts } = parseArgs({
  options: {
    readings: { type: 'string', default: '1000002' },
    devices: { type: 'string', default: '1000' },
    'hub-runs': { type: 'string', default: '3' },
    'copy-runs': { type: 'string', default: '3' },
    'sink-runs': { type: 'string', default: '2' },
    'no-sink': { type: 'boolean', default: false },
    'sink-set': { type: 'string', multiple: true, default: [] },
    'cpu-prof': { type: 'boolean', default: false },
    'hub-node-option': { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: path.join(benchDir, 'results', 'ingest.json') },
  },
  allowPositionals: false,
});

const READINGS_PER_MESSAGE = 3;
const messages = Math.ceil(Number(opts.readings) / READINGS_PER_MESSAGE);
const N = messages * READINGS_PER_MESSAGE;
const DEVICES = Number(opts.devices);
const hubRuns = Number(opts['hub-runs']);
const copyRuns = Number(opts['copy-runs']);
const sinkRuns = opts['no-sink'] ? 0 : Number(opts['sink-runs']);
const runId = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}_${randomUUID().slice(0, 6)}`;

// ---------------------------------------------------------------------------------------------------------
// small helpers

/** A deterministic PRNG (mulberry32), so every run produces the same values. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const deviceId = (d: number) => `bench-dev-${String(d + 1).padStart(4, '0')}`;

interface Reading {
  m: 'TEMP' | 'VIB' | 'PRESS';
  v: number;
  u: 'degF' | 'in/s' | 'psi';
  q: 'good' | 'uncertain';
}

/**
 * Message i: device i mod D, its (i div D)-th report, 10 s apart, starting two hours ago, so every
 * (device, metric, ts) is unique and well inside the mapping's late_data window (7 d back, 5 min ahead).
 */
function makeReadings(baseMs: number) {
  const rnd = prng(42);
  return (i: number): { device: string; tsMs: number; readings: Reading[] } => {
    const d = i % DEVICES;
    const j = Math.floor(i / DEVICES);
    const tsMs = baseMs + j * 10_000 + d * 7;
    const q = (): Reading['q'] => (rnd() < 0.02 ? 'uncertain' : 'good');
    return {
      device: deviceId(d),
      tsMs,
      readings: [
        { m: 'TEMP', v: round(60 + 30 * rnd(), 2), u: 'degF', q: q() },
        { m: 'VIB', v: round(0.05 + 0.3 * rnd(), 4), u: 'in/s', q: q() },
        { m: 'PRESS', v: round(14 + 2 * rnd(), 3), u: 'psi', q: q() },
      ],
    };
  };
}

/** Produces `total` messages with a few requests in flight, printing progress every 2 s. */
async function produce(
  producer: HubProducer,
  topic: string,
  total: number,
  make: (i: number) => OutgoingMessage,
  unit: string,
  perMessage = 1,
): Promise<{ seconds: number; per_s: number }> {
  const chunk = 2000;
  const inFlight = 4;
  let next = 0;
  let done = 0;
  const started = performance.now();
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    log(
      `  produce ${topic}: ${fmt(done)}/${fmt(total)} messages (${((100 * done) / total).toFixed(0)}%), ${fmt((done * perMessage) / s)} ${unit}/s`,
    );
  }, 2000);
  try {
    const worker = async () => {
      while (next < total) {
        const from = next;
        const to = Math.min(total, from + chunk);
        next = to;
        const batch: OutgoingMessage[] = [];
        for (let i = from; i < to; i++) batch.push(make(i));
        await producer.send(topic, batch);
        done += to - from;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  log(`  produced ${fmt(total)} messages to ${topic} in ${seconds.toFixed(1)} s`);
  return { seconds: round(seconds), per_s: Math.round((total * perMessage) / seconds) };
}

function runPsql(dbUrl: string, args: string[]): Promise<{ ms: number; stdout: string }> {
  const u = new URL(dbUrl);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'psql',
      [
        '-h',
        u.hostname,
        '-p',
        u.port || '5432',
        '-U',
        decodeURIComponent(u.username) || 'postgres',
        '-d',
        decodeURIComponent(u.pathname.slice(1)),
        '-X',
        '-v',
        'ON_ERROR_STOP=1',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PGPASSWORD: u.password || '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`psql exited with ${code}: ${stderr.trim()}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// database

const FACT_COLUMNS = [
  'device_sk',
  'asset_sk',
  'metric_sk',
  'date_key',
  'time_key',
  'reading_ts',
  'value',
  'quality_code',
  'batch_id',
  'mapping_id',
  'mapping_version',
  'source_topic',
  'source_partition',
  'source_offset',
].join(', ');

/** 1,000 devices on 100 assets (10 sites' lines), valid since 2020, so enrichment resolves device and asset. */
async function seedDimensions(db: pg.Pool): Promise<number[]> {
  await db.query(
    `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_name, area_name, line_name, hierarchy_path,
                               valid_from, row_hash, source_system)
     SELECT 'bench-asset-' || lpad(a::text, 3, '0'), 'asset', 'Bench asset ' || a, 'Bench site ' || (a % 10),
            'Area 1', 'Line ' || (a % 5), ('bench_site_' || (a % 10) || '.area_1.line_' || (a % 5) || '.asset_' || a)::ltree,
            '2020-01-01', '\\x01', 'bench'
     FROM generate_series(1, 100) AS a
     ON CONFLICT (asset_nk) WHERE is_current DO NOTHING`,
  );
  await db.query(
    `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, expected_interval_s, valid_from, row_hash, source_system)
     SELECT 'bench-dev-' || lpad(d::text, 4, '0'), 'bench-asset-' || lpad((1 + (d - 1) % 100)::text, 3, '0'), 10,
            '2020-01-01', '\\x01', 'bench'
     FROM generate_series(1, $1::int) AS d
     ON CONFLICT (device_nk) WHERE is_current DO NOTHING`,
    [DEVICES],
  );
  const { rows } = await db.query<{ device_sk: number }>(
    `SELECT device_sk FROM dw.dim_device WHERE device_nk = ANY($1) AND is_current`,
    [Array.from({ length: DEVICES }, (_, d) => deviceId(d))],
  );
  if (rows.length !== DEVICES) throw new Error(`seeded ${rows.length} of ${DEVICES} devices`);
  return rows.map((r) => r.device_sk);
}

async function resetHubState(db: pg.Pool): Promise<void> {
  await db.query(
    'TRUNCATE dw.fact_sensor_reading, dw.fact_sensor_hourly, hub.rollup_dirty, hub.lineage, hub.dead_letter, hub.consumer_offsets',
  );
}

async function benchFactCount(db: pg.Pool, deviceSks: number[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM dw.fact_sensor_reading WHERE device_sk = ANY($1)',
    [deviceSks],
  );
  return rows[0]!.n;
}

// ---------------------------------------------------------------------------------------------------------
// the hub

interface HubRun {
  seconds: number;
  readings_per_s: number;
  startup_s: number;
  first_row_s: number;
  steady_readings_per_s: number;
  peak_rss_mb: number;
  sampled_peak_rss_mb: number;
  cpu_user_s: number;
  cpu_system_s: number;
  batches: number;
  dead_letters: number;
  foreign_rows: number;
  load1_after: number;
}

async function runHub(
  db: pg.Pool,
  admin: HubAdmin,
  benchUrl: string,
  startOffsets: { partition: number; high: string }[],
  deviceSks: number[],
  run: number,
): Promise<HubRun> {
  await resetHubState(db);
  const groupId = `bench-ingest-${runId}-${run}`;
  // Only this run's messages count: the group starts at the offsets the topic had before they were produced.
  for (const o of startOffsets) {
    await db.query(
      'INSERT INTO hub.consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)',
      [groupId, HUB_TOPIC, o.partition, o.high],
    );
  }
  await db.query('VACUUM ANALYZE hub.consumer_offsets');
  // The child runs with the heap cap `iot-hub start` gives itself (bin/iot-hub.js), unless told otherwise.
  const given = opts['hub-node-option'] ?? [];
  const execArgv: string[] = given.some((o) => o.startsWith('--max-old-space-size'))
    ? [...given]
    : [`--max-old-space-size=${process.env.HUB_MAX_HEAP_MB ?? 256}`, ...given];
  if (opts['cpu-prof']) {
    const dir = path.join(os.tmpdir(), 'iot-hub-bench-profiles');
    log(`  profiling the hub child into ${dir}`);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const childFile = path.join(benchDir, 'lib', 'hub-child.ts');
  const started = performance.now();
  const child = spawn(process.execPath, [...execArgv, childFile, benchUrl, groupId, HUB_TOPIC], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let peakRss = 0;
  let rss = 0;
  let readyMs: number | null = null;
  let done: Extract<ChildMessage, { type: 'done' }> | null = null;
  let failure: string | null = null;
  let exited = false;
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'rss') {
      rss = m.rss;
      peakRss = Math.max(peakRss, m.rss);
    } else if (m.type === 'ready') readyMs = performance.now() - started;
    else if (m.type === 'done') done = m;
    else if (m.type === 'error') failure = m.message;
  });
  child.on('exit', () => {
    exited = true;
  });

  let firstRowMs: number | null = null;
  let lastLog = 0;
  let loaded = 0;
  let finishedMs: number | null = null;
  const deadline = started + 30 * 60_000;
  while (finishedMs === null) {
    if (failure) throw new Error(`the hub child failed: ${failure}`);
    if (exited) throw new Error('the hub child exited before loading every reading');
    if (performance.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`the hub loaded ${fmt(loaded)}/${fmt(N)} readings in 30 min; giving up`);
    }
    // Cheap progress: the lineage rows the hub writes per batch (includes any foreign messages on the topic).
    const { rows } = await db.query<{ n: number }>(
      'SELECT coalesce(sum(rows_out), 0)::bigint AS n FROM hub.lineage WHERE finished_at IS NOT NULL',
    );
    loaded = rows[0]!.n;
    const now = performance.now();
    if (loaded > 0 && firstRowMs === null) firstRowMs = now - started;
    if (loaded >= N) {
      // Exact: only the bench's devices (another test may have produced to the shared topic meanwhile).
      const exact = await benchFactCount(db, deviceSks);
      if (exact >= N) finishedMs = now - started;
    }
    if (now - lastLog > 2000) {
      lastLog = now;
      const s = (now - started) / 1000;
      log(
        `  hub run ${run}: ${fmt(loaded)}/${fmt(N)} readings (${((100 * loaded) / N).toFixed(0)}%), ${fmt(loaded / s)} readings/s, rss ${(rss / 2 ** 20).toFixed(0)} MB`,
      );
    }
    if (finishedMs === null) await sleep(250);
  }
  child.send({ type: 'stop' });
  const stopDeadline = performance.now() + 60_000;
  while (!done && !exited && performance.now() < stopDeadline) await sleep(50);
  if (!done) {
    child.kill('SIGKILL');
    throw new Error('the hub child did not report its resource usage after stop');
  }
  const d = done as Extract<ChildMessage, { type: 'done' }>;
  while (!exited && performance.now() < stopDeadline) await sleep(50);
  // The Kafka-side group only mirrors the offsets kept in PostgreSQL; drop it so runs leave nothing behind.
  await admin.deleteGroups([groupId]).catch(() => {});

  const seconds = finishedMs / 1000;
  const firstRow = (firstRowMs ?? finishedMs) / 1000;
  const { rows: lineage } = await db.query<{ batches: number; out: number; dead: number }>(
    'SELECT count(*)::int AS batches, coalesce(sum(rows_out), 0)::bigint AS out, coalesce(sum(rows_dead_letter), 0)::bigint AS dead FROM hub.lineage',
  );
  const exact = await benchFactCount(db, deviceSks);
  if (exact !== N) throw new Error(`hub run ${run}: ${exact} bench fact rows, expected ${N}`);
  const result: HubRun = {
    seconds: round(seconds),
    readings_per_s: Math.round(N / seconds),
    startup_s: round((readyMs ?? 0) / 1000),
    first_row_s: round(firstRow),
    steady_readings_per_s: Math.round(N / Math.max(0.001, seconds - firstRow)),
    peak_rss_mb: round(d.maxRssKb / 1024, 1),
    sampled_peak_rss_mb: round(Math.max(peakRss, d.sampledPeakRss) / 2 ** 20, 1),
    cpu_user_s: round(d.userCpuUs / 1e6),
    cpu_system_s: round(d.systemCpuUs / 1e6),
    batches: lineage[0]!.batches,
    dead_letters: lineage[0]!.dead,
    foreign_rows: lineage[0]!.out - N,
    load1_after: load1(),
  };
  log(
    `  hub run ${run}: ${fmt(N)} readings in ${result.seconds} s → ${fmt(result.readings_per_s)} readings/s (first row at ${result.first_row_s} s; steady ${fmt(result.steady_readings_per_s)}/s), peak RSS ${result.peak_rss_mb} MB, CPU ${result.cpu_user_s}+${result.cpu_system_s} s, ${result.batches} batches`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// peer (a): psql COPY + INSERT … ON CONFLICT DO NOTHING of the identical fact rows

async function runCopyMerge(db: pg.Pool, benchUrl: string, deviceSks: number[], workDir: string) {
  const file = path.join(workDir, 'facts.copy');
  // The rows the hub loaded, exactly (bench devices only), as a COPY text file.
  const exported = await runPsql(benchUrl, [
    '-c',
    `\\copy (SELECT ${FACT_COLUMNS} FROM dw.fact_sensor_reading WHERE device_sk IN (${deviceSks.join(',')})) TO '${file}'`,
  ]);
  log(`  exported the hub's ${fmt(N)} fact rows to ${file} (${(exported.ms / 1000).toFixed(1)} s)`);
  const script = path.join(workDir, 'copy-merge.sql');
  writeFileSync(
    script,
    `\\timing on
BEGIN;
CREATE TEMP TABLE stage_fact (
  device_sk bigint, asset_sk bigint, metric_sk smallint, date_key integer, time_key smallint, reading_ts timestamptz,
  value double precision, quality_code smallint, batch_id bigint, mapping_id text, mapping_version integer,
  source_topic text, source_partition integer, source_offset bigint) ON COMMIT DROP;
\\copy stage_fact FROM '${file}'
INSERT INTO dw.fact_sensor_reading (${FACT_COLUMNS})
  SELECT ${FACT_COLUMNS} FROM stage_fact ON CONFLICT DO NOTHING;
COMMIT;
`,
  );
  const runs: { seconds: number; readings_per_s: number; steps_ms: number[] }[] = [];
  for (let r = 1; r <= copyRuns; r++) {
    await db.query('TRUNCATE dw.fact_sensor_reading');
    await db.query('CHECKPOINT');
    const { ms, stdout } = await runPsql(benchUrl, ['-f', script]);
    const n = await benchFactCount(db, deviceSks);
    if (n !== N) throw new Error(`copy_merge run ${r}: ${n} rows loaded, expected ${N}`);
    const steps = [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]));
    const seconds = ms / 1000;
    runs.push({ seconds: round(seconds), readings_per_s: Math.round(N / seconds), steps_ms: steps });
    log(`  copy_merge run ${r}: ${fmt(N)} rows in ${seconds.toFixed(2)} s → ${fmt(N / seconds)} rows/s`);
  }
  const fileBytes = statSync(file).size;
  rmSync(file, { force: true });
  const seconds = median(runs.map((r) => r.seconds));
  return {
    readings_per_s: Math.round(N / seconds),
    seconds: round(seconds),
    runs,
    method:
      'psql -f: BEGIN; CREATE TEMP TABLE stage_fact; \\copy stage_fact FROM <the hub-loaded rows as COPY text>; INSERT INTO dw.fact_sensor_reading (14 columns) SELECT … FROM stage_fact ON CONFLICT DO NOTHING; COMMIT — into the truncated fact table, one transaction, timed around the psql process; median of runs',
    file_bytes: fileBytes,
  };
}

// ---------------------------------------------------------------------------------------------------------
// peer (b): the Debezium JDBC sink connector

const SINK_SCHEMA = JSON.stringify({
  type: 'struct',
  name: 'bench.reading',
  optional: false,
  fields: [
    { field: 'device_id', type: 'string', optional: false },
    { field: 'metric', type: 'string', optional: false },
    {
      field: 'ts',
      type: 'int64',
      optional: false,
      name: 'org.apache.kafka.connect.data.Timestamp',
      version: 1,
    },
    { field: 'value', type: 'double', optional: true },
    { field: 'unit', type: 'string', optional: true },
    { field: 'quality', type: 'string', optional: true },
  ],
});

function sinkSettings(topic: string, benchUrl: string): Record<string, string> {
  const u = new URL(benchUrl);
  const settings: Record<string, string> = {
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': '1',
    topics: topic,
    'connection.url': `jdbc:postgresql://${u.hostname}:${u.port || '5432'}/${DB_NAME}`,
    'connection.username': decodeURIComponent(u.username) || 'postgres',
    'connection.password': decodeURIComponent(u.password) || 'postgres',
    'insert.mode': 'upsert',
    'primary.key.mode': 'record_value',
    'primary.key.fields': 'device_id,metric,ts',
    'schema.evolution': 'basic',
    'collection.name.format': SINK_TABLE,
    'use.time.zone': 'UTC',
    'batch.size': '5000',
    'dialect.postgres.unnest.insert.enabled': 'true',
    'consumer.override.max.poll.records': '5000',
    'consumer.override.max.partition.fetch.bytes': String(4 * 1024 * 1024),
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'true',
  };
  for (const kv of opts['sink-set'] ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--sink-set wants key=value, got '${kv}'`);
    settings[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return settings;
}

async function groupCommitted(admin: HubAdmin, group: string, topic: string): Promise<number> {
  const offsets = await admin.groupOffsets(group, topic);
  return offsets.reduce((sum, o) => sum + Math.max(0, Number(o.offset)), 0);
}

async function runSink(
  db: pg.Pool,
  admin: HubAdmin,
  connect: ConnectClient,
  topic: string,
  settings: Record<string, string>,
  run: number,
) {
  const name = `bench-jdbc-sink-${runId}-${run}`;
  const group = `connect-${name}`;
  await db.query(`DROP TABLE IF EXISTS ${SINK_TABLE}`);
  await db.query('CHECKPOINT');
  const started = performance.now();
  await connect.putConnector({ name, config: { ...settings, name } });
  let firstRowMs: number | null = null;
  let finishedMs: number | null = null;
  let lastLog = 0;
  let committed = 0;
  let failure: string | null = null;
  try {
    const deadline = started + 60 * 60_000;
    while (finishedMs === null) {
      const now = performance.now();
      if (now > deadline) throw new Error(`the JDBC sink loaded ${fmt(committed)}/${fmt(N)} in 60 min`);
      const status = await connect.status(name);
      const failed = status && [status.connector, ...status.tasks].find((t) => t.state === 'FAILED');
      if (failed) {
        failure = (failed.trace ?? 'FAILED').split('\n').slice(0, 3).join(' | ');
        throw new Error(`the JDBC sink connector failed: ${failure}`);
      }
      committed = await groupCommitted(admin, group, topic);
      if (committed > 0 && firstRowMs === null) firstRowMs = now - started;
      // Committed offsets trail the writes by up to offset.flush.interval.ms (1 s here), so once they are near
      // the end, count the rows themselves.
      if (committed >= 0.9 * N) {
        const { rows } = await db.query<{ n: number }>(
          `SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 ELSE (SELECT count(*) FROM ${SINK_TABLE}) END::int AS n`,
          [SINK_TABLE],
        );
        if (rows[0]!.n >= N) finishedMs = performance.now() - started;
      }
      if (now - lastLog > 2000) {
        lastLog = now;
        const s = (now - started) / 1000;
        log(
          `  jdbc_sink run ${run}: ${fmt(committed)}/${fmt(N)} records committed (${((100 * committed) / N).toFixed(0)}%), ${fmt(committed / s)} records/s`,
        );
      }
      if (finishedMs === null) await sleep(committed >= 0.9 * N ? 250 : 500);
    }
  } finally {
    await connect.deleteConnector(name).catch(() => {});
    // The group outlives the connector; wait for its member to leave, then delete it.
    for (let i = 0; i < 20; i++) {
      try {
        await admin.deleteGroups([group]);
        break;
      } catch {
        await sleep(500);
      }
    }
  }
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SINK_TABLE}`);
  if (rows[0]!.n !== N) throw new Error(`jdbc_sink run ${run}: ${rows[0]!.n} rows, expected ${N}`);
  const seconds = finishedMs / 1000;
  const firstRow = (firstRowMs ?? finishedMs) / 1000;
  const result = {
    seconds: round(seconds),
    readings_per_s: Math.round(N / seconds),
    first_commit_s: round(firstRow),
    steady_readings_per_s: Math.round(N / Math.max(0.001, seconds - firstRow)),
    load1_after: load1(),
  };
  log(
    `  jdbc_sink run ${run}: ${fmt(N)} rows in ${result.seconds} s → ${fmt(result.readings_per_s)} rows/s (first commit at ${result.first_commit_s} s)`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const config = loadConfig();
  const benchUrl = withDatabase(config.database.url, DB_NAME);
  log(
    `ingest benchmark ${runId}: ${fmt(N)} readings (${fmt(messages)} acme messages × 3) from ${DEVICES} devices`,
  );
  log(`database ${DB_NAME}: create if missing, migrate up, seed devices`);
  await ensureDatabase(benchUrl);
  await migrateDatabase(benchUrl, 'up');
  const db = new pg.Pool({ connectionString: benchUrl, max: 4 });
  const deviceSks = await seedDimensions(db);
  await resetHubState(db);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'iot-hub-bench-'));

  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-ingest' });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const connect = new ConnectClient(config.connect.url);
  const sinkTopic = `bench_readings_${runId}`;

  try {
    // ---- pre-load Kafka (not timed as part of any load)
    await admin.ensureTopics([{ topic: HUB_TOPIC, partitions: 4 }]);
    const startOffsets = await admin.topicOffsets(HUB_TOPIC);
    const partitions = startOffsets.length;
    const baseMs = Math.floor(Date.now() / 1000) * 1000 - 2 * 3600_000;
    log(
      `pre-loading ${HUB_TOPIC} (${partitions} partitions; start offsets ${JSON.stringify(startOffsets.map((o) => o.high))})`,
    );
    const acme = makeReadings(baseMs);
    const hubProduce = await produce(
      producer,
      HUB_TOPIC,
      messages,
      (i) => {
        const r = acme(i);
        return {
          key: r.device,
          value: `{"schema":"acme.telemetry","v":2,"deviceId":"${r.device}","ts":"${new Date(r.tsMs).toISOString()}","readings":${JSON.stringify(r.readings)}}`,
        };
      },
      'readings',
      READINGS_PER_MESSAGE,
    );
    const endOffsets = await admin.topicOffsets(HUB_TOPIC);
    const onTopic = endOffsets.reduce(
      (s, o) => s + Number(o.high) - Number(startOffsets.find((p) => p.partition === o.partition)!.high),
      0,
    );
    if (onTopic !== messages)
      log(`  note: ${fmt(onTopic - messages)} other messages reached ${HUB_TOPIC} meanwhile (not counted)`);

    // ---- the hub
    const hubRunsOut: HubRun[] = [];
    for (let r = 1; r <= hubRuns; r++) {
      log(`hub run ${r}/${hubRuns}: startIngest in a child process, fresh consumer group`);
      hubRunsOut.push(await runHub(db, admin, benchUrl, startOffsets, deviceSks, r));
    }
    const hubSeconds = median(hubRunsOut.map((h) => h.seconds));
    const hub = {
      readings_per_s: Math.round(N / hubSeconds),
      seconds: round(hubSeconds),
      peak_rss_mb: Math.max(...hubRunsOut.map((h) => h.peak_rss_mb)),
      node_options: (opts['hub-node-option'] ?? []).some((o) => o.startsWith('--max-old-space-size'))
        ? opts['hub-node-option']
        : [`--max-old-space-size=${process.env.HUB_MAX_HEAP_MB ?? 256}`, ...(opts['hub-node-option'] ?? [])],
      runs: hubRunsOut,
      method:
        'node bench/lib/hub-child.ts → startIngest(config, {groupId: fresh, topics: [telemetry.acme]}) with hub.consumer_offsets pre-set to the offsets before the bench messages; seconds = child spawn → every bench reading committed in dw.fact_sensor_reading (polled every 250 ms via hub.lineage, confirmed with count(*)); peak_rss_mb = process.resourceUsage().maxRSS of the child; median of runs',
    };

    // ---- peer (a)
    log(`copy_merge: psql COPY + INSERT … ON CONFLICT DO NOTHING, ${copyRuns} run(s)`);
    const copyMerge = await runCopyMerge(db, benchUrl, deviceSks, workDir);

    // ---- peer (b)
    let jdbcSink: Record<string, unknown> = { skipped: true, reason: '--no-sink' };
    let sinkRate: number | null = null;
    if (sinkRuns > 0) {
      log(
        `jdbc_sink: pre-loading ${sinkTopic} (${partitions} partitions) with ${fmt(N)} schema-ful JSON records`,
      );
      await admin.ensureTopics([{ topic: sinkTopic, partitions }]);
      const settings = sinkSettings(sinkTopic, benchUrl);
      const names = ['TEMP', 'VIB', 'PRESS'] as const;
      const sinkProduce = await produce(
        producer,
        sinkTopic,
        N,
        (k) => {
          const r = acme(Math.floor(k / READINGS_PER_MESSAGE));
          const reading = r.readings[k % READINGS_PER_MESSAGE]!;
          return {
            key: r.device,
            value: `{"schema":${SINK_SCHEMA},"payload":${JSON.stringify({ device_id: r.device, metric: names[k % READINGS_PER_MESSAGE], ts: r.tsMs, value: reading.v, unit: reading.u, quality: reading.q })}}`,
          };
        },
        'records',
      );
      try {
        const runs = [];
        for (let r = 1; r <= sinkRuns; r++) {
          log(`jdbc_sink run ${r}/${sinkRuns}: register the connector, wait for ${fmt(N)} rows`);
          runs.push(await runSink(db, admin, connect, sinkTopic, settings, r));
        }
        const seconds = median(runs.map((r) => r.seconds));
        sinkRate = N / seconds;
        const { rows } = await db.query<{ ddl: string }>(
          `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS ddl
           FROM information_schema.columns WHERE table_name = $1`,
          [SINK_TABLE],
        );
        const { rows: pk } = await db.query<{ def: string }>(
          `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`,
          [SINK_TABLE],
        );
        jdbcSink = {
          readings_per_s: Math.round(sinkRate),
          seconds: round(seconds),
          runs,
          settings: {
            ...settings,
            topics: `${sinkTopic} (${partitions} partitions)`,
            'connection.password': '***',
          },
          settings_rationale:
            "chosen after 150k-reading trials on this machine: Debezium's defaults (batch.size 500, max.poll.records 500, no unnest), reWriteBatchedInserts=true without unnest, tasks.max=2, and batch.size/max.poll.records 10000 were all slower than or within noise of batch.size 5000 + max.poll.records 5000 + dialect.postgres.unnest.insert.enabled; tasks.max=1 matches the hub's single consumer process. Override with --sink-set key=value.",
          table: `${SINK_TABLE} (${rows[0]?.ddl ?? '?'}; ${pk[0]?.def ?? 'no primary key'}), created by the connector (schema.evolution=basic)`,
          record_format:
            'one flat record per reading, JsonConverter schema-ful envelope {"schema":{struct bench.reading: device_id string, metric string, ts int64 Timestamp, value double, unit string, quality string},"payload":{…}}, key = device id (StringConverter)',
          produce: sinkProduce,
          method:
            'PUT /connectors/<fresh name>/config → until count(*) of the table = N (polled every 250–500 ms; committed offsets of connect-<name> used as the cheap progress signal); includes task start and group join; median of runs; the connector and its group are deleted afterwards',
          connect:
            'Kafka Connect 4.1.2 standalone worker (shared with the stack), Debezium JDBC sink 3.5.0.Final',
        };
      } catch (err) {
        jdbcSink = { failed: true, error: (err as Error).message, settings };
        log(`  jdbc_sink FAILED: ${(err as Error).message}`);
      } finally {
        await admin.deleteTopics([sinkTopic]).catch(() => {});
        await db.query(`DROP TABLE IF EXISTS ${SINK_TABLE}`).catch(() => {});
      }
    }

    // ---- results
    const { rows: pgv } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const plugins = (await fetch(`${config.connect.url}/connector-plugins`)
      .then((r) => r.json())
      .catch(() => [])) as { class: string; version: string }[];
    const kafkaVersion = (await fetch(`${config.connect.url}/`)
      .then((r) => r.json())
      .catch(() => ({}))) as { version?: string };
    const ratioSink = sinkRate ? round(hub.readings_per_s / sinkRate) : null;
    const ratioCopy = round(hub.readings_per_s / copyMerge.readings_per_s);
    const hubSteady = Math.round(median(hubRunsOut.map((h) => h.steady_readings_per_s)));
    const sinkSteady = Array.isArray(jdbcSink.runs)
      ? Math.round(
          median((jdbcSink.runs as { steady_readings_per_s: number }[]).map((r) => r.steady_readings_per_s)),
        )
      : null;
    const results = {
      readings: N,
      messages,
      devices: DEVICES,
      run_id: runId,
      command: `npm run bench -- ingest ${process.argv.slice(2).join(' ')}`.trim(),
      hub,
      copy_merge: copyMerge,
      jdbc_sink: jdbcSink,
      ratios: { hub_vs_jdbc_sink: ratioSink, hub_vs_copy_merge: ratioCopy },
      // Without start-up (process start, mapping compile, group join / task start): first committed row → N.
      ratios_steady_state: {
        hub_readings_per_s: hubSteady,
        jdbc_sink_readings_per_s: sinkSteady,
        hub_vs_jdbc_sink: sinkSteady ? round(hubSteady / sinkSteady) : null,
        hub_vs_copy_merge: round(hubSteady / copyMerge.readings_per_s),
      },
      goals: {
        'hub_vs_jdbc_sink>=5': ratioSink === null ? null : ratioSink >= 5,
        'hub_vs_copy_merge>=0.5': ratioCopy >= 0.5,
        'rss<400MB': hub.peak_rss_mb < 400,
      },
      preload: {
        topic: HUB_TOPIC,
        partitions,
        produce: hubProduce,
        message_example: `{"schema":"acme.telemetry","v":2,"deviceId":"bench-dev-0001","ts":"…","readings":[{"m":"TEMP","v":…,"u":"degF","q":"good"},{"m":"VIB",…,"u":"in/s"},{"m":"PRESS",…,"u":"psi"}]}`,
        timestamps: `device d, report j: ${new Date(baseMs).toISOString()} + j·10 s + d·7 ms`,
      },
      machine: machineInfo({
        postgres: pgv[0]?.v ?? null,
        kafka: kafkaVersion.version ?? null,
        debezium_jdbc_sink:
          plugins.find((p) => p.class === 'io.debezium.connector.jdbc.JdbcSinkConnector')?.version ?? null,
      }),
      measured_at: new Date().toISOString(),
    };
    writeResults(opts.out, results);

    const yes = (b: boolean | null) => (b === null ? 'n/a' : b ? 'met' : 'NOT met');
    console.log(`
ingest benchmark — ${fmt(N)} readings, ${os.cpus().length} cores, node ${process.version}
  hub         ${fmt(hub.readings_per_s).padStart(9)} readings/s  ${String(hub.seconds).padStart(7)} s   peak RSS ${hub.peak_rss_mb} MB
  copy_merge  ${fmt(copyMerge.readings_per_s).padStart(9)} readings/s  ${String(copyMerge.seconds).padStart(7)} s   (psql COPY + INSERT … ON CONFLICT, median of ${copyRuns})
  jdbc_sink   ${sinkRate ? fmt(sinkRate).padStart(9) : '      n/a'} readings/s  ${sinkRate ? String(round(N / sinkRate)).padStart(7) : '    n/a'} s   (Debezium JDBC sink)
  hub / jdbc_sink  = ${ratioSink ?? 'n/a'}  (goal ≥ 5: ${yes(results.goals['hub_vs_jdbc_sink>=5'])})
  hub / copy_merge = ${ratioCopy}  (goal ≥ 0.5: ${yes(results.goals['hub_vs_copy_merge>=0.5'])})
  hub peak RSS     = ${hub.peak_rss_mb} MB  (goal < 400 MB: ${yes(results.goals['rss<400MB'])})
  → ${path.relative(process.cwd(), opts.out)}`);
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await db.end();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
