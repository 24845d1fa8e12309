// Public face of the warehouse stage: other stages import from here only.
export { rebuildAssetHierarchy } from './asset-hierarchy.ts';

export {
  type DimensionMergeOutcome,
  type DimensionTarget,
  dimensionTarget,
  mergeDimension,
} from './dimension-merge.ts';
export {
  correctFactAssets,
  type FactCorrectionOptions,
  type FactCorrectionOutcome,
} from './fact-correction.ts';
export {
  type ConflictPolicy,
  type FactReading,
  type LoadOutcome,
  loadReadings,
  prepareLoaderSession,
} from './fact-loader.ts';
export { type MigrateAction, type MigrateResult, migrateActions, migrateDatabase } from './migrate.ts';
export { recomputeDirtyHours } from './rollup.ts';
