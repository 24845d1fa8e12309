// The data-contracts stage's public face (docs/data-products.md): the ODCS v3 contracts of the warehouse's data
// products, derived from the migrated schema, checked against the live data and measured for serving. Other
// stages import only from here.

export { type CatalogColumn, type CatalogTable, readCatalog } from './catalog.ts';
export {
  type CheckOutcome,
  type CheckResult,
  latencySeconds,
  measureLatency,
  runContractChecks,
  satisfies,
} from './checks.ts';
export {
  type Classification,
  type ContractFile,
  contractFileName,
  contractOwner,
  contractYaml,
  type DataContract,
  defaultContractsDir,
  loadContracts,
  parseContract,
  type QualityRule,
  type SchemaObject,
  type SchemaProperty,
  type SlaProperty,
} from './contract.ts';
export {
  type DerivationSources,
  deriveContract,
  graphqlColumnKnowledge,
  localServer,
  logicalTypeOf,
  type MetricRange,
  semanticDescriptions,
} from './derive.ts';
export { contractDrift, type Drift, type DriftKind } from './drift.ts';
export { type ExportOptions, type ExportResult, exportContracts } from './export.ts';
export { measureProduct, type ProductStatus, ProductStatusBoard, registerProductGauges } from './status.ts';
