import { setTimeout as sleep } from 'node:timers/promises';
import type { HubProducer, OutgoingMessage } from '../../kafka/index.ts';
import { newTraceparent } from '../../observability/propagation.ts';
import type { SimRecord } from './telemetry-stream.ts';

export interface SendOptions {
  /** Records per producer.send call (per topic). */
  batchSize: number;
  /** Messages per second over the run; null sends as fast as the broker takes them. */
  rate: number | null;
  /** Waits for each record's simulated send time on the wall clock (sendAtMs is then wall-clock time). */
  realtime: boolean;
  compression: 'none' | 'gzip';
  /** Stops between batches; records not yet sent are dropped and the run reports what was sent. */
  signal?: AbortSignal | undefined;
  /** Called after each acknowledged send with the records it carried, in send order. */
  onSent: (records: readonly SimRecord[]) => void;
}

/**
 * Sends `records` in their order, batched per topic. One send per topic is in flight at a time, so a
 * device's records (same key, same partition) reach Kafka in exactly the order generated: the ground truth's
 * out-of-order and late records are out of order on purpose, and nothing else is. Returns false when the
 * signal stopped it early. A failed send rejects (the producer's own retries come first).
 */
export async function sendRecords(
  producer: HubProducer,
  records: Iterable<SimRecord>,
  options: SendOptions,
): Promise<boolean> {
  const buffers = new Map<string, SimRecord[]>();
  const inFlight = new Map<string, Promise<void>>();
  const started = performance.now();
  let queued = 0;
  // With a rate, smaller batches keep the pace even (about ten sends a second).
  const batchSize = options.rate
    ? Math.max(1, Math.min(options.batchSize, Math.ceil(options.rate / 10)))
    : options.batchSize;

  const flush = async (topic: string) => {
    const batch = buffers.get(topic);
    if (!batch?.length) return;
    buffers.set(topic, []);
    await inFlight.get(topic); // keep per-topic order
    // A fresh trace per message, as a traced gateway would start one per send: the hub's batch spans link
    // to these (docs/observability.md). Added here, not in the generator, which stays a pure function.
    const messages: OutgoingMessage[] = batch.map((r) => ({
      key: r.key,
      value: r.value,
      headers: { ...r.headers, traceparent: newTraceparent() },
    }));
    const send = producer
      .send(topic, messages, { compression: options.compression })
      .then(() => options.onSent(batch));
    inFlight.set(topic, send);
    // Other topics' sends may overlap with this one; a failure surfaces on the next await of this topic.
    send.catch(() => {});
  };
  const flushAll = async () => {
    for (const topic of buffers.keys()) await flush(topic);
  };

  for (const record of records) {
    if (options.signal?.aborted) break;
    if (options.realtime) {
      const wait = record.sendAtMs - Date.now();
      if (wait > 0) {
        await flushAll();
        await sleep(wait, undefined, { signal: options.signal }).catch(() => {});
        if (options.signal?.aborted) break;
      }
    }
    const buffer = buffers.get(record.topic) ?? [];
    buffers.set(record.topic, buffer);
    buffer.push(record);
    queued += 1;
    if (buffer.length >= batchSize) {
      if (options.rate) {
        const due = started + (queued / options.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait, undefined, { signal: options.signal }).catch(() => {});
      }
      await flush(record.topic);
    }
  }
  if (!options.signal?.aborted) await flushAll();
  await Promise.all(inFlight.values());
  return !options.signal?.aborted;
}
