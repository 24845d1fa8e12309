import { counter, gauge, histogram } from '../observability/index.ts';
import type { IngestHook } from './batch-hooks.ts';

const m = {
  records: counter('iot_hub_ingest_records_total', 'Kafka messages processed by the ingest stage', ['topic']),
  messagesDead: counter(
    'iot_hub_ingest_messages_dead_lettered_total',
    'Messages dead-lettered whole; records_total minus this loaded',
    ['topic'],
  ),
  readings: counter(
    'iot_hub_ingest_readings_total',
    'Readings of loaded messages: rows_loaded + duplicates + readings_dropped',
    ['topic'],
  ),
  rows: counter('iot_hub_ingest_rows_loaded_total', 'Fact rows inserted', ['topic']),
  duplicates: counter(
    'iot_hub_ingest_duplicates_total',
    'Readings ignored (or replaced, on_conflict: update) as duplicates: same device, metric, time',
    ['topic'],
  ),
  dropped: counter(
    'iot_hub_ingest_readings_dropped_total',
    'Readings dropped from a loaded message, each a dead letter of its own',
    ['topic'],
  ),
  deadLetters: counter('iot_hub_ingest_dead_letters_total', 'Rows written to hub.dead_letter', ['topic']),
  replayFiltered: counter(
    'iot_hub_ingest_replayed_filtered_total',
    'Records below the stored offset, skipped',
    ['topic'],
  ),
  inferred: counter(
    'iot_hub_ingest_inferred_devices_total',
    'Unknown devices given an inferred dimension member',
  ),
  batchSize: histogram(
    'iot_hub_ingest_batch_size',
    'Records per batch',
    [],
    [1, 10, 100, 500, 1000, 5000, 10000, 50000],
  ),
  batchSeconds: histogram('iot_hub_ingest_batch_duration_seconds', 'Time to process and commit one batch'),
  latency: histogram(
    'iot_hub_ingest_end_to_end_seconds',
    'Newest reading timestamp in a batch to its commit',
    [],
    [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
  ),
  lag: gauge('iot_hub_consumer_lag', 'High watermark minus the next offset to process', [
    'topic',
    'partition',
  ]),
};

/** The ingest's Prometheus metrics, as a hook on committed batches. */
export const ingestMetricsHook: IngestHook = {
  name: 'metrics',
  batchCommitted(b) {
    const labels = { topic: b.topic };
    if (b.replayFiltered > 0) m.replayFiltered.inc(labels, b.replayFiltered);
    m.lag.set(
      { topic: b.topic, partition: String(b.partition) },
      Math.max(0, Number(b.highWatermark) - Number(b.lastOffset) - 1),
    );
    const { outcome } = b;
    if (!outcome) return;
    const { counts } = outcome;
    m.records.inc(labels, counts.messages);
    m.messagesDead.inc(labels, counts.messagesDeadLettered);
    m.readings.inc(labels, counts.readings);
    m.rows.inc(labels, outcome.inserted);
    m.duplicates.inc(labels, outcome.duplicates);
    m.dropped.inc(labels, counts.readingsDropped);
    m.deadLetters.inc(labels, outcome.letters.length);
    m.inferred.inc(outcome.inferredDevices);
    m.batchSize.observe(counts.messages);
    m.batchSeconds.observe(b.durationMs / 1000);
    if (outcome.newestReadingMs !== null)
      m.latency.observe(Math.max(0, (Date.now() - outcome.newestReadingMs) / 1000));
  },
};
