// Data-quality monitoring in the pipeline (docs/data-quality.md): the streaming stage of the ingest, dq events
// and their alerts, the periodic jobs, and the report. The quality stage's face re-exports what others use.

export { drainAlertOutbox } from './alert-outbox.ts';
export { detectorVersion } from './dq-events.ts';
export { combineFlags } from './event-tracker.ts';
export {
  type JobOutcome,
  type QualityJobs,
  type QualityJobsOptions,
  runCalibrationDue,
  runCalibrationStep,
  runDrift,
  runGapSweep,
  startQualityJobs,
} from './jobs.ts';
export { type QualityReport, qualityReport } from './report.ts';
export { type MonitoredFact, StreamQualityStage, type StreamStats } from './stream-stage.ts';
