export {
  applyChangeBatch,
  type CdcBatchOutcome,
  type CdcDimension,
  type CdcOptions,
  loadCdcDimensions,
  type RunningCdc,
  startCdc,
} from './cdc-service.ts';
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
  connectorStatus,
  defaultConnectorDir,
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
