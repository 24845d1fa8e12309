import type { HubMessage } from '../../kafka/index.ts';
import type { CompiledMapping, MappedRow } from '../../mapping/index.ts';
import type { BatchLedger } from './batch-ledger.ts';
import type { MappingGroup } from './validate.ts';

/** One reading as mapped, with the message and the exploded element (null: not exploded) it came from. */
export interface MappedReading {
  row: MappedRow;
  record: HubMessage;
  mapping: CompiledMapping;
  element: number | null;
}

/**
 * map: one mapBatch per mapping. A failed record is a dead letter of the whole message; a reading the mapping
 * dropped (on_error: drop_row) is a dead letter of its own, naming the reading's index.
 */
export async function mapRecords(
  groups: readonly MappingGroup[],
  ledger: BatchLedger,
  /** Replaying one reading's dead letter: only that element of the message counts. */
  onlyReading?: number | null,
): Promise<MappedReading[]> {
  const wanted = (element: number | null) => onlyReading === undefined || element === onlyReading;
  const mapped: MappedReading[] = [];
  for (const { mapping, inputs, records } of groups) {
    const result = await mapping.mapBatch(inputs);
    for (const f of result.failed) {
      ledger.deadMessage({
        stage: 'map',
        record: records[f.index]!,
        code: f.error.code,
        message: f.error.detail,
        location: f.error.at ?? null,
        mappingId: mapping.id,
        mappingVersion: mapping.version,
      });
    }
    for (const f of result.flagged) {
      if (f.error.policy !== 'drop_row' || !wanted(f.error.element ?? null)) continue;
      const record = records[f.index]!;
      ledger.addReadings(record, 1);
      ledger.dropReading({
        stage: 'map',
        record,
        code: f.error.code,
        message: `dropped (on_error: drop_row): ${f.error.detail}`,
        location: f.error.at ?? null,
        mappingId: mapping.id,
        mappingVersion: mapping.version,
        readingIndex: f.error.element ?? null,
      });
    }
    for (let i = 0; i < result.rows.length; i++) {
      const record = records[result.rowInputs[i]!]!;
      if (ledger.isDead(record)) continue;
      const index = result.rowElements[i]!;
      const element = index < 0 ? null : index;
      if (!wanted(element)) continue;
      ledger.addReadings(record, 1);
      mapped.push({ row: result.rows[i]!, record, mapping, element });
    }
  }
  return mapped;
}
