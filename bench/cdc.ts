// CDC benchmark: `npm run bench -- cdc [options]` → bench/results/cdc.json.
//
// Commits --devices × --updates changes to MDM device rows (public.device in the mdm database: firmware_version
// set to a new value, updated_at = clock_timestamp()), paced at --rate changes/s in transactions of --batch rows,
// and measures, in the same run, how long after each commit the new version is visible in
//   hub        dw.dim_device (current version) of a scratch warehouse, through a Debezium source connector with
//              its own topic prefix, slot and publication (connectors/debezium/mdm-source.json, snapshot.mode
//              no_data) and the hub's CDC stage (startCdc in a child process, so the pollers below do not share
//              its event loop);
//   enrich     a ReferenceCache on the scratch warehouse (current() polled; the device's version valid now);
//   jdbc_sink  the Debezium JDBC sink connector upserting the `after` rows (by device_id) into a plain table of
//              the scratch database.
// The JDBC sink needs schema-ful records, the hub's CDC stage reads Debezium's schemaless JSON (docs/architecture.md),
// and a Connect 4.1 JsonConverter cannot add a schema to schemaless JSON, so the sink reads a second Debezium
// connector (same table, same commits, own slot, schemas enabled) that runs alongside the hub's.
//
// A change (device d, version k) counts as visible once the target shows version ≥ k for d (an upsert never shows
// versions it overwrote within one batch). Visibility time = when the poll that first saw it returned (polls
// every --poll-ms), commit time = when the committing UPDATE returned; both from this process's clock.
//
// Options: --devices N (500), --updates N per device (100), --batch N rows per transaction (50), --rate N
// changes/s (500), --poll-ms N (25), --drain-s N (150: how long to wait for the targets after the last commit;
// changes still unseen then count with the wait's end as a lower bound of their latency), --out FILE.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConnectClient, readConnectorDefinition, startCdc } from '../src/cdc/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { ensureDatabase, withDatabase } from '../src/db/index.ts';
import { mdmDatabaseUrl, migrateMdm } from '../src/devtools/index.ts';
import { ReferenceCache } from '../src/enrich/index.ts';
import { createKafka, type HubAdmin } from '../src/kafka/index.ts';
import { createLogger } from '../src/observability/index.ts';
import { migrateDatabase } from '../src/warehouse/index.ts';
import { fmt, load1, log, machineInfo, round, sleep, writeResults } from './lib/bench-kit.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(benchDir);
const SINK_TABLE = 'peer_cdc_device';

type ChildMessage = { type: 'ready' } | { type: 'error'; message: string };

// ---------------------------------------------------------------------------------------------------------
// small helpers

function options() {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '500' },
      updates: { type: 'string', default: '100' },
      batch: { type: 'string', default: '50' },
      rate: { type: 'string', default: '500' },
      'drain-s': { type: 'string', default: '150' },
      'poll-ms': { type: 'string', default: '25' },
      out: { type: 'string', default: path.join(benchDir, 'results', 'cdc.json') },
    },
    allowPositionals: false,
  });
  const n = (k: keyof typeof values) => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} wants a positive integer, got '${values[k]}'`);
    return v;
  };
  return {
    devices: n('devices'),
    updates: n('updates'),
    batch: n('batch'),
    rate: n('rate'),
    pollMs: n('poll-ms'),
    drainS: n('drain-s'),
    out: values.out!,
  };
}

/** Nearest-rank percentile of the finite values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * Visibility of the changes to one target. Change c is (device c mod D, version ⌊c / D⌋ + 1); version 0 is the
 * row as created before the timed updates.
 */
class Visibility {
  readonly seenAt: Float64Array;
  private readonly maxVersion: Int32Array;
  seen = 0;
  firstAt = Number.POSITIVE_INFINITY;
  lastAt = 0;

  private readonly devices: number;

  constructor(devices: number, total: number) {
    this.devices = devices;
    this.seenAt = new Float64Array(total).fill(Number.NaN);
    this.maxVersion = new Int32Array(devices);
  }

  /** Target shows `version` for device d at time `at`: it and every earlier version of d are visible. */
  saw(d: number, version: number, at: number): void {
    for (let k = this.maxVersion[d]! + 1; k <= version; k++) {
      const c = (k - 1) * this.devices + d;
      if (c >= this.seenAt.length) break;
      this.seenAt[c] = at;
      this.seen += 1;
      this.firstAt = Math.min(this.firstAt, at);
      this.lastAt = Math.max(this.lastAt, at);
    }
    if (version > this.maxVersion[d]!) this.maxVersion[d] = version;
  }

  /**
   * Latency percentiles over every committed change. A change not seen by `endAt` (the bench stopped waiting)
   * counts as endAt − commit, a lower bound of its latency: with `censored` > 0 the percentiles at or above the
   * first censored rank are lower bounds too, never flattering figures from the survivors only.
   */
  summary(commitAt: Float64Array, endAt: number) {
    const lat = new Float64Array(this.seenAt.length);
    for (let c = 0; c < this.seenAt.length; c++) {
      const seen = this.seenAt[c]!;
      lat[c] = (Number.isNaN(seen) ? endAt : seen) - commitAt[c]!;
    }
    lat.sort();
    const mean = lat.reduce((s, x) => s + x, 0) / Math.max(1, lat.length);
    const censored = this.seenAt.length - this.seen;
    return {
      changes_seen: this.seen,
      censored,
      latency_ms: {
        p50: round(percentile(lat, 50), 1),
        p90: round(percentile(lat, 90), 1),
        p99: round(percentile(lat, 99), 1),
        max: round(lat[lat.length - 1] ?? Number.NaN, 1),
        mean: round(mean, 1),
      },
      latency_is_lower_bound: censored > 0,
      apply_changes_per_s:
        this.seen > 1 ? Math.round((this.seen - 1) / ((this.lastAt - this.firstAt) / 1000)) : null,
      first_to_last_applied_s: this.seen > 1 ? round((this.lastAt - this.firstAt) / 1000) : null,
    };
  }
}

/** Polls `read` every pollMs until stopped; each row (device index, version) marks visibility at return time. */
function startPoller(
  name: string,
  pollMs: number,
  read: () => Promise<[number, number][]>,
  vis: Visibility,
): { stop(): Promise<void>; polls: () => number; error: () => Error | null } {
  let running = true;
  let polls = 0;
  let failure: Error | null = null;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const rows = await read();
        const at = Date.now();
        for (const [d, v] of rows) vis.saw(d, v, at);
        polls += 1;
      } catch (err) {
        failure = new Error(`${name} poller: ${(err as Error).message}`);
        return;
      }
      await sleep(Math.max(0, pollMs - (performance.now() - started)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
    polls: () => polls,
    error: () => failure,
  };
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const opts = options();
  const D = opts.devices;
  const N = D * opts.updates;
  const runId = randomUUID().replaceAll('-', '').slice(0, 8);
  const config = loadConfig();
  const serverUrl = config.database.url;
  const dbName = `iot_hub_bench_cdc_${runId}`;
  const dwUrl = withDatabase(serverUrl, dbName);
  const mdmUrl = mdmDatabaseUrl(serverUrl);
  const hubPrefix = `bench_cdc_${runId}`;
  const sinkPrefix = `bench_cdc_sink_${runId}`;
  const hubConnector = `bench-cdc-${runId}`;
  const sinkSourceConnector = `bench-cdc-sink-src-${runId}`;
  const sinkConnector = `bench-cdc-jdbc-sink-${runId}`;
  const slots = [`bench_cdc_${runId}`, `bench_cdc_sink_${runId}`];
  const publications = [`bench_cdc_pub_${runId}`, `bench_cdc_sink_pub_${runId}`];
  const hubGroup = `bench-cdc-${runId}`;
  const topics = [`${hubPrefix}.public.device`, `${hubPrefix}.public.asset`, `${sinkPrefix}.public.device`];
  const deviceId = (d: number) => `cdcb-${runId}-${String(d).padStart(4, '0')}`;
  const ids = Array.from({ length: D }, (_, d) => deviceId(d));
  const index = new Map(ids.map((id, d) => [id, d]));
  const fw = (k: number) => `cdcb.${k}`;
  const version = (s: string) => Number(s.slice(5));

  log(
    `cdc benchmark ${runId}: ${fmt(N)} updates (${D} devices × ${opts.updates}) at ${fmt(opts.rate)} changes/s, ${opts.batch} rows per transaction`,
  );
  const connect = new ConnectClient(config.connect.url);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-cdc' });
  const admin = kafka.admin();
  await admin.connect();
  const server = new pg.Pool({ connectionString: serverUrl, max: 1 });
  const mdm = new pg.Pool({ connectionString: mdmUrl, max: 2 });
  // An idle client's connection dropped (the scratch database's DROP … WITH (FORCE)) must not crash the bench.
  for (const pool of [server, mdm]) pool.on('error', () => {});
  let dw: pg.Pool | null = null;
  let child: ChildProcess | null = null;
  const pollers: { stop(): Promise<void> }[] = [];

  try {
    log(`scratch warehouse ${dbName}: create, migrate up; mdm: migrate`);
    await ensureDatabase(dwUrl);
    await migrateDatabase(dwUrl, 'up');
    await migrateMdm(serverUrl);
    dw = new pg.Pool({ connectionString: dwUrl, max: 4 });
    dw.on('error', () => {});

    // ---- connectors: the hub's (schemaless, as in production) and the sink's (schema-ful), then the hub
    const common = {
      'slot.drop.on.stop': 'true',
      'snapshot.mode': 'no_data',
    };
    const hubDef = readConnectorDefinition(path.join(repoDir, 'connectors/debezium/mdm-source.json'), {
      ...common,
      name: hubConnector,
      'topic.prefix': hubPrefix,
      'slot.name': slots[0]!,
      'publication.name': publications[0]!,
    });
    const sinkSourceDef = readConnectorDefinition(path.join(repoDir, 'connectors/debezium/mdm-source.json'), {
      ...common,
      name: sinkSourceConnector,
      'topic.prefix': sinkPrefix,
      'slot.name': slots[1]!,
      'publication.name': publications[1]!,
      'table.include.list': 'public.device',
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
    });
    log(
      `connectors: ${hubConnector} (hub) and ${sinkSourceConnector} (for the JDBC sink), snapshot.mode no_data`,
    );
    await connect.putConnector(hubDef);
    await connect.putConnector(sinkSourceDef);
    await connect.waitRunning(hubConnector, 120_000);
    await connect.waitRunning(sinkSourceConnector, 120_000);

    log('hub: startCdc in a child process');
    child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--hub-child', dwUrl, hubPrefix, hubGroup],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const hubChild = child;
    await new Promise<void>((resolve, reject) => {
      hubChild.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') resolve();
        else reject(new Error(`the hub's CDC stage did not start: ${m.message}`));
      });
      hubChild.on('exit', (code) =>
        reject(new Error(`the hub child exited with ${code} before it was ready`)),
      );
    });

    const u = new URL(dwUrl);
    const sinkSettings: Record<string, string> = {
      'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
      'tasks.max': '1',
      topics: `${sinkPrefix}.public.device`,
      'connection.url': `jdbc:postgresql://${u.hostname}:${u.port || '5432'}/${dbName}`,
      'connection.username': decodeURIComponent(u.username) || 'postgres',
      'connection.password': decodeURIComponent(u.password) || 'postgres',
      'insert.mode': 'upsert',
      'delete.enabled': 'false',
      'primary.key.mode': 'record_key',
      'primary.key.fields': 'device_id',
      'schema.evolution': 'basic',
      'collection.name.format': SINK_TABLE,
      'use.time.zone': 'UTC',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
    };
    log(`jdbc_sink: ${sinkConnector} → ${dbName}.${SINK_TABLE} (upsert on device_id)`);
    await connect.putConnector({ name: sinkConnector, config: { ...sinkSettings, name: sinkConnector } });
    await connect.waitRunning(sinkConnector, 120_000);

    // ---- warm-up: create the devices (version 0) and wait until both targets have every one
    log(`warm-up: create ${D} devices in mdm, wait until both targets show all of them`);
    await mdm.query(
      `INSERT INTO public.device (device_id, serial_number, vendor, manufacturer, model, firmware_version, primary_metric,
         measurement_unit, range_min, range_max, resolution, metrics, metric_specs, expected_interval_s,
         calibration_interval_days, updated_at)
       SELECT id, 'SN-' || id, 'acme', 'Acme', 'TX-1', $2, 'temperature', 'Cel', -40, 125, 0.1, '{temperature}',
              '{"temperature": {"unit": "Cel"}}', 10, 365, clock_timestamp()
       FROM unnest($1::text[]) AS id`,
      [ids, fw(0)],
    );
    const present = async (sql: string) =>
      new Set((await dw!.query<{ id: string }>(sql, [ids])).rows.map((r) => r.id));
    const warmStarted = Date.now();
    let lastTouch = Date.now();
    await until(
      'the created devices in dw.dim_device and the sink table',
      async () => {
        const inHub = await present(
          'SELECT device_nk AS id FROM dw.dim_device WHERE is_current AND device_nk = ANY($1)',
        );
        const inSink = (
          await dw!.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [SINK_TABLE])
        ).rows[0]!.ok
          ? await present(`SELECT device_id AS id FROM ${SINK_TABLE} WHERE device_id = ANY($1)`)
          : new Set<string>();
        if (inHub.size === D && inSink.size === D) return true;
        // Streaming starts a moment after RUNNING: touch the devices a target lacks until they arrive.
        if (Date.now() - lastTouch > 5000) {
          lastTouch = Date.now();
          const missing = ids.filter((id) => !inHub.has(id) || !inSink.has(id));
          log(
            `  warm-up: hub ${inHub.size}/${D}, sink ${inSink.size}/${D}; touching ${missing.length} devices`,
          );
          await mdm.query(
            'UPDATE public.device SET updated_at = clock_timestamp() WHERE device_id = ANY($1)',
            [missing],
          );
        }
        return false;
      },
      180_000,
    );
    log(`  warm-up done in ${((Date.now() - warmStarted) / 1000).toFixed(1)} s`);

    // ---- pollers
    const hubVis = new Visibility(D, N);
    const sinkVis = new Visibility(D, N);
    const enrichVis = new Visibility(D, N);
    const skVersion = new Map<number, [number, number]>();
    const hubPoller = startPoller(
      'hub',
      opts.pollMs,
      async () => {
        const { rows } = await dw!.query<{ id: string; v: string; sk: number }>(
          'SELECT device_nk AS id, firmware_version AS v, device_sk AS sk FROM dw.dim_device WHERE is_current AND device_nk = ANY($1)',
          [ids],
        );
        return rows.map((r) => {
          const dv: [number, number] = [index.get(r.id)!, version(r.v)];
          skVersion.set(Number(r.sk), dv);
          return dv;
        });
      },
      hubVis,
    );
    const sinkPoller = startPoller(
      'jdbc_sink',
      opts.pollMs,
      async () => {
        const { rows } = await dw!.query<{ id: string; v: string }>(
          `SELECT device_id AS id, firmware_version AS v FROM ${SINK_TABLE} WHERE device_id = ANY($1)`,
          [ids],
        );
        return rows.map((r) => [index.get(r.id)!, version(r.v)]);
      },
      sinkVis,
    );
    // Enrichment: what a hub batch would attach readings to now. Its default change check (every 200 ms)
    // applies; a version the hub poller has not met yet is looked up by surrogate key.
    const cache = new ReferenceCache(dw);
    const enrichPoller = startPoller(
      'enrich',
      opts.pollMs,
      async () => {
        const snapshot = await cache.current();
        const now = Date.now();
        const sks = ids.map((id) => snapshot.device(id, now)?.sk ?? -1);
        const unknown = sks.filter((sk) => sk > 0 && !skVersion.has(sk));
        if (unknown.length > 0) {
          const { rows } = await dw!.query<{ id: string; v: string; sk: number }>(
            'SELECT device_nk AS id, firmware_version AS v, device_sk AS sk FROM dw.dim_device WHERE device_sk = ANY($1)',
            [unknown],
          );
          for (const r of rows) skVersion.set(Number(r.sk), [index.get(r.id)!, version(r.v)]);
        }
        return sks.flatMap((sk) => (skVersion.has(sk) ? [skVersion.get(sk)!] : []));
      },
      enrichVis,
    );
    pollers.push(hubPoller, sinkPoller, enrichPoller);

    // ---- the timed updates
    const commitAt = new Float64Array(N);
    const batches = Math.ceil(N / opts.batch);
    const intervalMs = (1000 * opts.batch) / opts.rate;
    const checkPollers = () => {
      for (const p of [hubPoller, sinkPoller, enrichPoller]) {
        const e = p.error();
        if (e) throw e;
      }
      if (hubChild.exitCode !== null) throw new Error(`the hub child exited with ${hubChild.exitCode}`);
    };
    let committed = 0;
    const progress = setInterval(() => {
      log(
        `  committed ${fmt(committed)}/${fmt(N)}; visible: hub ${fmt(hubVis.seen)}, enrich ${fmt(enrichVis.seen)}, jdbc_sink ${fmt(sinkVis.seen)}; load ${load1()}`,
      );
    }, 2000);
    log(`updates: ${fmt(batches)} transactions of ${opts.batch}, one every ${intervalMs.toFixed(1)} ms`);
    const updStarted = performance.now();
    let behind = 0;
    try {
      for (let b = 0; b < batches; b++) {
        const due = updStarted + b * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        else if (wait < -intervalMs) behind += 1;
        const from = b * opts.batch;
        const to = Math.min(N, from + opts.batch);
        const devs: string[] = [];
        const vers: string[] = [];
        for (let c = from; c < to; c++) {
          devs.push(ids[c % D]!);
          vers.push(fw(Math.floor(c / D) + 1));
        }
        await mdm.query(
          `UPDATE public.device d SET firmware_version = v.fw, updated_at = clock_timestamp()
           FROM unnest($1::text[], $2::text[]) AS v(id, fw) WHERE d.device_id = v.id`,
          [devs, vers],
        );
        const at = Date.now();
        commitAt.fill(at, from, to);
        committed = to;
        if (b % 20 === 0) checkPollers();
      }
      const updSeconds = (performance.now() - updStarted) / 1000;
      log(
        `  committed ${fmt(N)} changes in ${updSeconds.toFixed(1)} s (${fmt(N / updSeconds)} changes/s); waiting for every target`,
      );
      await until(
        'every change in dw.dim_device, the reference cache and the sink table',
        async () => {
          checkPollers();
          return hubVis.seen === N && sinkVis.seen === N && enrichVis.seen === N;
        },
        opts.drainS * 1000,
      ).catch((err: Error) =>
        log(`  ${err.message}: hub ${hubVis.seen}, enrich ${enrichVis.seen}, sink ${sinkVis.seen}`),
      );
    } finally {
      clearInterval(progress);
    }
    const updSeconds = (performance.now() - updStarted) / 1000;
    const endAt = Date.now();
    for (const p of pollers.splice(0)) await p.stop();

    // ---- results
    const hub = hubVis.summary(commitAt, endAt);
    const enrich = enrichVis.summary(commitAt, endAt);
    const sink = sinkVis.summary(commitAt, endAt);
    const { rows: versions } = await dw.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM dw.dim_device WHERE device_nk = ANY($1)',
      [ids],
    );
    const { rows: pgv } = await server.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const plugins = (await fetch(`${config.connect.url}/connector-plugins`)
      .then((r) => r.json())
      .catch(() => [])) as { class: string; version: string }[];
    const kafkaVersion = (await connect.info().catch(() => ({ version: null }))).version;
    const ratio =
      Number.isFinite(hub.latency_ms.p99) && Number.isFinite(sink.latency_ms.p99) && hub.latency_ms.p99 > 0
        ? round(sink.latency_ms.p99 / hub.latency_ms.p99, 4)
        : null;
    const complete = hub.censored === 0 && sink.censored === 0;
    // With censored changes a p99 is a lower bound: the goals say met/not met only where that still decides.
    const ratioGoal =
      ratio === null
        ? null
        : complete
          ? ratio >= 1
          : hub.censored > 0 && sink.censored === 0 && ratio < 1
            ? false
            : sink.censored > 0 && hub.censored === 0 && ratio >= 1
              ? true
              : null;
    const p99Goal =
      hub.censored === 0 ? hub.latency_ms.p99 < 2000 : hub.latency_ms.p99 >= 2000 ? false : null;
    const results = {
      changes: N,
      devices: D,
      updates_per_device: opts.updates,
      rows_per_transaction: opts.batch,
      offered_changes_per_s: opts.rate,
      achieved_commit_changes_per_s: Math.round(N / ((commitAt[N - 1]! - commitAt[0]!) / 1000 || 1)),
      late_transactions: behind,
      poll_ms: opts.pollMs,
      run_id: runId,
      command: `npm run bench -- cdc ${process.argv.slice(2).join(' ')}`.trim(),
      hub: {
        ...hub,
        dim_device_versions: versions[0]!.n,
        method:
          'Debezium PostgreSQL source (connectors/debezium/mdm-source.json; own topic.prefix, slot, publication; snapshot.mode no_data) → startCdc(config, {topicPrefix, groupId}) in a child process → dw.dim_device of a scratch warehouse; visible = the current row of the device carries the version (or a later one), polled every poll_ms',
      },
      enrich: {
        ...enrich,
        method:
          'new ReferenceCache(pool on the scratch warehouse).current() polled every poll_ms in the bench process (default change check every 200 ms via hub.reference_version; no markChanged, as in a hub process other than the CDC one); visible = snapshot.device(id, now) is the version (or a later one)',
      },
      jdbc_sink: {
        ...sink,
        method:
          'a second Debezium PostgreSQL source (same mdm-source.json, own prefix/slot/publication, table public.device, JSON schemas enabled — the JDBC sink needs schema-ful records and the hub reads schemaless ones) → Debezium JDBC sink (insert.mode upsert on the record key device_id, schema.evolution basic, otherwise defaults) → a plain table of the scratch database; visible = its row carries the version (or a later one), polled every poll_ms',
        settings: { ...sinkSettings, 'connection.password': '***' },
      },
      ratios: { hub_vs_jdbc_sink_p99_latency: ratio },
      goals: {
        'hub_vs_jdbc_sink_p99_latency>=1': ratioGoal,
        'hub_p99<2s': p99Goal,
      },
      complete,
      ratio_note: complete
        ? 'jdbc_sink p99 ÷ hub p99'
        : `jdbc_sink p99 ÷ hub p99, with changes still unseen after the ${opts.drainS} s wait counted at the end of the wait (censored): a censored p99 is a lower bound, so the ratio is ${hub.censored > 0 && sink.censored === 0 ? 'an upper bound' : sink.censored > 0 && hub.censored === 0 ? 'a lower bound' : 'indeterminate'}`,
      timing:
        'commit time = when the committing UPDATE (one statement, autocommit) returned to this process; visible time = when the poll that first saw the version returned (so a latency includes up to one poll interval and one query); both Date.now() of this process. A change counts as visible once the target shows that version or a later one of its device.',
      first_commit_to_end_of_wait_s: round(updSeconds),
      machine: machineInfo({
        postgres: pgv[0]?.v ?? null,
        kafka_connect: kafkaVersion,
        debezium:
          plugins.find((p) => p.class === 'io.debezium.connector.jdbc.JdbcSinkConnector')?.version ?? null,
      }),
      measured_at: new Date().toISOString(),
    };
    writeResults(opts.out, results);

    const yes = (b: boolean | null) => (b === null ? 'undetermined' : b ? 'met' : 'NOT met');
    const ge = (s: typeof hub) => (s.censored > 0 ? '≥' : ' ');
    const line = (name: string, s: typeof hub) =>
      `  ${name.padEnd(10)} p50 ${ge(s)}${String(s.latency_ms.p50).padStart(7)} ms  p99 ${ge(s)}${String(s.latency_ms.p99).padStart(7)} ms  max ${ge(s)}${String(s.latency_ms.max).padStart(7)} ms  ${fmt(s.apply_changes_per_s ?? 0).padStart(6)} changes/s applied  (${fmt(s.changes_seen)}/${fmt(N)} seen)`;
    console.log(`
cdc benchmark — ${fmt(N)} updates at ${fmt(opts.rate)} changes/s offered, ${os.cpus().length} cores
${line('hub', hub)}
${line('enrich', enrich)}
${line('jdbc_sink', sink)}
  jdbc_sink p99 / hub p99 = ${ratio ?? 'n/a'}  (goal ≥ 1: ${yes(results.goals['hub_vs_jdbc_sink_p99_latency>=1'])})
  hub p99 = ${hub.latency_ms.p99} ms  (goal < 2000 ms: ${yes(results.goals['hub_p99<2s'])})
  → ${path.relative(process.cwd(), opts.out)}`);
  } finally {
    log(
      'cleanup: pollers, connectors, hub child, slots, publications, topics, groups, mdm rows, scratch database',
    );
    for (const p of pollers) await p.stop().catch(() => {});
    for (const name of [sinkConnector, sinkSourceConnector, hubConnector])
      await connect.deleteConnector(name).catch(() => {});
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      // A batch in flight finishes first; one stuck past 15 s is killed (its transaction rolls back).
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await cleanup(mdm, admin, slots, publications, topics, [hubGroup, `connect-${sinkConnector}`]);
    await mdm.query('DELETE FROM public.device WHERE device_id LIKE $1', [`cdcb-${runId}-%`]).catch(() => {});
    await dw?.end().catch(() => {});
    await server.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((err: Error) => {
      log(`  could not drop ${dbName}: ${err.message}; drop it by hand`);
    });
    await admin.disconnect().catch(() => {});
    await mdm.end().catch(() => {});
    await server.end().catch(() => {});
  }
}

/** Drops what the connectors leave behind; a slot is dropped once its walsender has let go of it. */
async function cleanup(
  mdm: pg.Pool,
  admin: HubAdmin,
  slots: string[],
  publications: string[],
  topics: string[],
  groups: string[],
): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const { rows } = await mdm
      .query<{ slot_name: string; active: boolean }>(
        'SELECT slot_name, active FROM pg_replication_slots WHERE slot_name = ANY($1)',
        [slots],
      )
      .catch(() => ({ rows: [] as { slot_name: string; active: boolean }[] }));
    if (rows.length === 0) break;
    for (const r of rows.filter((r) => !r.active))
      await mdm.query('SELECT pg_drop_replication_slot($1)', [r.slot_name]).catch(() => {});
    await sleep(500);
  }
  for (const p of publications) await mdm.query(`DROP PUBLICATION IF EXISTS ${p}`).catch(() => {});
  await admin.deleteTopics(topics).catch(() => {});
  // A group outlives its members for a moment: retry until it is empty and can go.
  for (const group of groups) {
    for (let i = 0; i < 10; i++) {
      try {
        await admin.deleteGroups([group]);
        break;
      } catch {
        await sleep(500);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// the hub's CDC stage, when this file runs as the child: --hub-child <warehouse url> <topic prefix> <group>

if (process.argv[2] === '--hub-child') {
  const [, , , url, prefix, groupId] = process.argv;
  const config = loadConfig();
  config.database.url = url!;
  try {
    const cdc = await startCdc(config, {
      logger: createLogger(process.env.BENCH_HUB_LOG_LEVEL ?? 'warn'),
      topicPrefix: prefix!,
      groupId: groupId!,
    });
    const stop = async () => {
      await cdc.stop().catch(() => {});
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('disconnect', stop);
    process.send?.({ type: 'ready' } satisfies ChildMessage);
  } catch (err) {
    process.send?.({ type: 'error', message: (err as Error).message } satisfies ChildMessage);
    process.exit(1);
  }
} else {
  await main();
}
