import type pg from 'pg';
import type { ReferenceCache } from '../enrich/index.ts';
import type { HubMessage } from '../kafka/index.ts';
import type { CompiledMapping, MappedRow, MappingInput, MappingRouter } from '../mapping/index.ts';
import { type FactReading, loadReadings } from '../warehouse/index.ts';
import { type DeadLetter, writeDeadLetters } from './dead-letters.ts';

export interface IngestContext {
  router: MappingRouter;
  cache: ReferenceCache;
  /** Groups the lineage rows of one consumer run, replay or backfill. */
  runId: string;
  now?: () => number;
  /** Return the loaded values by natural keys (BatchOutcome.values), for a downstream listener. */
  collectValues?: boolean;
}

export interface BatchOutcome {
  batchId: number;
  records: number;
  readings: number;
  inserted: number;
  duplicates: number;
  deadLetters: number;
  inferredDevices: number;
  /** Timestamps (epoch ms) of the readings loaded, for end-to-end latency. */
  newestReadingMs: number | null;
  /** Per record offset: whether it loaded (true) or was dead-lettered (false). */
  outcomeByOffset: Map<string, boolean>;
  /** The dead letters written, in record order. */
  letters: DeadLetter[];
  /** The readings of this batch with a value, by natural keys, for downstream checks (alert rules). */
  values: LoadedValue[];
}

export interface LoadedValue {
  deviceId: string;
  metric: string;
  value: number;
  ts: number;
}

/**
 * validate → map → enrich → load for a set of records from one topic partition (or a dead-letter replay), in
 * the caller's open transaction. Every record ends either loaded or as exactly one dead letter.
 */
export async function processRecords(
  client: pg.PoolClient,
  records: HubMessage[],
  ctx: IngestContext,
): Promise<BatchOutcome> {
  const now = ctx.now?.() ?? Date.now();
  const letters: DeadLetter[] = [];
  const deadOffsets = new Set<string>();
  const id = (r: HubMessage) => `${r.topic}/${r.partition}/${r.offset}`;
  // Most batches have no dead letters: skip building record ids for them.
  const isDead = (r: HubMessage) => deadOffsets.size > 0 && deadOffsets.has(id(r));
  const dead = (l: DeadLetter) => {
    if (deadOffsets.has(id(l.record))) return;
    deadOffsets.add(id(l.record));
    letters.push(l);
  };

  // validate: bytes → JSON, then route to the mapping for this topic and payload.
  const groups = new Map<CompiledMapping, { inputs: MappingInput[]; records: HubMessage[] }>();
  for (const record of records) {
    let payload: unknown;
    try {
      if (record.value === null) throw new Error('the message has no value (a tombstone)');
      payload = JSON.parse(record.value.toString('utf8'));
    } catch (err) {
      dead({
        stage: 'validate',
        record,
        code: 'MALFORMED_PAYLOAD',
        message: `payload is not JSON: ${(err as Error).message}`,
      });
      continue;
    }
    const meta = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key?.toString() ?? null,
      timestamp: record.timestamp,
      headers: record.headers,
    };
    const mapping = ctx.router.route(payload, meta);
    if (!mapping) {
      const known = ctx.router.forTopic(record.topic).map((m) => `${m.id}@${m.version}`);
      dead({
        stage: 'validate',
        record,
        code: 'NO_MAPPING',
        message: `no mapping accepts this record on topic ${record.topic}${known.length ? ` (tried ${known.join(', ')})` : '; add a mapping file whose source.topic is this topic'}`,
      });
      continue;
    }
    let group = groups.get(mapping);
    if (!group) {
      group = { inputs: [], records: [] };
      groups.set(mapping, group);
    }
    group.inputs.push({ payload, meta });
    group.records.push(record);
  }

  // map: one mapBatch per mapping; rows keep the record they came from.
  const mapped: { row: MappedRow; record: HubMessage; mapping: CompiledMapping }[] = [];
  for (const [mapping, group] of groups) {
    const result = await mapping.mapBatch(group.inputs);
    for (const f of result.failed) {
      dead({
        stage: 'map',
        record: group.records[f.index]!,
        code: f.error.code,
        message: f.error.detail,
        location: f.error.file ? `${f.error.file}:${f.error.line}:${f.error.col}` : null,
        mappingId: mapping.id,
        mappingVersion: mapping.version,
      });
    }
    for (const [i, row] of result.rows.entries()) {
      mapped.push({ row, record: group.records[result.rowInputs[i]!]!, mapping });
    }
  }

  // enrich: late-data limits, then surrogate keys as of each reading's time (inferring unknown devices).
  const candidates: { row: MappedRow; record: HubMessage; mapping: CompiledMapping; tsMs: number }[] = [];
  // The rows of one message usually share its timestamp text: parse each distinct text once.
  let lastTs: unknown;
  let lastTsMs = Number.NaN;
  for (const m of mapped) {
    if (isDead(m.record)) continue;
    if (m.row.ts !== lastTs) {
      lastTs = m.row.ts;
      lastTsMs = Date.parse(String(m.row.ts));
    }
    const tsMs = lastTsMs;
    const problem = lateDataProblem(tsMs, now, m.mapping);
    if (problem) {
      dead({
        stage: 'enrich',
        record: m.record,
        code: problem.code,
        message: problem.message,
        mappingId: m.mapping.id,
        mappingVersion: m.mapping.version,
      });
      continue;
    }
    if (ctx.cache.metricSk(String(m.row.metric)) === null) {
      dead({
        stage: 'enrich',
        record: m.record,
        code: 'UNKNOWN_METRIC',
        message: `metric '${m.row.metric}' is not in dw.dim_metric; add it there or map it to a known metric`,
        mappingId: m.mapping.id,
        mappingVersion: m.mapping.version,
      });
      continue;
    }
    candidates.push({ row: m.row, record: m.record, mapping: m.mapping, tsMs });
  }
  const live = candidates.filter((c) => !isDead(c.record));
  const inferred = await ctx.cache.ensureDevices(
    client,
    live.map((c) => String(c.row.device_id)),
  );

  const readings: FactReading[] = [];
  const values: LoadedValue[] = [];
  let newest: number | null = null;
  let duringMaintenance = 0;
  for (const c of live) {
    const deviceId = String(c.row.device_id);
    const keys = ctx.cache.resolve(deviceId, String(c.row.metric), c.tsMs)!;
    let quality = typeof c.row.quality === 'number' ? c.row.quality : 2;
    // A reading taken while a work order is open on its device (calibration, repair) is QARTOD "suspect":
    // rollups and detectors can discount it, and nobody is paged for a sensor a technician has in hand.
    if (quality <= 2 && ctx.cache.maintenanceAt(deviceId, c.tsMs).openWorkOrder !== null) {
      quality = 3;
      duringMaintenance += 1;
    }
    readings.push({
      deviceSk: keys.deviceSk,
      assetSk: keys.assetSk,
      metricSk: keys.metricSk,
      tsMs: c.tsMs,
      value: typeof c.row.value === 'number' && Number.isFinite(c.row.value) ? c.row.value : null,
      quality,
      mappingId: c.mapping.id,
      mappingVersion: c.mapping.version,
      topic: c.record.topic,
      partition: c.record.partition,
      offset: c.record.offset,
    });
    if (ctx.collectValues && typeof c.row.value === 'number' && Number.isFinite(c.row.value)) {
      values.push({ deviceId, metric: String(c.row.metric), value: c.row.value, ts: c.tsMs });
    }
    if (newest === null || c.tsMs > newest) newest = c.tsMs;
  }

  // load: lineage row first, so every fact row can name its batch.
  const mappingsUsed = [...groups.keys()];
  const single = mappingsUsed.length === 1 ? mappingsUsed[0]! : null;
  const lineage = await client.query<{ batch_id: number }>(
    `INSERT INTO hub.lineage (run_id, source, mapping_id, mapping_version, target_table, rows_in, details)
     VALUES ($1, $2, $3, $4, 'dw.fact_sensor_reading', $5, $6) RETURNING batch_id`,
    [
      ctx.runId,
      records[0] ? `kafka:${records[0].topic}/${records[0].partition}` : 'kafka',
      single?.id ?? null,
      single?.version ?? null,
      records.length,
      JSON.stringify({
        // Records come from one partition in offset order (or a single dead letter being replayed).
        offsets: records.length ? { from: records[0]!.offset, to: records.at(-1)!.offset } : null,
        mappings: mappingsUsed.map((m) => `${m.id}@${m.version}`),
        during_maintenance: duringMaintenance,
      }),
    ],
  );
  const batchId = lineage.rows[0]!.batch_id;
  const load = await loadReadings(client, batchId, readings);
  await writeDeadLetters(client, letters);
  await client.query(
    `UPDATE hub.lineage SET rows_out = $2, rows_duplicate = $3, rows_dead_letter = $4, finished_at = now() WHERE batch_id = $1`,
    [batchId, load.inserted, load.duplicates, letters.length],
  );

  const outcomeByOffset = new Map<string, boolean>();
  for (const r of records) outcomeByOffset.set(r.offset, !isDead(r));
  return {
    batchId,
    records: records.length,
    readings: readings.length,
    inserted: load.inserted,
    duplicates: load.duplicates,
    deadLetters: letters.length,
    inferredDevices: inferred.length,
    newestReadingMs: newest,
    outcomeByOffset,
    letters,
    values,
  };
}

function lateDataProblem(
  tsMs: number,
  now: number,
  mapping: CompiledMapping,
): { code: string; message: string } | null {
  if (!Number.isFinite(tsMs))
    return { code: 'INVALID_TIMESTAMP', message: 'the mapped ts is not a timestamp' };
  const { futureSkewMs, maxLatenessMs } = mapping.lateData;
  if (futureSkewMs !== null && tsMs > now + futureSkewMs) {
    return {
      code: 'FUTURE_TIMESTAMP',
      message: `reading time ${new Date(tsMs).toISOString()} is more than ${futureSkewMs / 1000} s ahead of the hub's clock (late_data.future_skew in ${mapping.file}); fix the device clock, then replay`,
    };
  }
  if (maxLatenessMs !== null && tsMs < now - maxLatenessMs) {
    return {
      code: 'TOO_LATE',
      message: `reading time ${new Date(tsMs).toISOString()} is older than late_data.max_lateness (${maxLatenessMs / 1000} s) in ${mapping.file}; load it as a backfill`,
    };
  }
  return null;
}
