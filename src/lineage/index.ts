// The lineage stage's public face (docs/lineage.md): OpenLineage run events of every job, and the one derivation
// of datasets and column lineage that the events and GraphQL's lineage(field:) share. Other stages import only
// from here.

export { Lineage, type LineageOptions, lineage, PRODUCER, type RunOptions } from './lineage.ts';
export { LineageEmitter, type LineageEmitterOptions, type LineageEmitterStats } from './lineage-emitter.ts';
export {
  type DatasetRef,
  datasetOf,
  type LineageSites,
  lineageSites,
  mappingJob,
  ROLLUP_COLUMNS,
  ROLLUP_INPUT,
  type TargetColumn,
  targetColumnsOf,
} from './lineage-graph.ts';
export type { ColumnLineage, InputField, JobLineage, RunEvent, RunEventType } from './run-event.ts';
export { startLineage } from './start-lineage.ts';
