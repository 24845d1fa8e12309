// The mapping stage's public face (mappings/README.md). Other stages import only from here.
export {
  ensureError,
  MappingError,
  MappingErrorCode,
  MappingInvalidError,
  type OnErrorPolicy,
  type SourceLocation,
} from './errors.ts';
export { type MappingMeta, META_KEYS } from './expression/scope.ts';
export type { FieldSource, FieldSources } from './field-sources.ts';
export { FUNCTIONS as MAPPING_FUNCTIONS } from './functions/registry.ts';
export {
  compileMappingText,
  findMappingFiles,
  type LoadedMappings,
  loadMappingFile,
  loadMappings,
} from './load-mappings.ts';
export { createMappingRouter, type MappingRouter } from './mapping-router.ts';
export type {
  MappingKind,
  MappingSpec,
  OnMissingPolicy,
  TestSpec,
  UnknownFieldsPolicy,
} from './mapping-spec.ts';
export { didYouMean } from './suggest.ts';
export { type MappingTestReport, type MappingTestResult, runMappingTests } from './test-runner.ts';
export type {
  BatchMapResult,
  CompiledMapping,
  LookupDeclaration,
  MappedRow,
  MappingInput,
  MapResult,
} from './types.ts';
