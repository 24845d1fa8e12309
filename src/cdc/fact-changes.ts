import type pg from 'pg';
import { writeDeadLetters } from '../ingest/index.ts';
import { type CompiledMapping, loadMappings, type MappedRow } from '../mapping/index.ts';
import { counter, type Logger } from '../observability/index.ts';
// Types only: cdc-service.ts routes batches here, after decoding them with its decodeDebeziumRecords.
import type { DecodedChanges } from './cdc-service.ts';

/** The one fact table change events are applied to (docs/architecture.md, "CMMS work orders"). */
const maintenanceTable = 'dw.fact_maintenance_event';

/** A fact fed by change events: the FactMapping that reads its topic (target dw.fact_maintenance_event). */
export interface CdcFact {
  topic: string;
  mapping: CompiledMapping;
  /** The mapping's device lookup says `on_missing: infer`: unknown devices get an inferred dim_device member. */
  inferDevices: boolean;
}

/**
 * The FactMappings with `source.kind: cdc` in `folder`, checked: their target must be dw.fact_maintenance_event
 * keyed by (source_system, source_event_id), with lookups `device` (dim_device, infer or unknown_member) and
 * `asset` (dim_asset, unknown_member). Throws a sentence naming the file for anything else, or for mapping errors.
 */
export function loadCdcFacts(folder = 'mappings'): CdcFact[] {
  const loaded = loadMappings([folder]);
  if (loaded.errors.length > 0)
    throw new Error(
      `mapping files have errors; fix them (iot-hub mappings validate):\n${loaded.errors.map((e) => e.message).join('\n')}`,
    );
  return loaded.mappings
    .filter((m) => m.kind === 'FactMapping' && m.source.kind === 'cdc' && m.source.topic)
    .map((mapping) => ({ topic: mapping.source.topic!, mapping, inferDevices: checkFactMapping(mapping) }));
}

function checkFactMapping(mapping: CompiledMapping): boolean {
  const problem = factMappingProblem(mapping);
  if (problem) throw new Error(`${mapping.file}: a cdc FactMapping ${problem}`);
  return mapping.lookups.some((l) => l.dimension === 'dim_device' && l.onMissing === 'infer');
}

/** What keeps the applier below from loading this mapping's rows, or null. */
function factMappingProblem(mapping: CompiledMapping): string | null {
  if (mapping.target.table !== maintenanceTable)
    return `can only load ${maintenanceTable}, not ${mapping.target.table}`;
  if ([mapping.target.natural_key ?? []].flat().join(',') !== 'source_system,source_event_id')
    return 'needs target.natural_key [source_system, source_event_id]';
  const device = mapping.lookups.find((l) => l.dimension === 'dim_device');
  const asset = mapping.lookups.find((l) => l.dimension === 'dim_asset');
  if (device?.naturalKey.device_nk !== 'device_id' || !['infer', 'unknown_member'].includes(device.onMissing))
    return 'needs lookup dim_device by device_nk: device_id with on_missing infer or unknown_member';
  if (asset?.naturalKey.asset_nk !== 'asset_nk' || asset.onMissing !== 'unknown_member')
    return 'needs lookup dim_asset by asset_nk: asset_nk with on_missing unknown_member';
  for (const lookup of [device, asset])
    if (lookup.asOf !== 'started_at') return `lookup ${lookup.name} needs as_of: started_at`;
  for (const field of ['started_at', 'finished_at', 'source_commit_lsn', 'source_lsn', 'deleted'])
    if (!mapping.fieldNames.includes(field)) return `needs the field ${field}`;
  return null;
}

/** What one batch of work-order changes did to dw.fact_maintenance_event. */
export interface FactChangeOutcome {
  /** Work orders new to the fact table. */
  inserted: number;
  /** Rows rewritten by a newer change (a status transition, an edit, a delete). */
  updated: number;
  /** Of inserted and updated, rows marked cancelled because the work order was deleted in the source. */
  deleted: number;
  /** Changes at or below the row's stored (commit LSN, LSN): replays after a Connect restart. Nothing changed. */
  duplicates: number;
  /** Changes followed by a newer change of the same work order in the same batch: only the newest is applied. */
  superseded: number;
  /** Devices the warehouse did not know, given an inferred dim_device member. */
  inferredDevices: number;
  /** Tombstones and logical messages: nothing to apply. */
  skipped: number;
  /** TRUNCATEs of the source table: ignored, the facts stay (work orders really gone arrive as deletes). */
  truncates: number;
  deadLetters: number;
}

/**
 * Counts a batch's outcome in `iot_hub_cdc_changes_total` (the dimensions' counter, declared in cdc-service.ts;
 * prom-client keeps one per name), logs it at debug, and warns about a truncated source table.
 */
export function countFactOutcome(topic: string, outcome: FactChangeOutcome, logger: Logger): void {
  const changes = counter('iot_hub_cdc_changes_total', 'Change events applied, by outcome', [
    'topic',
    'outcome',
  ]);
  for (const [key, n] of Object.entries(outcome)) if (n > 0) changes.inc({ topic, outcome: key }, n);
  logger.debug({ topic, ...outcome }, 'work order changes applied');
  if (outcome.truncates > 0)
    logger.warn(
      { topic, truncates: outcome.truncates },
      'the CMMS table was truncated; the maintenance events stay (work orders really gone must arrive as deletes)',
    );
}

/**
 * Applies decoded work-order changes (decodeDebeziumRecords over one batch of one topic) in the caller's
 * transaction, the tracked consumer's, which also stores the next offsets: map each (the FactMapping, with the
 * change's meta as $meta), keep the newest change per work order, infer unknown devices, then upsert one row per
 * work order with the device and asset versions valid at its started_at. The upsert only overwrites a row whose stored
 * (commit LSN, LSN) is lower, so replays change nothing and an older change never overwrites a newer one. A
 * delete in the source marks the row cancelled. A change that cannot be mapped or loaded is a dead letter
 * (with the events that could not be decoded, written here); the batch goes on. Empty input writes nothing.
 */
export async function applyFactChanges(
  client: pg.ClientBase,
  fact: CdcFact,
  decoded: DecodedChanges,
): Promise<FactChangeOutcome> {
  const { mapping } = fact;
  const letters = [...decoded.letters];
  const newest = new Map<string, MappedRow>();
  let superseded = 0;
  for (const change of decoded.changes) {
    const result = await mapping.mapAsync(change.payload, change.meta);
    const [row] = result.rows;
    const problem = result.deadLetter
      ? { code: result.deadLetter.code, message: result.deadLetter.detail, location: result.deadLetter.at }
      : rowProblem(row);
    if (problem || !row) {
      letters.push({
        stage: 'cdc',
        record: change.record,
        code: problem?.code ?? 'NO_ROW',
        message: problem?.message ?? 'the mapping produced no row for this change',
        location: problem?.location ?? null,
        mappingId: mapping.id,
        mappingVersion: mapping.version,
      });
      continue;
    }
    const key = `${row.source_system}\u0000${row.source_event_id}`;
    const held = newest.get(key);
    if (held) superseded += 1;
    if (!held || isNewer(row, held)) newest.set(key, row);
  }
  const rows = [...newest.values()];
  const outcome: FactChangeOutcome = {
    inserted: 0,
    updated: 0,
    deleted: 0,
    duplicates: 0,
    superseded,
    inferredDevices: 0,
    skipped: decoded.skipped,
    truncates: decoded.truncates,
    deadLetters: 0,
  };
  if (rows.length > 0) {
    if (fact.inferDevices) outcome.inferredDevices = await inferDevices(client, rows);
    // The calendar is populated for 2020–2035 (migrations/20261126000001_dw_dimensions.ts); older or later work
    // orders would break date_key's foreign key.
    await client.query(
      `SELECT dw.ensure_dim_date(d, d) FROM (SELECT DISTINCT to_date(k::text, 'YYYYMMDD') AS d FROM unnest($1::int[]) AS k) x`,
      [rows.map((r) => r.date_key)],
    );
    const written = await upsertMaintenanceEvents(client, rows);
    for (const w of written) {
      if (w.inserted) outcome.inserted += 1;
      else outcome.updated += 1;
      if (w.deleted) outcome.deleted += 1;
    }
    outcome.duplicates = rows.length - written.length;
  }
  await writeDeadLetters(client, letters);
  outcome.deadLetters = letters.length;
  return outcome;
}

/** A mapped row the fact table would reject (its CHECK constraints), said the way a CMMS user would read it. */
function rowProblem(row: MappedRow | undefined): { code: string; message: string; location?: string } | null {
  if (!row) return null;
  if (typeof row.source_event_id !== 'string' || row.source_event_id === '')
    return { code: 'MISSING_KEY', message: 'the work order has no number (source_event_id)' };
  if (typeof row.started_at !== 'string')
    return { code: 'MISSING_START', message: `work order ${row.source_event_id} has no start (opened_at)` };
  if (typeof row.finished_at === 'string' && Date.parse(row.finished_at) < Date.parse(row.started_at))
    return {
      code: 'FINISHED_BEFORE_START',
      message: `work order ${row.source_event_id} is completed (${row.finished_at}) before it was opened (${row.started_at}); correct completed_at in the CMMS`,
    };
  return null;
}

function isNewer(a: MappedRow, b: MappedRow): boolean {
  const [ac, al, bc, bl] = [a.source_commit_lsn, a.source_lsn, b.source_commit_lsn, b.source_lsn].map(Number);
  return ac! > bc! || (ac === bc && al! > bl!);
}

/**
 * Devices named by work orders that dw.dim_device has no row for at all get an inferred member valid from
 * -infinity, as the ingest does for telemetry (src/enrich/reference-cache.ts): MDM completes it in place later,
 * and this fact keeps its key. Sorted keys and the partial unique index on current rows make a concurrent
 * inference by the ingest wait, then skip.
 */
async function inferDevices(client: pg.ClientBase, rows: readonly MappedRow[]): Promise<number> {
  const assetOf = new Map<string, string | null>();
  for (const r of rows)
    if (typeof r.device_id === 'string' && r.device_id !== '')
      assetOf.set(
        r.device_id,
        typeof r.asset_nk === 'string' ? r.asset_nk : (assetOf.get(r.device_id) ?? null),
      );
  if (assetOf.size === 0) return 0;
  const nks = [...assetOf.keys()].sort();
  const { rowCount } = await client.query(
    `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, valid_from, is_inferred, lifecycle_status, row_hash,
       source_system)
     SELECT nk, asset_nk, '-infinity', true, 'inferred', '\\x00', 'hub-cdc'
     FROM unnest($1::text[], $2::text[]) AS m(nk, asset_nk)
     WHERE NOT EXISTS (SELECT 1 FROM dw.dim_device d WHERE d.device_nk = m.nk)
     ORDER BY nk
     ON CONFLICT (device_nk) WHERE is_current DO NOTHING`,
    [nks, nks.map((nk) => assetOf.get(nk) ?? null)],
  );
  return rowCount ?? 0;
}

/**
 * One statement for the batch: resolve keys, insert or overwrite when newer. The device version is the one valid
 * at started_at (or the device's latest, when it was deleted before), -1 without a device; the asset is the
 * work order's own, else the device version's installed asset, each as of started_at, else -1 (unknown member).
 * Returns the rows written; a row missing from the result was at or below the stored position.
 */
async function upsertMaintenanceEvents(
  client: pg.ClientBase,
  rows: readonly MappedRow[],
): Promise<{ inserted: boolean; deleted: boolean }[]> {
  const { rows: written } = await client.query<{ inserted: boolean; deleted: boolean }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(source_system text, source_event_id text, device_id text,
         asset_nk text, event_type text, status text, started_at timestamptz, finished_at timestamptz, date_key integer,
         work_order_number text, technician text, description text, details jsonb, source_updated_at timestamptz,
         source_commit_lsn bigint, source_lsn bigint, deleted boolean))
     INSERT INTO dw.fact_maintenance_event AS t (source_system, source_event_id, device_sk, asset_sk, date_key,
       event_type, status, started_at, finished_at, work_order_number, technician, description, details,
       source_updated_at, source_commit_lsn, source_lsn)
     SELECT i.source_system, i.source_event_id, coalesce(d.device_sk, -1),
            coalesce(a.asset_sk, ia.asset_sk, -1), i.date_key, i.event_type,
            CASE WHEN i.deleted THEN 'cancelled' ELSE i.status END, i.started_at, i.finished_at,
            i.work_order_number, i.technician, i.description,
            coalesce(i.details, '{}') || CASE WHEN i.deleted THEN '{"deleted_in_source": true}'::jsonb ELSE '{}' END,
            i.source_updated_at, i.source_commit_lsn, i.source_lsn
     FROM input i
     LEFT JOIN LATERAL (
       SELECT device_sk, installed_asset_nk FROM dw.dim_device v WHERE v.device_nk = i.device_id
       ORDER BY (i.started_at >= v.valid_from AND i.started_at < v.valid_to) DESC, v.valid_from DESC LIMIT 1) d ON true
     LEFT JOIN LATERAL (
       SELECT asset_sk FROM dw.dim_asset v WHERE v.asset_nk = i.asset_nk
       ORDER BY (i.started_at >= v.valid_from AND i.started_at < v.valid_to) DESC, v.valid_from DESC LIMIT 1) a ON true
     LEFT JOIN LATERAL (
       SELECT asset_sk FROM dw.dim_asset v WHERE i.asset_nk IS NULL AND v.asset_nk = d.installed_asset_nk
       ORDER BY (i.started_at >= v.valid_from AND i.started_at < v.valid_to) DESC, v.valid_from DESC LIMIT 1) ia ON true
     ORDER BY i.source_system, i.source_event_id
     ON CONFLICT (source_system, source_event_id) DO UPDATE SET
       device_sk = EXCLUDED.device_sk, asset_sk = EXCLUDED.asset_sk, date_key = EXCLUDED.date_key,
       event_type = EXCLUDED.event_type, status = EXCLUDED.status, started_at = EXCLUDED.started_at,
       finished_at = EXCLUDED.finished_at, work_order_number = EXCLUDED.work_order_number,
       technician = EXCLUDED.technician, description = EXCLUDED.description, details = EXCLUDED.details,
       source_updated_at = EXCLUDED.source_updated_at, source_commit_lsn = EXCLUDED.source_commit_lsn,
       source_lsn = EXCLUDED.source_lsn, loaded_at = now()
     WHERE (coalesce(t.source_commit_lsn, -1), coalesce(t.source_lsn, -1))
           < (EXCLUDED.source_commit_lsn, EXCLUDED.source_lsn)
     RETURNING (xmax = 0) AS inserted, details ? 'deleted_in_source' AS deleted`,
    [JSON.stringify(rows)],
  );
  return written;
}
