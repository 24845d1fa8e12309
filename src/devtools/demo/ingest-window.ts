import type pg from 'pg';
import type { HubKafka } from '../../kafka/index.ts';

/**
 * Gives a new consumer group its start in hub.consumer_offsets: the topics' current ends, so the group ingests
 * what is sent from now on and none of the history other runs left in the shared topics. Creates the topics
 * when missing. The tracked consumer seeks to these offsets and filters anything below them.
 */
export async function startGroupAtEnd(
  kafka: HubKafka,
  pool: pg.Pool,
  groupId: string,
  topics: readonly string[],
  partitions: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const rows: { topic: string; partition: number; next_offset: string }[] = [];
  try {
    await admin.ensureTopics(topics.map((topic) => ({ topic, partitions })));
    for (const topic of topics)
      for (const o of await admin.topicOffsets(topic))
        rows.push({ topic, partition: o.partition, next_offset: o.high });
  } finally {
    await admin.disconnect();
  }
  await pool.query(
    `INSERT INTO hub.consumer_offsets (consumer_group, topic, partition, next_offset)
     SELECT $1, x.topic, x.partition, x.next_offset
       FROM jsonb_to_recordset($2::jsonb) AS x(topic text, partition integer, next_offset bigint)
     ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset`,
    [groupId, JSON.stringify(rows)],
  );
}

/** Removes a finished run's group: its rows in hub.consumer_offsets and, when it is empty, the Kafka group. */
export async function forgetGroup(kafka: HubKafka, pool: pg.Pool, groupId: string): Promise<void> {
  await pool.query('DELETE FROM hub.consumer_offsets WHERE consumer_group = $1', [groupId]);
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // Only tidiness: Kafka expires an empty group's offsets by itself (offsets.retention.minutes).
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
