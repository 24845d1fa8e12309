import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../db/index.ts';
import type { ReferenceCache } from '../enrich/index.ts';
import type { HubMessage } from '../kafka/index.ts';
import type { MappingRouter } from '../mapping/index.ts';
import { processRecords } from './process-records.ts';

export interface DeadLetterRow {
  id: number;
  created_at: Date;
  stage: string;
  source_topic: string | null;
  source_partition: number | null;
  source_offset: number | null;
  message_key: Buffer | null;
  headers: Record<string, string>;
  payload: Buffer | null;
  mapping_id: string | null;
  mapping_version: number | null;
  error_code: string;
  error_message: string;
  error_location: string | null;
  status: 'pending' | 'replayed' | 'discarded';
  attempts: number;
  /** The one reading of the message this letter stands for; null for the whole message. */
  reading_index: number | null;
}

export interface DeadLetterFilter {
  status?: 'pending' | 'replayed' | 'discarded';
  code?: string;
  topic?: string;
  ids?: number[];
  limit?: number;
}

export async function listDeadLetters(
  pool: pg.Pool,
  filter: DeadLetterFilter = {},
): Promise<DeadLetterRow[]> {
  const { rows } = await pool.query<DeadLetterRow>(
    `SELECT * FROM hub.dead_letter
     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR error_code = $2)
       AND ($3::text IS NULL OR source_topic = $3) AND ($4::bigint[] IS NULL OR id = ANY($4))
     ORDER BY id LIMIT $5`,
    [
      filter.status ?? null,
      filter.code ?? null,
      filter.topic ?? null,
      filter.ids ?? null,
      filter.limit ?? 100,
    ],
  );
  return rows;
}

export interface ReplayResult {
  replayed: number[];
  stillFailing: { id: number; code: string; message: string }[];
}

/**
 * Runs pending dead letters through the pipeline again (after a mapping or a device clock is fixed). A letter
 * that now loads is marked replayed; one that still fails stays pending with its attempt count and new error,
 * and no second dead letter is written. Facts upsert on their natural key, so a replay never duplicates.
 */
export async function replayDeadLetters(
  pool: pg.Pool,
  ctx: { router: MappingRouter; cache: ReferenceCache; now?: () => number },
  filter: DeadLetterFilter = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], stillFailing: [] };
  const runId = `dlq-replay-${randomUUID()}`;
  const candidates = await listDeadLetters(pool, {
    ...filter,
    status: 'pending',
    limit: filter.limit ?? 10_000,
  });
  for (const candidate of candidates) {
    await inTransaction(pool, async (client) => {
      // Another replayer may hold this letter: skip it rather than replaying twice.
      const { rows } = await client.query<DeadLetterRow>(
        "SELECT * FROM hub.dead_letter WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED",
        [candidate.id],
      );
      const letter = rows[0];
      if (!letter) return;
      await client.query('SAVEPOINT replay');
      // A reading's letter replays that reading only: the message's other readings loaded (or have letters of
      // their own) already.
      const outcome = await processRecords(client, [toRecord(letter)], {
        ...ctx,
        runId,
        onlyReading: letter.reading_index ?? undefined,
      });
      // Still failing: the message failed whole again, or (for a reading's letter) that reading did. A whole
      // message that now loads while some of its readings drop keeps those new reading letters.
      const again =
        letter.reading_index === null
          ? outcome.letters.find((l) => (l.readingIndex ?? null) === null)
          : outcome.letters[0];
      if (again) {
        await client.query('ROLLBACK TO SAVEPOINT replay');
        await client.query(
          `UPDATE hub.dead_letter SET attempts = attempts + 1, error_code = $2, error_message = $3, error_location = $4,
             stage = $5, mapping_id = $6, mapping_version = $7, updated_at = now() WHERE id = $1`,
          [
            letter.id,
            again.code,
            again.message,
            again.location ?? null,
            again.stage,
            again.mappingId ?? null,
            again.mappingVersion ?? null,
          ],
        );
        result.stillFailing.push({ id: Number(letter.id), code: again.code, message: again.message });
      } else {
        await client.query(
          "UPDATE hub.dead_letter SET status = 'replayed', replayed_at = now(), attempts = attempts + 1, updated_at = now() WHERE id = $1",
          [letter.id],
        );
        result.replayed.push(Number(letter.id));
      }
    });
  }
  return result;
}

function toRecord(l: DeadLetterRow): HubMessage {
  return {
    topic: l.source_topic ?? '',
    partition: l.source_partition ?? 0,
    offset: String(l.source_offset ?? 0),
    key: l.message_key,
    value: l.payload,
    headers: l.headers ?? {},
    timestamp: new Date(l.created_at).getTime(),
  };
}
