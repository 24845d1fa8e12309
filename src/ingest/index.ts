export { readTelemetryConnector, type TelemetryConnector } from './connector-config.ts';
export { type DeadLetter, writeDeadLetters } from './dead-letters.ts';
export { type IngestOptions, type RunningIngest, startIngest } from './ingest-service.ts';
export { type BatchOutcome, type IngestContext, processRecords } from './process-records.ts';
