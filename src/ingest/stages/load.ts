import type pg from 'pg';
import type { HubMessage } from '../../kafka/index.ts';
import type { CompiledMapping } from '../../mapping/index.ts';
import { type ConflictPolicy, type FactReading, loadReadings } from '../../warehouse/index.ts';
import { writeDeadLetters } from '../dead-letters.ts';
import type { BatchCounts, BatchLedger } from './batch-ledger.ts';

export interface LoadResult {
  batchId: number;
  counts: BatchCounts;
  inserted: number;
  duplicates: number;
  updated: number;
}

/**
 * load: a lineage row (so every fact names its batch), the facts by COPY and one set-based merge per conflict
 * policy, the dead letters, and the lineage counts, all in the caller's transaction. The database checks that
 * the counts reconcile (hub.lineage constraints).
 */
export async function loadBatch(
  client: pg.PoolClient,
  input: {
    runId: string;
    records: readonly HubMessage[];
    mappings: readonly CompiledMapping[];
    facts: FactReading[];
    details: Record<string, unknown>;
  },
  ledger: BatchLedger,
): Promise<LoadResult> {
  const { records, mappings } = input;
  const single = mappings.length === 1 ? mappings[0]! : null;
  const lineage = await client.query<{ batch_id: number }>(
    `INSERT INTO hub.lineage (run_id, source, mapping_id, mapping_version, target_table, details)
     VALUES ($1, $2, $3, $4, 'dw.fact_sensor_reading', $5) RETURNING batch_id`,
    [
      input.runId,
      records[0] ? `kafka:${records[0].topic}/${records[0].partition}` : 'kafka',
      single?.id ?? null,
      single?.version ?? null,
      JSON.stringify({
        // Records come from one partition in offset order (or a single dead letter being replayed).
        offsets: records.length ? { from: records[0]!.offset, to: records.at(-1)!.offset } : null,
        mappings: mappings.map((m) => `${m.id}@${m.version}`),
        ...input.details,
      }),
    ],
  );
  const batchId = lineage.rows[0]!.batch_id;
  let inserted = 0;
  let duplicates = 0;
  let updated = 0;
  for (const [policy, facts] of byConflictPolicy(input.facts, mappings)) {
    const load = await loadReadings(client, batchId, facts, policy);
    inserted += load.inserted;
    duplicates += load.duplicates;
    updated += load.updated;
  }
  await writeDeadLetters(client, ledger.letters());
  const counts = ledger.counts();
  await client.query(
    `UPDATE hub.lineage SET rows_in = $2, rows_out = $3, rows_duplicate = $4, rows_dead_letter = $5,
       messages_in = $6, messages_dead_letter = $7, finished_at = now(),
       details = details || jsonb_build_object('readings_updated', $8::int) WHERE batch_id = $1`,
    [
      batchId,
      counts.readings,
      inserted,
      duplicates,
      counts.readingsDropped,
      counts.messages,
      counts.messagesDeadLettered,
      updated,
    ],
  );
  return { batchId, counts, inserted, duplicates, updated };
}

function byConflictPolicy(
  facts: FactReading[],
  mappings: readonly CompiledMapping[],
): Map<ConflictPolicy, FactReading[]> {
  const policies = new Map(mappings.map((m) => [m.id, conflictPolicy(m)] as const));
  // The common case: every mapping of the batch ignores re-sends; no copy of the list.
  if ([...policies.values()].every((p) => p === 'ignore')) return new Map([['ignore', facts]]);
  const split = new Map<ConflictPolicy, FactReading[]>();
  for (const f of facts) {
    const policy = policies.get(f.mappingId) ?? 'ignore';
    const list = split.get(policy);
    if (list) list.push(f);
    else split.set(policy, [f]);
  }
  return split;
}

/** The telemetry ingest writes dw.fact_sensor_reading on its key; a mapping asking otherwise is refused at start. */
export function conflictPolicy(mapping: CompiledMapping): ConflictPolicy {
  return mapping.target.on_conflict ?? 'ignore';
}

const FACT_TABLE = 'dw.fact_sensor_reading';
const FACT_GRAIN = ['device_sk', 'metric_sk', 'reading_ts'];

/** Throws an error naming the mapping file when its target is not what the telemetry ingest loads. */
export function checkFactTarget(mapping: CompiledMapping): void {
  const { table, grain } = mapping.target;
  const where = `${mapping.file} (mapping ${mapping.id} v${mapping.version})`;
  if (table !== undefined && table !== FACT_TABLE)
    throw new Error(`${where}: target.table is ${table}; the telemetry ingest loads ${FACT_TABLE} only`);
  if (grain !== undefined && grain.join(',') !== FACT_GRAIN.join(','))
    throw new Error(
      `${where}: target.grain is [${grain.join(', ')}]; ${FACT_TABLE} is keyed by [${FACT_GRAIN.join(', ')}]`,
    );
}
