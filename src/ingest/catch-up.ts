import type pg from 'pg';
import type { HubKafka } from '../kafka/index.ts';

export type EndOffsets = Record<string, string>;

/** The topics' current end offsets, keyed "topic/partition": what "caught up" means at this moment. */
export async function endOffsets(kafka: HubKafka, topics: string[]): Promise<EndOffsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends: EndOffsets = {};
    for (const topic of topics)
      for (const o of await admin.topicOffsets(topic)) ends[`${topic}/${o.partition}`] = o.high;
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the group's committed offsets in PostgreSQL reach `ends` (every record before them is loaded or
 * dead-lettered), reporting progress; resolves false on timeout.
 */
export async function waitForCatchUp(
  pool: pg.Pool,
  groupId: string,
  ends: EndOffsets,
  options: { timeoutMs?: number; onProgress?: (remaining: number) => void } = {},
): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  let lastReport = 0;
  for (;;) {
    const { rows } = await pool.query<{ topic: string; partition: number; next_offset: string | number }>(
      'SELECT topic, partition, next_offset FROM hub.consumer_offsets WHERE consumer_group = $1',
      [groupId],
    );
    const stored = new Map(rows.map((r) => [`${r.topic}/${r.partition}`, BigInt(r.next_offset)]));
    let remaining = 0n;
    for (const [key, end] of Object.entries(ends)) {
      const gap = BigInt(end) - (stored.get(key) ?? 0n);
      if (gap > 0n) remaining += gap;
    }
    if (remaining === 0n) return true;
    if (options.onProgress && Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      options.onProgress(Number(remaining));
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}
