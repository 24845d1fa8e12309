// Public face of the device simulator: fleet generation, MDM, CMMS and warehouse seeding, telemetry to
// Kafka in every vendor format with injected faults, and the ground truth and ledger pipeline tests check.

export { parseDurationMs, parseRate } from './duration.ts';
export { type FaultKind, type FaultRates, faultKinds, parseFaultRates } from './fault-rates.ts';
export { generateFleet } from './fleet.ts';
export type { AssetLevel, Fleet, FleetAsset, FleetDevice, FleetMetric, FleetOptions } from './fleet-types.ts';
export type { GroundTruth, GroundTruthExcursion, GroundTruthFault } from './ground-truth.ts';
export { type LateDataBounds, lateDataBounds } from './late-data-bounds.ts';
export type { SimulationLedger, TopicLedger } from './ledger.ts';
export {
  type CmmsPlanInput,
  type PlannedWorkOrder,
  planWorkOrders,
  type SeedCmmsResult,
  seedCmms,
} from './seed-cmms.ts';
export { type SeedMdmResult, seedMdm } from './seed-mdm.ts';
export { type SeedWarehouseResult, seedWarehouseDimensions } from './seed-warehouse.ts';
export { type SimulationResult, simulate } from './simulate.ts';
export type {
  SimulateOptions,
  SimulateTargets,
  SimulationPacing,
  SimulationProgress,
  SimulationSpec,
} from './simulation-options.ts';
export { createSimulationRun, type SimulationRun } from './simulation-run.ts';
export { cmmsDatabaseUrl, mdmDatabaseUrl, migrateCmms, migrateMdm } from './source-schemas.ts';
export type { SimRecord } from './telemetry-stream.ts';
export { vendorFormats } from './vendor-formats.ts';
