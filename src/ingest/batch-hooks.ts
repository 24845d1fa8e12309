import type { Logger } from '../observability/index.ts';
import type { BatchOutcome } from './process-records.ts';

/** A batch that committed: its outcome and where it came from. */
export interface CommittedBatch {
  topic: string;
  partition: number;
  /** Null when every message of the batch was below the stored offset (a replay, filtered). */
  outcome: BatchOutcome | null;
  /** Messages below the stored offset, skipped as replays. */
  replayFiltered: number;
  /** Offset of the last message of the batch, and the partition's high watermark when fetched. */
  lastOffset: string;
  highWatermark: string;
  durationMs: number;
}

/**
 * A listener of the ingest, in the manner of Apollo Server's plugins: hooks run in the order given and are
 * awaited before the partition's next batch, so what they see is in order and nothing runs on after stop().
 * A hook's error is logged with its name and never undoes the committed batch.
 */
export interface IngestHook {
  name: string;
  /** Ask the batch to collect the readings' values by natural keys (BatchOutcome.values). */
  wantsValues?: boolean;
  batchCommitted?(batch: CommittedBatch): Promise<void> | void;
}

export async function runCommittedHooks(
  hooks: readonly IngestHook[],
  batch: CommittedBatch,
  logger: Logger,
): Promise<void> {
  for (const hook of hooks) {
    if (!hook.batchCommitted) continue;
    try {
      await hook.batchCommitted(batch);
    } catch (err) {
      logger.warn(
        {
          err,
          hook: hook.name,
          topic: batch.topic,
          partition: batch.partition,
          batchId: batch.outcome?.batchId,
        },
        `ingest hook '${hook.name}' failed on a committed batch`,
      );
    }
  }
}
