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
  replayed_at: Date | null;
  updated_at: Date;
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

/** Why a dead letter asked for was not replayed. */
export type SkipReason = 'not_found' | 'already_replayed' | 'discarded' | 'locked' | 'not_matching';

export interface SkippedLetter {
  id: number;
  reason: SkipReason;
  /** The reason for a person, e.g. "already replayed at 2026-12-01T02:30:00.000Z". */
  message: string;
}

export interface ReplayResult {
  replayed: number[];
  stillFailing: { id: number; code: string; message: string }[];
  /** Letters asked for by id (or taken by another replayer meanwhile) that were not replayed, and why. */
  skipped: SkippedLetter[];
}

export interface ReplayContext {
  router: MappingRouter;
  cache: ReferenceCache;
  now?: () => number;
  /** A backfill: ignore the mappings' late_data.max_lateness (IngestContext.allowLate). */
  allowLate?: boolean;
}

/**
 * Runs pending dead letters through the pipeline again (after a mapping or a device clock is fixed). A letter
 * that now loads is marked replayed; one that still fails stays pending with its attempt count and new error,
 * and no second dead letter is written. Facts upsert on their natural key, so a replay never duplicates.
 * A letter asked for by id that is not replayed is reported in `skipped` with the reason.
 */
export async function replayDeadLetters(
  pool: pg.Pool,
  ctx: ReplayContext,
  filter: DeadLetterFilter = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], stillFailing: [], skipped: [] };
  const runId = `dlq-replay-${randomUUID()}`;
  const candidates = await pendingCandidates(pool, filter, result.skipped);
  for (const candidate of candidates) {
    await inTransaction(pool, async (client) => {
      // Another replayer may hold this letter: skip it rather than replaying twice.
      const { rows } = await client.query<DeadLetterRow>(
        "SELECT * FROM hub.dead_letter WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED",
        [candidate.id],
      );
      const letter = rows[0];
      if (!letter) {
        // A plain read does not wait for the row lock: it tells a letter held by another replayer from one
        // that another replayer finished (or someone discarded) since the candidates were listed.
        const { rows: now } = await client.query<DeadLetterRow>(
          'SELECT * FROM hub.dead_letter WHERE id = $1',
          [candidate.id],
        );
        const current = now[0];
        result.skipped.push(
          current?.status === 'pending'
            ? skip(Number(candidate.id), 'locked', 'locked by another replayer (try again when it is done)')
            : notPending(Number(candidate.id), current),
        );
        return;
      }
      await client.query('SAVEPOINT replay');
      // A reading's letter replays that reading only: the message's other readings loaded (or have letters of
      // their own) already.
      const outcome = await processRecords(client, [toRecord(letter)], {
        router: ctx.router,
        cache: ctx.cache,
        now: ctx.now,
        allowLate: ctx.allowLate,
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

/**
 * The pending letters matching the filter. Ids asked for that are not among them go to `skipped` with the
 * reason: a person who names an id wants to know why nothing happened to it.
 */
async function pendingCandidates(
  pool: pg.Pool,
  filter: DeadLetterFilter,
  skipped: SkippedLetter[],
): Promise<DeadLetterRow[]> {
  const limit = filter.limit ?? 10_000;
  if (!filter.ids) return listDeadLetters(pool, { ...filter, status: 'pending', limit });
  const ids = [...new Set(filter.ids)];
  const found = new Map(
    (await listDeadLetters(pool, { ids, limit: ids.length })).map((r) => [Number(r.id), r]),
  );
  const candidates: DeadLetterRow[] = [];
  for (const id of ids) {
    const row = found.get(id);
    if (row?.status !== 'pending') skipped.push(notPending(id, row));
    else if (filter.code !== undefined && row.error_code !== filter.code)
      skipped.push(skip(id, 'not_matching', `its error is ${row.error_code}, not ${filter.code}`));
    else if (filter.topic !== undefined && row.source_topic !== filter.topic)
      skipped.push(skip(id, 'not_matching', `it came from topic ${row.source_topic}, not ${filter.topic}`));
    else candidates.push(row);
  }
  return candidates.slice(0, limit);
}

function notPending(id: number, row: DeadLetterRow | undefined): SkippedLetter {
  if (!row) return skip(id, 'not_found', 'no such dead letter (iot-hub dlq list shows the pending ones)');
  if (row.status === 'replayed')
    return skip(
      id,
      'already_replayed',
      `already replayed at ${row.replayed_at ? new Date(row.replayed_at).toISOString() : 'an unknown time'}`,
    );
  return skip(id, 'discarded', `discarded at ${new Date(row.updated_at).toISOString()}`);
}

const skip = (id: number, reason: SkipReason, message: string): SkippedLetter => ({ id, reason, message });

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
