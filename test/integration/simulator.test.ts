import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createSimulationRun,
  type FaultKind,
  faultKinds,
  mdmDatabaseUrl,
  parseFaultRates,
  type SimulateOptions,
  type SimulationResult,
  seedWarehouseDimensions,
  simulate,
} from '../../src/devtools/index.ts';
import { createKafka, type HubMessage } from '../../src/kafka/index.ts';
import { type CompiledMapping, loadMappings } from '../../src/mapping/index.ts';

// The device simulator against the real broker and databases: the same seed gives the same records and
// ledger, MDM and the warehouse dimensions are seeded (idempotently), and the ledger matches what is really
// in Kafka, judged by the real mapping files (mappings/telemetry-*.yaml) the pipeline uses.

const hourMs = 3_600_000;
const allFaults: Record<FaultKind, number> = {
  drift: 0.2,
  stuck: 0.002,
  gap: 0.001,
  spike: 0.004,
  out_of_range: 0.003,
  malformed: 0.01,
  duplicate: 0.01,
  out_of_order: 0.01,
  late: 0.006,
  future: 0.005,
  unknown_device: 0.05,
};

describe('device simulator', () => {
  const sfx = randomUUID().slice(0, 8);
  const brokers = inject('kafkaBrokers');
  const databaseUrl = inject('databaseUrl');
  const serverUrl = inject('serverUrl');
  const kafka = createKafka({ brokers, clientId: 'test-simulator' });
  const hub = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const mdm = new pg.Pool({ connectionString: mdmDatabaseUrl(serverUrl), max: 2 });
  const createdTopics: string[] = [];
  // The window ends at the top of this hour: future-dated records are then in the future for the mapping.
  const start = new Date(Math.floor(Date.now() / hourMs) * hourMs - 3 * hourMs);

  const topicsFor = (run: string) => {
    const topics = { acme: `test.sim.${sfx}.${run}.acme`, flatline: `test.sim.${sfx}.${run}.flatline` };
    createdTopics.push(...Object.values(topics));
    return topics;
  };
  const options = (run: string, extra: Partial<SimulateOptions> = {}): SimulateOptions => ({
    // A fixed seed: randomness does not depend on the id prefix, so every run injects the same faults.
    seed: 'simulator-test',
    devices: 40,
    sites: 2,
    durationMs: 3 * hourMs,
    intervalMs: 60_000,
    start,
    faults: allFaults,
    idPrefix: `t${sfx}-`,
    topics: topicsFor(run),
    partitions: 3,
    batchSize: 500,
    kafka: { brokers, clientId: 'test-simulator' },
    databaseUrl,
    mdmServerUrl: serverUrl,
    ...extra,
  });

  let first: SimulationResult;
  let groundTruthFile: string;

  beforeAll(async () => {
    groundTruthFile = path.join(tmpdir(), `sim-${sfx}.json`);
    first = await simulate(options('a', { groundTruthFile }));
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics([...new Set(createdTopics)].filter((t) => existing.has(t)));
    await admin.disconnect();
    const prefix = `t${sfx}-%`;
    await hub.query('DELETE FROM dw.bridge_asset_hierarchy WHERE descendant_asset_nk LIKE $1', [prefix]);
    await hub.query('DELETE FROM dw.dim_device WHERE device_nk LIKE $1', [prefix]);
    await hub.query('DELETE FROM dw.dim_asset WHERE asset_nk LIKE $1', [prefix]);
    await mdm.query('DELETE FROM public.device WHERE device_id LIKE $1', [prefix]);
    await mdm.query('DELETE FROM public.asset WHERE asset_id LIKE $1', [prefix]);
    await Promise.all([hub.end(), mdm.end()]);
    await rm(groundTruthFile, { force: true });
  });

  it('plans the same records and faults for the same seed, and different ones for another seed', () => {
    const plan = (seed: string) => {
      const run = createSimulationRun({ ...options('plan'), seed });
      const records = [...run.records()].map((r) => [r.topic, r.key, r.value, r.headers['x-sim-seq']]);
      return { records, faults: run.faults, fleet: run.fleet };
    };
    const a = plan('same');
    const b = plan('same');
    expect(b.records).toEqual(a.records);
    expect(b.faults).toEqual(a.faults);
    expect(b.fleet).toEqual(a.fleet);
    const c = plan('other');
    expect(c.records.slice(0, 50)).not.toEqual(a.records.slice(0, 50));
  });

  it('sends the same messages and ledger again for the same seed', async () => {
    const second = await simulate(options('b'));
    expect(second.ledger).toEqual({
      ...first.ledger,
      by_topic: Object.fromEntries(
        Object.entries(first.ledger.by_topic).map(([topic, counts]) => [topic.replace('.a.', '.b.'), counts]),
      ),
    });
    expect(second.groundTruth.faults).toEqual(
      first.groundTruth.faults.map((f) =>
        'topic' in f ? { ...f, topic: f.topic.replace('.a.', '.b.') } : f,
      ),
    );
    for (const vendor of ['acme', 'flatline'] as const) {
      const a = await consumeAll(first.topics[vendor]!);
      const b = await consumeAll(second.topics[vendor]!);
      // Keyed by device, so each partition holds the same records in the same order.
      const shape = (ms: HubMessage[]) =>
        ms.map((m) => `${m.partition}/${m.offset} ${m.key} ${m.headers['x-sim-seq']} ${m.value}`);
      expect(shape(b)).toEqual(shape(a));
    }
  });

  it('seeds MDM with the registered devices and assets, owned by hub_cdc with full replica identity', async () => {
    const fleet = first.fleet;
    const registered = fleet.devices.filter((d) => d.registered);
    const prefix = `t${sfx}-%`;
    const tables = await mdm.query<{ relname: string; owner: string; relreplident: string }>(
      `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relreplident FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relname IN ('asset', 'device') ORDER BY 1`,
    );
    expect(tables.rows).toEqual([
      { relname: 'asset', owner: 'hub_cdc', relreplident: 'f' },
      { relname: 'device', owner: 'hub_cdc', relreplident: 'f' },
    ]);
    const assets = await mdm.query(
      'SELECT asset_id, parent_id, level FROM public.asset WHERE asset_id LIKE $1',
      [prefix],
    );
    expect(assets.rowCount).toBe(fleet.assets.length);
    expect(new Set(assets.rows.map((r) => r.level))).toEqual(new Set(['site', 'area', 'line', 'asset']));
    const devices = await mdm.query<{
      device_id: string;
      calibration_due: string;
      asset_id: string;
      metrics: string[];
    }>(
      `SELECT device_id, to_char(calibration_due, 'YYYY-MM-DD') AS calibration_due, asset_id, metrics
       FROM public.device WHERE device_id LIKE $1 ORDER BY device_id`,
      [prefix],
    );
    expect(devices.rows.map((r) => r.device_id)).toEqual(registered.map((d) => d.deviceId).sort());
    const d0 = registered[0]!;
    expect(devices.rows.find((r) => r.device_id === d0.deviceId)).toEqual({
      device_id: d0.deviceId,
      calibration_due: d0.calibrationDue,
      asset_id: d0.assetId,
      metrics: d0.metrics.map((m) => m.metric),
    });
    // Unknown devices send telemetry but are not in MDM.
    const unknown = fleet.devices.filter((d) => !d.registered).map((d) => d.deviceId);
    expect(unknown.length).toBeGreaterThan(0);
    expect(
      (await mdm.query('SELECT 1 FROM public.device WHERE device_id = ANY($1)', [unknown])).rowCount,
    ).toBe(0);
    // The rerun with the same seed (previous test) changed nothing in MDM.
    expect(first.mdm).toEqual({ assets: fleet.assets.length, devices: registered.length });
  });

  it('seeds the warehouse dimensions idempotently, overwriting an inferred member in place', async () => {
    const fleet = first.fleet;
    const registered = fleet.devices.filter((d) => d.registered);
    const prefix = `t${sfx}-%`;
    const victim = registered[1]!.deviceId;
    // As if the loader had met the device before MDM: an inferred member (docs/architecture.md, "Warehouse
    // schema").
    await hub.query('DELETE FROM dw.dim_device WHERE device_nk = $1', [victim]);
    await hub.query(
      `INSERT INTO dw.dim_device (device_nk, valid_from, is_inferred, row_hash, source_system, lifecycle_status)
       VALUES ($1, '-infinity', true, '\\x00', 'inferred', 'unknown')`,
      [victim],
    );
    const again = await seedWarehouseDimensions(databaseUrl, fleet);
    expect(again).toEqual({ assets: 0, bridgeRows: 0, devices: 1 });
    expect(await seedWarehouseDimensions(databaseUrl, fleet)).toEqual({
      assets: 0,
      bridgeRows: 0,
      devices: 0,
    });

    const current = await hub.query<{ nk: string; n: number }>(
      `SELECT device_nk AS nk, count(*)::int AS n FROM dw.dim_device WHERE device_nk LIKE $1 GROUP BY 1`,
      [prefix],
    );
    expect(current.rowCount).toBe(registered.length);
    expect(current.rows.every((r) => r.n === 1)).toBe(true);
    const healed = await hub.query(
      'SELECT is_inferred, installed_asset_nk, model FROM dw.dim_device WHERE device_nk = $1',
      [victim],
    );
    expect(healed.rows).toEqual([
      { is_inferred: false, installed_asset_nk: registered[1]!.assetId, model: registered[1]!.model },
    ]);

    const assets = await hub.query<{ n: number; levels: string[] }>(
      `SELECT count(*)::int AS n, array_agg(DISTINCT asset_level ORDER BY asset_level) AS levels
       FROM dw.dim_asset WHERE asset_nk LIKE $1 AND is_current`,
      [prefix],
    );
    expect(assets.rows[0]).toEqual({ n: fleet.assets.length, levels: ['area', 'asset', 'line', 'site'] });
    const machine = fleet.assets.find((a) => a.level === 'asset')!;
    const flat = await hub.query(
      'SELECT site_nk, area_nk, line_nk, nlevel(hierarchy_path) AS depth FROM dw.dim_asset WHERE asset_nk = $1',
      [machine.assetId],
    );
    expect(flat.rows).toEqual([
      { site_nk: machine.path[0], area_nk: machine.path[1], line_nk: machine.path[2], depth: 4 },
    ]);
    const bridge = await hub.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM dw.bridge_asset_hierarchy WHERE descendant_asset_nk LIKE $1',
      [prefix],
    );
    expect(bridge.rows[0]!.n).toBe(fleet.assets.reduce((n, a) => n + a.path.length, 0));
    expect(first.warehouse).toEqual({
      assets: fleet.assets.length,
      bridgeRows: fleet.assets.reduce((n, a) => n + a.path.length, 0),
      devices: registered.length,
    });
  });

  it('puts exactly the ledger on both topics, as the real mappings judge the records', async () => {
    const { mappings } = loadMappings(['mappings']);
    const mappingFor: Record<string, CompiledMapping> = {
      acme: mappings.find((m) => m.id === 'telemetry-acme')!,
      flatline: mappings.find((m) => m.id === 'telemetry-flatline')!,
    };
    const registered = new Set(first.fleet.devices.filter((d) => d.registered).map((d) => d.deviceId));
    const seen = new Set<string>();
    const tally = {
      messages: 0,
      broken_json: 0,
      schema_invalid: 0,
      future: 0,
      readings: 0,
      unique: 0,
      duplicates: 0,
      unknown: 0,
    };
    const now = Date.now();
    for (const [vendor, topic] of Object.entries(first.topics)) {
      const messages = await consumeAll(topic);
      expect(messages.length).toBe(first.ledger.by_topic[topic]!.messages_sent);
      expect(messages.length).toBeGreaterThan(0);
      const mapping = mappingFor[vendor]!;
      for (const m of messages) {
        tally.messages += 1;
        let payload: unknown;
        try {
          payload = JSON.parse(m.value!.toString());
        } catch {
          tally.broken_json += 1;
          continue;
        }
        expect(mapping.matches(payload, { topic: mapping.source.topic! })).toBe(true);
        const result = mapping.map(payload, { topic: mapping.source.topic! });
        if (result.deadLetter) {
          expect(result.deadLetter.code).toBe('SOURCE_INVALID');
          tally.schema_invalid += 1;
          continue;
        }
        expect(result.errors).toEqual([]);
        // The pipeline's late_data rule (src/ingest): beyond future_skew or max_lateness is a dead letter.
        const { futureSkewMs, maxLatenessMs } = mapping.lateData;
        const times = result.rows.map((r) => new Date(r.ts as string).getTime());
        if (times.some((t) => t > now + futureSkewMs!)) {
          tally.future += 1;
          continue;
        }
        expect(times.filter((t) => t < now - maxLatenessMs!)).toEqual([]);
        for (const row of result.rows) {
          expect(typeof row.value).toBe('number');
          tally.readings += 1;
          const key = `${row.device_id}|${row.metric}|${row.ts}`;
          if (seen.has(key)) {
            tally.duplicates += 1;
            continue;
          }
          seen.add(key);
          tally.unique += 1;
          if (!registered.has(row.device_id as string)) tally.unknown += 1;
        }
      }
    }
    const l = first.ledger;
    expect(tally).toEqual({
      messages: l.messages_sent,
      broken_json: l.broken_json_messages,
      schema_invalid: l.schema_invalid_messages,
      future: l.future_messages,
      readings: l.readings_sent,
      unique: l.unique_valid_readings,
      duplicates: l.duplicate_readings,
      unknown: l.unknown_device_readings,
    });
    expect(l.invalid_messages).toBe(l.broken_json_messages + l.schema_invalid_messages + l.future_messages);
    expect(l.messages_sent).toBe(l.valid_messages + l.invalid_messages);
    expect(l.readings_sent).toBe(l.unique_valid_readings + l.duplicate_readings);
  });

  it('records every enabled fault kind in the ground truth, and writes it to the file', async () => {
    const counts = first.groundTruth.fault_counts;
    for (const kind of faultKinds) expect(counts[kind], kind).toBeGreaterThan(0);
    const written = JSON.parse(await readFile(groundTruthFile, 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify(first.groundTruth)));
    const l = first.ledger;
    const faults = first.groundTruth.faults;
    const count = (kind: FaultKind) => faults.filter((f) => f.kind === kind).length;
    expect(count('future')).toBe(l.future_messages);
    expect(count('malformed')).toBe(l.broken_json_messages + l.schema_invalid_messages);
    expect(count('duplicate')).toBe(l.duplicate_messages);
    expect(count('unknown_device')).toBe(l.unknown_devices);

    // A duplicate is an exact re-send: two records with the same key, bytes and headers.
    const acme = await consumeAll(first.topics.acme!);
    const flatline = await consumeAll(first.topics.flatline!);
    const bySeq = new Map<string, HubMessage[]>();
    for (const m of [...acme, ...flatline]) {
      const list = bySeq.get(`${m.topic} ${m.headers['x-sim-seq']}`) ?? [];
      list.push(m);
      bySeq.set(`${m.topic} ${m.headers['x-sim-seq']}`, list);
    }
    for (const f of faults) {
      if (f.kind !== 'duplicate') continue;
      const copies = bySeq.get(`${f.topic} ${f.seq}`)!;
      expect(copies).toHaveLength(2);
      expect(copies[1]!.key?.toString()).toBe(copies[0]!.key?.toString());
      expect(copies[1]!.value?.toString()).toBe(copies[0]!.value?.toString());
    }
    // An out-of-order record follows exactly overtaken_by valid, newer records of its device in its partition.
    const invalid = new Set(
      faults.filter((f) => f.kind === 'malformed' || f.kind === 'future').map((f) => `${f.topic} ${f.seq}`),
    );
    let outOfOrder = 0;
    for (const f of faults) {
      if (f.kind !== 'out_of_order') continue;
      outOfOrder += 1;
      const record = bySeq.get(`${f.topic} ${f.seq}`)![0]!;
      const newerBefore = (f.topic === first.topics.acme ? acme : flatline).filter(
        (m) =>
          m.partition === record.partition &&
          m.key?.toString() === f.device_id &&
          BigInt(m.offset) < BigInt(record.offset) &&
          !invalid.has(`${f.topic} ${m.headers['x-sim-seq']}`) &&
          readingTime(m) > Date.parse(f.ts),
      );
      expect(f.overtaken_by).toBeGreaterThan(0);
      expect(newerBefore.length).toBe(f.overtaken_by);
    }
    expect(outOfOrder).toBeGreaterThan(0);

    // With no fault rates, nothing is injected and nothing is invalid.
    const clean = createSimulationRun({ ...options('clean'), faults: {} });
    const records = [...clean.records()];
    expect(clean.faults).toEqual([]);
    expect(
      records.every((r) => r.facts.invalid === null && !r.facts.duplicate && r.facts.delivery === 'on_time'),
    ).toBe(true);
  });

  it("refuses a window the mappings' late_data would partly dead-letter, before writing anything", async () => {
    const eightDaysAgo = new Date(Math.floor(Date.now() / hourMs) * hourMs - 8 * 24 * hourMs);
    const old = options('old', { start: eightDaysAgo, faults: {}, idPrefix: `t${sfx}-old-` });
    await expect(simulate(old)).rejects.toThrow(/TOO_LATE/);
    await expect(
      simulate({
        ...options('old2'),
        // Old history allowed (no max_lateness), but its future-dated faults would land in the past.
        start: eightDaysAgo,
        lateData: { futureSkewMs: 300_000, maxLatenessMs: null },
      }),
    ).rejects.toThrow(/future_skew/);
    const admin = kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics.filter((t) => t.startsWith(`test.sim.${sfx}.old`))).toEqual([]);
    const rows = await mdm.query('SELECT 1 FROM public.device WHERE device_id LIKE $1', [`t${sfx}-old-%`]);
    expect(rows.rowCount).toBe(0);
  });

  it('parses fault lists and rejects unknown kinds and bad rates', () => {
    expect(parseFaultRates('drift=0.01, out-of-order=0.002,malformed=0')).toEqual({
      drift: 0.01,
      out_of_order: 0.002,
      malformed: 0,
    });
    expect(parseFaultRates('')).toEqual({});
    expect(() => parseFaultRates('wobble=0.1')).toThrow(/unknown fault 'wobble'/);
    expect(() => parseFaultRates('drift=2')).toThrow(/between 0 and 1/);
    expect(() => parseFaultRates('drift')).toThrow(/between 0 and 1/);
  });

  async function consumeAll(topic: string): Promise<HubMessage[]> {
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.topicOffsets(topic);
    await admin.disconnect();
    const expected = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    const groupId = `test-sim-${randomUUID().slice(0, 8)}`;
    const consumer = kafka.consumer({ groupId, fromBeginning: true });
    const received: HubMessage[] = [];
    await consumer.connect();
    await consumer.subscribe([topic]);
    await new Promise<void>((resolve) => {
      void consumer.run(async (batch, control) => {
        received.push(...batch.messages);
        const last = batch.messages.at(-1);
        if (last) control.resolveOffset(last.offset);
        if (received.length >= expected) resolve();
      });
      if (expected === 0) resolve();
    });
    await consumer.stop();
    await consumer.disconnect();
    const admin2 = kafka.admin();
    await admin2.connect();
    await admin2.deleteGroups([groupId]).catch(() => {});
    await admin2.disconnect();
    return received.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }
});

// The reading time a record carries, in either format (NaN for a record that does not parse).
function readingTime(m: HubMessage): number {
  try {
    const payload = JSON.parse(m.value!.toString()) as { ts?: string; t?: number };
    return payload.ts !== undefined ? Date.parse(payload.ts) : Number(payload.t);
  } catch {
    return Number.NaN;
  }
}
