import type pg from 'pg';
import type { HubConfig } from '../config/index.ts';
import { createPool } from '../db/index.ts';
import { recordFirmwareChanges } from '../device-state/index.ts';
import { type DeadLetter, writeDeadLetters } from '../ingest/index.ts';
import { createKafka, type HubConsumer, type HubMessage, startTrackedConsumer } from '../kafka/index.ts';
import { lineage } from '../lineage/index.ts';
import { type CompiledMapping, loadMappings } from '../mapping/index.ts';
import { counter, type Logger } from '../observability/index.ts';
import {
  correctFactAssets,
  type DimensionMergeOutcome,
  type DimensionTarget,
  dimensionTarget,
  mergeDimension,
  rebuildAssetHierarchy,
} from '../warehouse/index.ts';
import { ChangeEventError, changePosition, parseChangeEvent } from './envelope.ts';
import { applyFactChanges, countFactOutcome, loadCdcFacts } from './fact-changes.ts';

const changes = counter('iot_hub_cdc_changes_total', 'Change events applied to dimensions, by outcome', [
  'topic',
  'outcome',
]);

/** A dimension fed by change events: the mapping that reads its topic and the SCD2 target it writes. */
export interface CdcDimension {
  topic: string;
  mapping: CompiledMapping;
  target: DimensionTarget;
}

/** The DimensionMappings with `source.kind: cdc` in `folder`, checked; any mapping error stops the start. */
export function loadCdcDimensions(folder = 'mappings'): CdcDimension[] {
  const loaded = loadMappings([folder]);
  if (loaded.errors.length > 0)
    throw new Error(
      `mapping files have errors; fix them (iot-hub mappings validate):\n${loaded.errors.map((e) => e.message).join('\n')}`,
    );
  return loaded.mappings
    .filter((m) => m.kind === 'DimensionMapping' && m.source.kind === 'cdc' && m.source.topic)
    .map((mapping) => ({ topic: mapping.source.topic!, mapping, target: dimensionTarget(mapping) }));
}

export interface CdcBatchOutcome extends DimensionMergeOutcome {
  /** Tombstones and logical messages: nothing to apply. */
  skipped: number;
  /**
   * TRUNCATEs of the source table: ignored, the dimension keeps its versions (an SCD2 history is not wiped by a
   * bulk reload in the source; rows that are really gone arrive as deletes, or stay open until they do).
   */
  truncates: number;
  deadLetters: number;
  /** Codes of the mapping's non-fatal findings, one per change and finding (e.g. UNKNOWN_FIELD after a column was added). */
  warnings: string[];
}

/**
 * One change of a source row, whatever carried it (a Debezium event, a CMDB poll): the row as the source has it
 * now (the old row for a delete) and the `$meta` its mapping reads: `op` (c/u/d/r), the source position
 * (`commit_lsn`, `lsn`: increasing per key, the SCD2 merge's duplicate guard) and `source_ts_ms`.
 */
export interface SourceChange {
  payload: Record<string, unknown>;
  meta: Record<string, unknown> & { op: string; commit_lsn: number; lsn: number; source_ts_ms: number };
  /** The Kafka record it came from (a dead letter keeps it), or a stand-in naming the source. */
  record: HubMessage;
}

export interface DecodedChanges {
  changes: SourceChange[];
  letters: DeadLetter[];
  /** Tombstones and logical messages. */
  skipped: number;
  /** TRUNCATE events. */
  truncates: number;
}

/** Debezium PostgreSQL events → source changes; an event that cannot be parsed is a dead letter. */
export function decodeDebeziumRecords(messages: readonly HubMessage[]): DecodedChanges {
  const decoded: DecodedChanges = { changes: [], letters: [], skipped: 0, truncates: 0 };
  for (const record of messages) {
    try {
      const event = parseChangeEvent(record.key, record.value);
      if (event.kind === 'change' && event.op === 't') {
        decoded.truncates += 1;
        continue;
      }
      if (event.kind === 'tombstone' || event.op === 'm') {
        decoded.skipped += 1;
        continue;
      }
      const [commitLsn, lsn] = changePosition(event);
      decoded.changes.push({
        record,
        payload: (event.op === 'd' ? event.before : event.after) ?? {},
        meta: {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          op: event.op,
          lsn: Number(lsn),
          commit_lsn: Number(commitLsn),
          source_ts_ms: event.source.ts_ms,
          table: `${event.source.schema}.${event.source.table}`,
        },
      });
    } catch (err) {
      decoded.letters.push({
        stage: 'cdc',
        record,
        code: err instanceof ChangeEventError ? err.code : 'INVALID_CHANGE_EVENT',
        message: (err as Error).message,
      });
    }
  }
  return decoded;
}

/**
 * Applies one batch of Debezium change events of one topic to its dimension, in the caller's transaction (the
 * tracked consumer's, which also stores the next offsets). See applySourceChanges.
 */
export async function applyChangeBatch(
  client: pg.ClientBase,
  dimension: CdcDimension,
  messages: readonly HubMessage[],
): Promise<CdcBatchOutcome> {
  const decoded = decodeDebeziumRecords(messages);
  const outcome = await applySourceChanges(client, dimension, decoded.changes, decoded.letters);
  return { ...outcome, skipped: outcome.skipped + decoded.skipped, truncates: decoded.truncates };
}

/**
 * Applies source changes to their dimension in the caller's transaction: map (the DimensionMapping, with the
 * change's meta as $meta) → SCD2 merge; asset dimensions then rebuild their hierarchy, and facts loaded before
 * their dimension rows are corrected. A change that cannot be mapped is a dead letter (with `letters`, written
 * here); the batch goes on.
 */
export async function applySourceChanges(
  client: pg.ClientBase,
  dimension: CdcDimension,
  changes: readonly SourceChange[],
  letters: DeadLetter[] = [],
): Promise<CdcBatchOutcome> {
  const rows: Record<string, unknown>[] = [];
  const warnings: string[] = [];
  const { mapping } = dimension;
  for (const change of changes) {
    const result = await mapping.mapAsync(change.payload, change.meta);
    if (result.deadLetter) {
      letters.push({
        stage: 'cdc',
        record: change.record,
        code: result.deadLetter.code,
        message: result.deadLetter.detail,
        location: result.deadLetter.at ?? null,
        mappingId: mapping.id,
        mappingVersion: mapping.version,
      });
      continue;
    }
    for (const error of result.errors) warnings.push(error.code);
    for (const row of result.rows) {
      // A hierarchy's rows need a path when inserted; the rebuild below sets the real one.
      if ('path_label' in row && row.hierarchy_path === undefined) row.hierarchy_path = row.path_label;
      // Not a column: tells the merge an update of an unknown key from an insert (orphanUpdates).
      row.source_op = change.meta.op;
      rows.push(row);
    }
  }
  const { keys, ...merged } = await mergeDimension(client, dimension.target, rows);
  if (dimension.target.table === 'dw.dim_asset' && rows.length > 0) await rebuildAssetHierarchy(client);
  // Late-arriving dimension rows: facts already loaded get the asset valid at their reading time, in this
  // transaction (src/warehouse/fact-correction.ts). A new device key has no facts yet; a new asset may. A device
  // version that kept its asset (a firmware update) changes no fact's asset: only completed members and moves.
  if (dimension.target.table === 'dw.dim_device') {
    const moved = keys.versioned.filter((k) => keys.changed[k]?.includes('installed_asset_nk'));
    if (keys.completed.length + moved.length > 0)
      await correctFactAssets(client, { deviceNks: [...keys.completed, ...moved] });
    // A new firmware is announced through hub.outbox in this transaction (src/device-state); a completed
    // inferred member may bring the first firmware the hub hears of.
    const firmware = keys.versioned.filter((k) => keys.changed[k]?.includes('firmware_version'));
    if (firmware.length + keys.completed.length > 0)
      await recordFirmwareChanges(client, [...firmware, ...keys.completed]);
  } else if (dimension.target.table === 'dw.dim_asset') {
    const assets = [...keys.inserted, ...keys.completed, ...keys.versioned];
    if (assets.length > 0) await correctFactAssets(client, { assetNks: assets });
  }
  await writeDeadLetters(client, letters);
  return { ...merged, skipped: 0, truncates: 0, deadLetters: letters.length, warnings };
}

const mappingWarnings = counter(
  'iot_hub_cdc_mapping_warnings_total',
  'Non-fatal mapping findings on change events (UNKNOWN_FIELD after a source column was added, flagged values), by code',
  ['topic', 'code'],
);

/** Counts a batch's outcome in /metrics and says in the log what an operator should know about. */
function countOutcome(topic: string, outcome: CdcBatchOutcome, logger: Logger): void {
  const { warnings, ...counts } = outcome;
  for (const [key, n] of Object.entries(counts)) if (n > 0) changes.inc({ topic, outcome: key }, n);
  for (const code of warnings) mappingWarnings.inc({ topic, code });
  if (outcome.truncates > 0)
    logger.warn(
      { topic, truncates: outcome.truncates },
      'the source table was truncated; the dimension keeps its versions (rows really gone must arrive as deletes)',
    );
  if (warnings.includes('UNKNOWN_FIELD'))
    logger.warn(
      { topic },
      'change events carry fields the source contract does not declare (a column was added?); they are applied without them: add them to the contract and mapping to use them',
    );
}

export interface CdcOptions {
  logger: Logger;
  /** Consumer group; default `<instance>-cdc`. */
  groupId?: string;
  /** Mappings folder; default mappings. */
  mappings?: string;
  /**
   * The sources' Debezium `topic.prefix` when it is not the one the mappings name (`mdm` in
   * `mdm.public.device`): a second MDM, or a test's own connector.
   */
  topicPrefix?: string;
  /** Called after each committed batch (e.g. the in-process reference cache's markChanged). */
  onApplied?: () => void;
}

export interface RunningCdc {
  consumer: HubConsumer;
  dimensions: CdcDimension[];
  stop(): Promise<void>;
}

/**
 * Starts the CDC stage: one consumer group over the topics of the cdc DimensionMappings, each batch merged
 * into its dimension in the same transaction as the group's offsets. Debezium's topics are created by Connect
 * (`iot-hub connectors apply`); a topic that does not exist yet is created here so the group can subscribe.
 */
export async function startCdc(config: HubConfig, options: CdcOptions): Promise<RunningCdc> {
  const logger = options.logger.child({ component: 'cdc' });
  const prefix = options.topicPrefix;
  const dimensions = loadCdcDimensions(options.mappings).map((d) =>
    prefix ? { ...d, topic: `${prefix}${d.topic.slice(d.topic.indexOf('.'))}` } : d,
  );
  const byTopic = new Map(dimensions.map((d) => [d.topic, d]));
  // FactMappings with source.kind cdc (CMMS work orders) go to src/cdc/fact-changes.ts.
  const facts = loadCdcFacts(options.mappings).map((f) =>
    prefix ? { ...f, topic: `${prefix}${f.topic.slice(f.topic.indexOf('.'))}` } : f,
  );
  const factByTopic = new Map(facts.map((f) => [f.topic, f]));
  const topics = [...byTopic.keys(), ...factByTopic.keys()];
  const pool = createPool(config.database.url, { max: 3, logger, name: 'iot-hub-cdc' });
  let consumer: HubConsumer | null = null;
  try {
    const kafka = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-cdc`,
      logger,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.ensureTopics(topics.map((topic) => ({ topic, partitions: 1 })));
    } finally {
      await admin.disconnect();
    }
    consumer = await startTrackedConsumer({
      kafka,
      pool,
      logger,
      groupId: options.groupId ?? `${config.instance}-cdc`,
      topics,
      fromBeginning: true,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      // Dimension changes are few and latency matters more than batch size: smaller fetches, quicker batches.
      maxBytesPerPartition: 256 * 1024,
      async handle(batch, client) {
        const fact = factByTopic.get(batch.topic);
        const dimension = byTopic.get(batch.topic);
        // OpenLineage: a run per source per window of batches (docs/lineage.md, "Runs").
        const job = lineage.forMapping((fact ?? dimension)?.mapping, batch.topic);
        if (fact) {
          const applied = await lineage.batch(
            job,
            () => applyFactChanges(client, fact, decodeDebeziumRecords(batch.messages)),
            (a) => a.inserted + a.updated,
          );
          countFactOutcome(batch.topic, applied, logger);
          return;
        }
        if (!dimension) return;
        const outcome = await lineage.batch(
          job,
          () => applyChangeBatch(client, dimension, batch.messages),
          (o) => o.inserted + o.completed + o.versioned + o.corrected + o.closed,
        );
        countOutcome(batch.topic, outcome, logger);
        logger.debug({ topic: batch.topic, partition: batch.partition, ...outcome }, 'change batch applied');
      },
      onCommitted() {
        options.onApplied?.();
      },
      onCrash(error) {
        logger.fatal({ err: error }, 'the CDC consumer stopped for good; restart the hub');
      },
    });
  } catch (err) {
    await consumer?.disconnect().catch(() => {});
    await pool.end().catch(() => {});
    throw err;
  }
  const running = consumer;
  logger.info(
    {
      topics,
      dimensions: dimensions.map((d) => `${d.mapping.id}@${d.mapping.version}`),
      facts: facts.map((f) => `${f.mapping.id}@${f.mapping.version}`),
    },
    'CDC started',
  );
  return {
    consumer: running,
    dimensions,
    async stop() {
      await running.stop();
      await running.disconnect();
      await pool.end();
    },
  };
}
