import type pg from 'pg';
import type { HubMessage } from '../kafka/index.ts';

/** A record the pipeline could not load, with what a person needs to find, explain and replay it. */
export interface DeadLetter {
  stage: 'validate' | 'map' | 'enrich' | 'load' | 'cdc';
  record: HubMessage;
  code: string;
  message: string;
  /** file:line:col when a mapping file is at fault. */
  location?: string | null;
  mappingId?: string | null;
  mappingVersion?: number | null;
  /** Index of the one reading (exploded element) of the message this letter stands for; null: the whole message. */
  readingIndex?: number | null;
}

/** Writes dead letters in the caller's transaction, so they commit together with the batch's rows and offsets. */
export async function writeDeadLetters(client: pg.ClientBase, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await client.query(
    `INSERT INTO hub.dead_letter (stage, source_topic, source_partition, source_offset, message_key, headers, payload,
       mapping_id, mapping_version, error_code, error_message, error_location, reading_index)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bytea[], $6::jsonb[], $7::bytea[],
       $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::int[])`,
    [
      letters.map((l) => l.stage),
      letters.map((l) => l.record.topic),
      letters.map((l) => l.record.partition),
      letters.map((l) => l.record.offset),
      letters.map((l) => l.record.key),
      letters.map((l) => JSON.stringify(l.record.headers)),
      letters.map((l) => l.record.value),
      letters.map((l) => l.mappingId ?? null),
      letters.map((l) => l.mappingVersion ?? null),
      letters.map((l) => l.code),
      letters.map((l) => l.message),
      letters.map((l) => l.location ?? null),
      letters.map((l) => l.readingIndex ?? null),
    ],
  );
}
