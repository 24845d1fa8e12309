export {
  ConnectClient,
  type ConnectorDefinition,
  type ConnectorStatus,
  readConnectorDefinition,
} from './connect-rest.ts';
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
