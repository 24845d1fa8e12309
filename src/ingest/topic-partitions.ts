import type { HubAdmin } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';

export interface ShortTopic {
  topic: string;
  partitions: number;
  wanted: number;
}

/**
 * Topics that exist with fewer partitions than the connector asks for. The hub creates missing topics with
 * `partitions` (connectors/telemetry.yaml), but a topic a producer created first (broker auto-creation) keeps
 * the broker's default, often 1: then only one hub process can consume it, whatever the connector says.
 */
export async function shortTopics(
  admin: HubAdmin,
  topics: readonly string[],
  wanted: number,
): Promise<ShortTopic[]> {
  const short: ShortTopic[] = [];
  for (const topic of topics) {
    const partitions = (await admin.topicOffsets(topic)).length;
    if (partitions < wanted) short.push({ topic, partitions, wanted });
  }
  return short;
}

/** One warning per short topic, saying what it costs and how to add partitions. */
export function warnShortTopics(
  short: readonly ShortTopic[],
  brokers: readonly string[],
  logger: Logger,
): void {
  for (const t of short) {
    logger.warn(
      { topic: t.topic, partitions: t.partitions, wanted: t.wanted },
      `topic ${t.topic} has ${t.partitions} partition(s), fewer than partitions: ${t.wanted} in connectors/telemetry.yaml (it existed before the hub created it), so at most ${t.partitions} hub process(es) can share its load. ` +
        `Add partitions with: kafka-topics.sh --bootstrap-server ${brokers[0] ?? '<broker>'} --alter --topic ${t.topic} --partitions ${t.wanted} ` +
        `(or the admin API's createPartitions). New messages of a key may then go to another partition than its older ones.`,
    );
  }
}
