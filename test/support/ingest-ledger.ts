import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import type { HubKafka } from '../../src/kafka/index.ts';

export const telemetryTopics = ['telemetry.acme', 'telemetry.flatline'];

/** Stores `groupId`'s offsets at the topics' current end, so only records produced afterwards belong to a test. */
export async function seedGroupAtEnd(
  kafka: HubKafka,
  db: pg.Pool,
  groupId: string,
): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  const start: Record<string, number> = {};
  try {
    await admin.ensureTopics(telemetryTopics.map((topic) => ({ topic, partitions: 4 })));
    for (const topic of telemetryTopics) {
      for (const o of await admin.topicOffsets(topic)) {
        start[`${topic}/${o.partition}`] = Number(o.high);
        await db.query(
          'INSERT INTO hub.consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, $4)',
          [groupId, topic, o.partition, o.high],
        );
      }
    }
  } finally {
    await admin.disconnect();
  }
  return start;
}

export interface Ledger {
  facts: number;
  deadLetters: number;
}

/** Dead letters of records at or after the start offsets (this test's records). */
export async function deadLettersSince(
  db: pg.Pool,
  start: Record<string, number>,
): Promise<pg.QueryResultRow[]> {
  const keys = Object.keys(start);
  const { rows } = await db.query(
    `SELECT dl.* FROM hub.dead_letter dl
     JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS s(topic, part, first_offset)
       ON dl.source_topic = s.topic AND dl.source_partition = s.part AND dl.source_offset >= s.first_offset
     ORDER BY dl.id`,
    [keys.map((k) => k.split('/')[0]), keys.map((k) => Number(k.split('/')[1])), keys.map((k) => start[k])],
  );
  return rows;
}

/** Fact rows of devices whose id starts with `devicePrefix`, and dead letters at or after the start offsets. */
export async function readLedger(
  db: pg.Pool,
  devicePrefix: string,
  start: Record<string, number>,
): Promise<Ledger> {
  const facts = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk LIKE $1',
    [`${devicePrefix}%`],
  );
  // Whole-message letters: the simulator's ledger counts invalid messages. Readings dropped from loaded messages
  // (reading_index set) are accounted in hub.lineage and tested in ingest-accounting.test.ts.
  const letters = await deadLettersSince(db, start);
  return { facts: facts.rows[0]!.n, deadLetters: letters.filter((l) => l.reading_index === null).length };
}

/** Polls until the ledger reaches `expected` (or the time runs out), then waits a moment for strays. */
export async function waitForLedger(
  db: pg.Pool,
  devicePrefix: string,
  start: Record<string, number>,
  expected: Ledger,
  timeoutMs = 120_000,
): Promise<Ledger> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = await readLedger(db, devicePrefix, start);
    if ((l.facts >= expected.facts && l.deadLetters >= expected.deadLetters) || Date.now() > deadline) {
      await new Promise((r) => setTimeout(r, 1500));
      return readLedger(db, devicePrefix, start);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs `iot-hub start` as a separate process, as an operator would, on the test database and group. */
export function startHubProcess(databaseUrl: string, groupId: string, port = 0): ChildProcess {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-proc-'));
  const config = path.join(dir, 'iot-hub.yaml');
  // A short session timeout lets the surviving process take over a killed one's partitions quickly.
  writeFileSync(config, 'kafka:\n  sessionTimeoutMs: 6000\nlog:\n  level: warn\n');
  return spawn(
    process.execPath,
    ['bin/iot-hub.js', 'start', '--port', String(port), '--ingest-group', groupId],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, HUB_CONFIG: config },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Waits for the positive signal that a group has handled everything on `topic` so far: its stored offsets
 * (hub.consumer_offsets, committed with the rows) reach the end of every partition. Throws after `timeoutMs`.
 */
export async function waitForGroupAtEnd(
  kafka: HubKafka,
  db: pg.Pool,
  groupId: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.topicOffsets(topic).finally(() => admin.disconnect());
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ partition: number; next_offset: string | number }>(
      'SELECT partition, next_offset FROM hub.consumer_offsets WHERE consumer_group = $1 AND topic = $2',
      [groupId, topic],
    );
    const at = new Map(rows.map((r) => [Number(r.partition), Number(r.next_offset)]));
    if (ends.every((e) => (at.get(e.partition) ?? 0) >= Number(e.high))) return;
    if (Date.now() > deadline)
      throw new Error(`group ${groupId} did not reach the end of ${topic}: ${JSON.stringify([...at])}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Deletes a test's own topics (missing ones are fine). */
export async function dropTopics(kafka: HubKafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics(topics).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}
