import { createKafkajsClient } from './kafkajs.ts';
import type { HubKafka, KafkaConnection } from './types.ts';

export type * from './types.ts';

/**
 * Creates the hub's Kafka client. The implementation is kafkajs; callers see only the interface. Pass
 * `connection.logger` (the hub's pino logger) so the client's lines share the hub's shape.
 */
export function createKafka(connection: KafkaConnection): HubKafka {
  return createKafkajsClient(connection);
}
export { groupDefaults, silenceKafkajsTimeoutWarning } from './kafkajs.ts';
export { startTrackedConsumer, type TrackedBatch, type TrackedConsumerOptions } from './tracked-consumer.ts';
