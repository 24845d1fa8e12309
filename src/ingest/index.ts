export { type BackfillResult, backfillDeadLetters, flushRollupQueue } from './backfill.ts';
export type { CommittedBatch, IngestHook } from './batch-hooks.ts';
export { type EndOffsets, endOffsets, waitForCatchUp } from './catch-up.ts';
export { ingestGroupId, readTelemetryConnector, type TelemetryConnector } from './connector-config.ts';
export { type DeadLetter, writeDeadLetters } from './dead-letters.ts';
export {
  type DeadLetterFilter,
  type DeadLetterRow,
  listDeadLetters,
  type ReplayContext,
  type ReplayResult,
  replayDeadLetters,
  type SkippedLetter,
  type SkipReason,
} from './dlq.ts';
export {
  createIngestPool,
  type IngestOptions,
  loadFactRouter,
  type RunningIngest,
  startIngest,
} from './ingest-service.ts';
export {
  type BatchOutcome,
  type IngestContext,
  type LoadedValue,
  processRecords,
} from './process-records.ts';
export type { BatchCounts } from './stages/batch-ledger.ts';
export { defaultPayloadLimits, type PayloadLimits } from './stages/validate.ts';
