export {
  applyChangeBatch,
  applySourceChanges,
  type CdcBatchOutcome,
  type CdcDimension,
  type CdcOptions,
  type DecodedChanges,
  decodeDebeziumRecords,
  loadCdcDimensions,
  type RunningCdc,
  type SourceChange,
  startCdc,
} from './cdc-service.ts';
export {
  type CmdbPollHealth,
  type CmdbPollOptions,
  type CmdbPollOutcome,
  type CmdbPollSource,
  loadCmdbPollSources,
  pollCmdbTable,
  type RunningCmdbPoll,
  type StartCmdbPollOptions,
  startCmdbPoll,
} from './cmdb-poll.ts';
export { CmdbTableReader, type TablePageRequest, type TableRecord } from './cmdb-poll-reader.ts';
export {
  CmdbSink,
  type CmdbSinkOptions,
  type CmdbSinkPassResult,
  type RunningCmdbSink,
  startCmdbSink,
} from './cmdb-sink.ts';
export { type CmdbSinkFailure, type CmdbSinkStatus, CmdbSinkStore } from './cmdb-sink-store.ts';
export {
  ConnectClient,
  type ConnectorDefinition,
  type ConnectorOverview,
  type ConnectorStatus,
  ConnectUnreachableError,
  readConnectorDefinition,
  traceHead,
} from './connect-rest.ts';
export {
  type ApplyAction,
  type ApplyOptions,
  type ApplyResult,
  applyConnectors,
  ConnectorApplyError,
  type ConnectorReport,
  connectorFiles,
  connectorPlaceholders,
  connectorStatus,
  defaultConnectorDir,
  fillPlaceholders,
  recoverLostSlots,
  type SlotStatus,
} from './connectors.ts';
export {
  type ChangeEvent,
  ChangeEventError,
  type ChangeOp,
  changePosition,
  type PostgresSource,
  parseChangeEvent,
  type Row,
  type SnapshotMarker,
  type Tombstone,
} from './envelope.ts';
export {
  applyFactChanges,
  type CdcFact,
  countFactOutcome,
  type FactChangeOutcome,
  loadCdcFacts,
} from './fact-changes.ts';
export {
  type AttributeConflict,
  type DeviceReconciliation,
  type DeviceSource,
  type DeviceWithoutCi,
  reconcileDevices,
  type SurvivorshipRule,
  survivorshipRules,
  type TelemetryOnlyDevice,
} from './reconcile.ts';
