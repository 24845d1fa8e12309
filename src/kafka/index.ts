import { createKafkajsClient } from './kafkajs.ts';
import type { HubKafka, KafkaConnection } from './types.ts';

export type * from './types.ts';

/** Creates the hub's Kafka client. The implementation is kafkajs; callers see only the interface. */
export function createKafka(connection: KafkaConnection): HubKafka {
  return createKafkajsClient(connection);
}
export { startTrackedConsumer, type TrackedBatch, type TrackedConsumerOptions } from './tracked-consumer.ts';
