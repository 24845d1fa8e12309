import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { HubContext } from '../context.ts';
import type {
  AlertRow,
  AssetRow,
  CmdbCiRow,
  DeviceRow,
  DqEventRow,
  HourlyRow,
  IncidentRow,
  LiveReadingsRow,
  MaintenanceRow,
  MetricRow,
  ReadingConnectionRow,
  ReadingEdgeRow,
  ReadingRow,
  SiteRow,
} from '../rows.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string };
  String: { input: string; output: string };
  Boolean: { input: boolean; output: boolean };
  Int: { input: number; output: number };
  Float: { input: number; output: number };
  /** An instant, ISO-8601 with a time zone, e.g. 2026-12-01T10:00:00Z. */
  DateTime: { input: Date; output: Date };
  /** Any JSON value. */
  JSON: { input: unknown; output: unknown };
  /**
   * One row of a metrics answer: an object whose keys are the requested member names (e.g. "readings.site",
   * "readings.avgValue", "readings.time"), in the order of `columns`.
   */
  MetricsRecord: { input: unknown; output: unknown };
};

export type Alert = {
  __typename?: 'Alert';
  clearedAt?: Maybe<Scalars['DateTime']['output']>;
  device?: Maybe<Device>;
  evidence?: Maybe<Scalars['JSON']['output']>;
  id: Scalars['ID']['output'];
  /** The ServiceNow incident, read live (cached briefly); null with an error entry when ServiceNow does not answer. */
  incident?: Maybe<Incident>;
  key: Scalars['String']['output'];
  metric?: Maybe<Metric>;
  openedAt: Scalars['DateTime']['output'];
  rule: Scalars['String']['output'];
  severity: Scalars['String']['output'];
  status: AlertStatus;
  ticketNumber?: Maybe<Scalars['String']['output']>;
  ticketState?: Maybe<Scalars['String']['output']>;
  updatedAt: Scalars['DateTime']['output'];
};

export type AlertStatus = 'cleared' | 'escalated' | 'open' | 'suppressed';

export type Asset = {
  __typename?: 'Asset';
  /** From the root (the site) down to the parent. */
  ancestors: Array<Asset>;
  children: Array<Asset>;
  criticality?: Maybe<Scalars['String']['output']>;
  /** Everything below, nearest first. */
  descendants: Array<Asset>;
  /** Current devices installed on this asset itself. */
  devices: Array<Device>;
  id: Scalars['ID']['output'];
  level: AssetLevel;
  maintenanceEvents: Array<MaintenanceEvent>;
  name: Scalars['String']['output'];
  parent?: Maybe<Asset>;
  /** Labels from the site down to this asset, dot-separated. */
  path: Scalars['String']['output'];
  site?: Maybe<Site>;
};

export type AssetMaintenanceEventsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type AssetLevel = 'area' | 'asset' | 'line' | 'site';

/**
 * How sensitive a field's value is. schema/policy.yaml decides per role whether a class is returned as stored,
 * masked, hidden as null or refused (docs/graphql.md, "Classification and masking").
 */
export type Classification =
  /** Business-sensitive (serial numbers, contracts); masked as a hash for most roles. */
  | 'CONFIDENTIAL'
  /** Plant operations data (readings, states). */
  | 'OPERATIONAL'
  /** Personal data (names, phone numbers, e-mail); masked as *** plus the last 2 characters for most roles. */
  | 'PII'
  /** Anyone allowed to use the API may see it (site names). */
  | 'PUBLIC';

export type ConfigurationItem = {
  __typename?: 'ConfigurationItem';
  assetTag?: Maybe<Scalars['String']['output']>;
  className?: Maybe<Scalars['String']['output']>;
  installStatus?: Maybe<Scalars['String']['output']>;
  locationName?: Maybe<Scalars['String']['output']>;
  name?: Maybe<Scalars['String']['output']>;
  operationalStatus?: Maybe<Scalars['String']['output']>;
  serialNumber?: Maybe<Scalars['String']['output']>;
  sysId: Scalars['ID']['output'];
  updatedBy?: Maybe<Scalars['String']['output']>;
};

/** A table of the warehouse offered under a data contract. */
export type DataProduct = {
  __typename?: 'DataProduct';
  /** The contract as YAML, as in contracts/<id>.odcs.yaml. */
  contract: Scalars['String']['output'];
  /** Where the contract YAML is served (GET, same authentication as /graphql). */
  contractPath: Scalars['String']['output'];
  /** The contract id, the table's name. */
  id: Scalars['ID']['output'];
  /** Measured now (at most a minute old): freshness, completeness and the contract's checks. */
  measured: DataProductStatus;
  name?: Maybe<Scalars['String']['output']>;
  /** The service-level objectives (freshness as latency, availability). */
  objectives: Array<ServiceLevelObjective>;
  /** The owning team member (role owner), else the team. */
  owner?: Maybe<Scalars['String']['output']>;
  purpose?: Maybe<Scalars['String']['output']>;
  /** proposed, draft, active, deprecated or retired. */
  status: Scalars['String']['output'];
  /** Where to ask: channel (tool). */
  support: Array<Scalars['String']['output']>;
  /** The team that owns the product. */
  team?: Maybe<Scalars['String']['output']>;
  /** The contract's semantic version. */
  version: Scalars['String']['output'];
};

export type DataProductStatus = {
  __typename?: 'DataProductStatus';
  checkedAt: Scalars['DateTime']['output'];
  /** Checks that failed or could not run. */
  checksFailed: Scalars['Int']['output'];
  checksPassed: Scalars['Int']['output'];
  /** The product's completeness rule (e.g. readings received ÷ expected over the last day). */
  completeness?: Maybe<Scalars['Float']['output']>;
  /** The checks that did not pass, as element: check. */
  failingChecks: Array<Scalars['String']['output']>;
  freshnessObjectiveSeconds?: Maybe<Scalars['Float']['output']>;
  /** Seconds since the newest data (the latency objective's element); null without an objective or data. */
  freshnessSeconds?: Maybe<Scalars['Float']['output']>;
  /** The newest load batch of the product recorded in hub.lineage within 7 days. */
  lastLoadAt?: Maybe<Scalars['DateTime']['output']>;
};

export type DataQualityEvent = {
  __typename?: 'DataQualityEvent';
  check: Scalars['String']['output'];
  closedAt?: Maybe<Scalars['DateTime']['output']>;
  details?: Maybe<Scalars['JSON']['output']>;
  device: Device;
  id: Scalars['ID']['output'];
  metric?: Maybe<Metric>;
  observedValue?: Maybe<Scalars['Float']['output']>;
  openedAt: Scalars['DateTime']['output'];
  severity: Scalars['String']['output'];
  threshold?: Maybe<Scalars['Float']['output']>;
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type Device = {
  __typename?: 'Device';
  alerts: Array<Alert>;
  /** This version as of another instant. */
  asOf?: Maybe<Device>;
  /** The asset this version is installed on (its current version). */
  asset?: Maybe<Asset>;
  calibrationIntervalDays?: Maybe<Scalars['Int']['output']>;
  /** The ServiceNow CMDB CI standing for this device (current). */
  configurationItem?: Maybe<ConfigurationItem>;
  dataQualityEvents: Array<DataQualityEvent>;
  expectedIntervalSeconds?: Maybe<Scalars['Int']['output']>;
  firmwareVersion?: Maybe<Scalars['String']['output']>;
  /** Every version, oldest first. */
  history: Array<Device>;
  hourly: Array<HourlyRollup>;
  id: Scalars['ID']['output'];
  /**
   * The ServiceNow incidents of this device's newest `first` alerts that have a ticket, read live (cached
   * briefly); null with an error entry when ServiceNow does not answer.
   */
  incidents?: Maybe<Array<Incident>>;
  isCurrent: Scalars['Boolean']['output'];
  lastCalibratedAt?: Maybe<Scalars['DateTime']['output']>;
  lifecycleStatus?: Maybe<Scalars['String']['output']>;
  maintenanceEvents: Array<MaintenanceEvent>;
  manufacturer?: Maybe<Scalars['String']['output']>;
  measurementUnit?: Maybe<Scalars['String']['output']>;
  model?: Maybe<Scalars['String']['output']>;
  rangeMax?: Maybe<Scalars['Float']['output']>;
  rangeMin?: Maybe<Scalars['Float']['output']>;
  readings: ReadingConnection;
  serialNumber?: Maybe<Scalars['String']['output']>;
  /** This version is valid in [validFrom, validTo). */
  validFrom?: Maybe<Scalars['DateTime']['output']>;
  validTo?: Maybe<Scalars['DateTime']['output']>;
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceAlertsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceAsOfArgs = {
  at: Scalars['DateTime']['input'];
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceDataQualityEventsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceHourlyArgs = {
  from: Scalars['DateTime']['input'];
  metric?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['DateTime']['input'];
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceIncidentsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceMaintenanceEventsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A sensor device as the MDM describes it (SCD type 2: one version per change). */
export type DeviceReadingsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from: Scalars['DateTime']['input'];
  metric?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['DateTime']['input'];
};

export type HourlyRollup = {
  __typename?: 'HourlyRollup';
  avg?: Maybe<Scalars['Float']['output']>;
  completeness?: Maybe<Scalars['Float']['output']>;
  device: Device;
  expected: Scalars['Int']['output'];
  failed: Scalars['Int']['output'];
  hourStart: Scalars['DateTime']['output'];
  last?: Maybe<Scalars['Float']['output']>;
  max?: Maybe<Scalars['Float']['output']>;
  metric: Metric;
  min?: Maybe<Scalars['Float']['output']>;
  received: Scalars['Int']['output'];
  suspect: Scalars['Int']['output'];
};

/** A ServiceNow incident, read live through the Table API. */
export type Incident = {
  __typename?: 'Incident';
  assignedTo?: Maybe<Scalars['String']['output']>;
  caller?: Maybe<Scalars['String']['output']>;
  impact?: Maybe<Scalars['String']['output']>;
  number: Scalars['String']['output'];
  openedAt?: Maybe<Scalars['String']['output']>;
  priority?: Maybe<Scalars['String']['output']>;
  shortDescription?: Maybe<Scalars['String']['output']>;
  state?: Maybe<Scalars['String']['output']>;
  sysId: Scalars['ID']['output'];
  updatedAt?: Maybe<Scalars['String']['output']>;
  urgency?: Maybe<Scalars['String']['output']>;
};

/** The recorded path of a field's data: source system → topic → mapping → table/column → GraphQL field. */
export type Lineage = {
  __typename?: 'Lineage';
  column: Scalars['String']['output'];
  field: Scalars['String']['output'];
  /** Every mapping that writes the column, with what the pipeline recorded for it. */
  sources: Array<LineageSource>;
  table: Scalars['String']['output'];
  /** How the column is derived from another, e.g. the hourly rollup of dw.fact_sensor_reading.value. */
  via?: Maybe<Scalars['String']['output']>;
};

export type LineageSource = {
  __typename?: 'LineageSource';
  /** Load batches recorded in hub.lineage for this mapping version. */
  batches: Scalars['Int']['output'];
  lastLoadedAt?: Maybe<Scalars['DateTime']['output']>;
  /** The mapping field that fills the column. */
  mappingField?: Maybe<Scalars['String']['output']>;
  mappingId: Scalars['String']['output'];
  mappingVersion: Scalars['Int']['output'];
  rowsLoaded: Scalars['Int']['output'];
  /** The source fields (paths in the source records) the column is computed from: the OpenLineage columnLineage of the mapping (docs/lineage.md). */
  sourceFields: Array<Scalars['String']['output']>;
  /** The source system, e.g. the mapping's source.system or the topic's producer. */
  system?: Maybe<Scalars['String']['output']>;
  /** The Kafka topic, CDC table or polled table the rows came from. */
  topic?: Maybe<Scalars['String']['output']>;
};

export type LiveReadings = {
  __typename?: 'LiveReadings';
  /** Readings replaced by a newer one of the same device and metric since the previous message. */
  conflated: Scalars['Int']['output'];
  readings: Array<Reading>;
};

export type MaintenanceEvent = {
  __typename?: 'MaintenanceEvent';
  asset: Asset;
  description?: Maybe<Scalars['String']['output']>;
  device: Device;
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  sourceSystem: Scalars['String']['output'];
  startedAt: Scalars['DateTime']['output'];
  status: Scalars['String']['output'];
  technician?: Maybe<Scalars['String']['output']>;
  type: Scalars['String']['output'];
  workOrderNumber?: Maybe<Scalars['String']['output']>;
};

export type Metric = {
  __typename?: 'Metric';
  code: Scalars['ID']['output'];
  description?: Maybe<Scalars['String']['output']>;
  name: Scalars['String']['output'];
  /** UCUM code; values are stored in it. */
  unit?: Maybe<Scalars['String']['output']>;
  validMax?: Maybe<Scalars['Float']['output']>;
  validMin?: Maybe<Scalars['Float']['output']>;
};

export type MetricsColumn = {
  __typename?: 'MetricsColumn';
  description?: Maybe<Scalars['String']['output']>;
  kind: MetricsMemberKind;
  name: Scalars['String']['output'];
  /** number, integer, string or time. */
  type: Scalars['String']['output'];
};

export type MetricsCube = {
  __typename?: 'MetricsCube';
  description?: Maybe<Scalars['String']['output']>;
  dimensions: Array<MetricsMember>;
  granularities: Array<TimeGranularity>;
  measures: Array<MetricsMember>;
  name: Scalars['String']['output'];
  rollupGrain?: Maybe<TimeGranularity>;
  segments: Array<MetricsMember>;
  timeDimension?: Maybe<MetricsMember>;
  title?: Maybe<Scalars['String']['output']>;
};

export type MetricsFilter = {
  /** A dimension (WHERE) or a requested measure (HAVING), e.g. readings.site. */
  member: Scalars['String']['input'];
  operator: MetricsFilterOperator;
  values?: InputMaybe<Array<Scalars['String']['input']>>;
};

export type MetricsFilterOperator =
  /** Case-insensitive substring of a dimension. */
  'CONTAINS' | 'EQUALS' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'NOT_EQUALS' | 'NOT_SET' | 'SET';

export type MetricsMember = {
  __typename?: 'MetricsMember';
  description?: Maybe<Scalars['String']['output']>;
  /** Qualified name, e.g. readings.avgValue. */
  name: Scalars['String']['output'];
  /** A measure only the rollup can answer (hourly grain or coarser). */
  rollupOnly: Scalars['Boolean']['output'];
};

export type MetricsMemberKind = 'DIMENSION' | 'MEASURE' | 'TIME';

export type MetricsOrder = {
  direction?: InputMaybe<MetricsSortDirection>;
  member: Scalars['String']['input'];
};

export type MetricsResult = {
  __typename?: 'MetricsResult';
  columns: Array<MetricsColumn>;
  cube: Scalars['String']['output'];
  /** Why the rollup could not serve the question, when the cube has one. */
  rollupNote?: Maybe<Scalars['String']['output']>;
  rows: Array<Scalars['MetricsRecord']['output']>;
  /** The compiled SQL and its parameters, for roles the cube's sql_visible_to names (admin by default). */
  sql?: Maybe<Scalars['String']['output']>;
  /** True when the answer was read from the hourly rollup rather than the raw readings. */
  usedRollup: Scalars['Boolean']['output'];
};

export type MetricsSortDirection = 'ASC' | 'DESC';

export type MetricsTimeDimension = {
  /** The cube's time dimension, e.g. readings.time. */
  dimension: Scalars['String']['input'];
  /** ISO 8601, inclusive. */
  from?: InputMaybe<Scalars['String']['input']>;
  /** Bucket rows by this grain; omit to only restrict the range. */
  granularity?: InputMaybe<TimeGranularity>;
  /** ISO 8601, exclusive. */
  to?: InputMaybe<Scalars['String']['input']>;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Query = {
  __typename?: 'Query';
  alert?: Maybe<Alert>;
  /** Alerts, newest first; at most `first` (1..1000). */
  alerts: Array<Alert>;
  /** An asset (site, area, line or asset) by its natural key, current version. */
  asset?: Maybe<Asset>;
  /** Assets, optionally of one level, by hierarchy path; at most `first` (1..1000). */
  assets: Array<Asset>;
  /** One data product by its contract id, e.g. fact_sensor_reading; null when there is none. */
  dataProduct?: Maybe<DataProduct>;
  /** Every data product, by id. */
  dataProducts: Array<DataProduct>;
  /** Data-quality events opened in [from, to), newest first. */
  dataQualityEvents: Array<DataQualityEvent>;
  /** A device by its MDM id: the current version, or the version valid at `asOf`. */
  device?: Maybe<Device>;
  /** Current devices, optionally installed under one asset (any depth); at most `first` (1..1000). */
  devices: Array<Device>;
  /** Where a GraphQL field's data comes from, e.g. lineage(field: "Reading.value"). */
  lineage: Lineage;
  /** Maintenance events started in [from, to), newest first. */
  maintenanceEvents: Array<MaintenanceEvent>;
  /** The measured quantities and their canonical units. */
  metricDefinitions: Array<Metric>;
  /**
   * Measures by dimensions over one cube, e.g.
   * metrics(measures: ["readings.avgValue"], dimensions: ["readings.site"],
   *         timeDimension: {dimension: "readings.time", granularity: DAY, from: "2026-11-01T00:00:00Z"}).
   */
  metrics: MetricsResult;
  /** The cubes and their members, for BI tools to build questions from. */
  metricsModel: Array<MetricsCube>;
  /** Readings of one device in [from, to), oldest first, Relay-style pages. */
  readings: ReadingConnection;
  site?: Maybe<Site>;
  /** Every site (assets of level site), by name. */
  sites: Array<Site>;
};

export type QueryAlertArgs = {
  id: Scalars['ID']['input'];
};

export type QueryAlertsArgs = {
  deviceId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<Array<AlertStatus>>;
};

export type QueryAssetArgs = {
  id: Scalars['ID']['input'];
};

export type QueryAssetsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  level?: InputMaybe<AssetLevel>;
};

export type QueryDataProductArgs = {
  id: Scalars['ID']['input'];
};

export type QueryDataQualityEventsArgs = {
  deviceId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from: Scalars['DateTime']['input'];
  to: Scalars['DateTime']['input'];
};

export type QueryDeviceArgs = {
  asOf?: InputMaybe<Scalars['DateTime']['input']>;
  id: Scalars['ID']['input'];
};

export type QueryDevicesArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  underAsset?: InputMaybe<Scalars['ID']['input']>;
};

export type QueryLineageArgs = {
  field: Scalars['String']['input'];
};

export type QueryMaintenanceEventsArgs = {
  deviceId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  from: Scalars['DateTime']['input'];
  to: Scalars['DateTime']['input'];
};

export type QueryMetricsArgs = {
  dimensions?: InputMaybe<Array<Scalars['String']['input']>>;
  filters?: InputMaybe<Array<MetricsFilter>>;
  limit?: InputMaybe<Scalars['Int']['input']>;
  measures: Array<Scalars['String']['input']>;
  order?: InputMaybe<Array<MetricsOrder>>;
  segments?: InputMaybe<Array<Scalars['String']['input']>>;
  timeDimension?: InputMaybe<MetricsTimeDimension>;
};

export type QueryReadingsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  deviceId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  from: Scalars['DateTime']['input'];
  metric?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['DateTime']['input'];
};

export type QuerySiteArgs = {
  id: Scalars['ID']['input'];
};

export type Reading = {
  __typename?: 'Reading';
  device: Device;
  ingestedAt: Scalars['DateTime']['output'];
  mappingId?: Maybe<Scalars['String']['output']>;
  mappingVersion?: Maybe<Scalars['Int']['output']>;
  metric: Metric;
  /** QARTOD flag: 1 good, 2 not evaluated, 3 suspect, 4 fail, 9 missing. */
  quality: Scalars['Int']['output'];
  sourceTopic?: Maybe<Scalars['String']['output']>;
  ts: Scalars['DateTime']['output'];
  value?: Maybe<Scalars['Float']['output']>;
};

export type ReadingConnection = {
  __typename?: 'ReadingConnection';
  edges: Array<ReadingEdge>;
  pageInfo: PageInfo;
};

export type ReadingEdge = {
  __typename?: 'ReadingEdge';
  cursor: Scalars['String']['output'];
  node: Reading;
};

export type ServiceLevelObjective = {
  __typename?: 'ServiceLevelObjective';
  description?: Maybe<Scalars['String']['output']>;
  /** What it is measured on: table.column. */
  element?: Maybe<Scalars['String']['output']>;
  /** ODCS SLA property: latency, availability… */
  property: Scalars['String']['output'];
  unit?: Maybe<Scalars['String']['output']>;
  /** The objective as written, e.g. 2 or 99.5. */
  value?: Maybe<Scalars['String']['output']>;
};

export type Site = {
  __typename?: 'Site';
  /** The site as a node of the asset hierarchy. */
  asset: Asset;
  /** Current devices installed anywhere under the site. */
  devices: Array<Device>;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
};

export type SiteDevicesArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Alerts as they open, change and clear; optionally only those of some devices. */
  alerts: Alert;
  /**
   * New readings of the given devices (at most 100). Conflated: at most `maxHz` messages per second (0.1..50), each
   * with the latest reading per device and metric since the previous message.
   */
  readings: LiveReadings;
};

export type SubscriptionAlertsArgs = {
  deviceIds?: InputMaybe<Array<Scalars['ID']['input']>>;
};

export type SubscriptionReadingsArgs = {
  deviceIds: Array<Scalars['ID']['input']>;
  maxHz?: InputMaybe<Scalars['Float']['input']>;
  metric?: InputMaybe<Scalars['String']['input']>;
};

export type TimeGranularity = 'DAY' | 'HOUR' | 'MINUTE' | 'MONTH' | 'QUARTER' | 'WEEK' | 'YEAR';

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<
  TResult,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
  TArgs = Record<PropertyKey, never>,
> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<
  TResult,
  TKey extends string,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
  TArgs = Record<PropertyKey, never>,
> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<
  TTypes,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
> = (parent: TParent, context: TContext, info: GraphQLResolveInfo) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  obj: T,
  context: TContext,
  info: GraphQLResolveInfo,
) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<
  TResult = Record<PropertyKey, never>,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
  TArgs = Record<PropertyKey, never>,
> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => TResult | Promise<TResult>;

/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Alert: ResolverTypeWrapper<AlertRow>;
  AlertStatus: AlertStatus;
  Asset: ResolverTypeWrapper<AssetRow>;
  AssetLevel: AssetLevel;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  Classification: Classification;
  ConfigurationItem: ResolverTypeWrapper<CmdbCiRow>;
  DataProduct: ResolverTypeWrapper<DataProduct>;
  DataProductStatus: ResolverTypeWrapper<DataProductStatus>;
  DataQualityEvent: ResolverTypeWrapper<DqEventRow>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Device: ResolverTypeWrapper<DeviceRow>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  HourlyRollup: ResolverTypeWrapper<HourlyRow>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Incident: ResolverTypeWrapper<IncidentRow>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  Lineage: ResolverTypeWrapper<Lineage>;
  LineageSource: ResolverTypeWrapper<LineageSource>;
  LiveReadings: ResolverTypeWrapper<LiveReadingsRow>;
  MaintenanceEvent: ResolverTypeWrapper<MaintenanceRow>;
  Metric: ResolverTypeWrapper<MetricRow>;
  MetricsColumn: ResolverTypeWrapper<MetricsColumn>;
  MetricsCube: ResolverTypeWrapper<MetricsCube>;
  MetricsFilter: MetricsFilter;
  MetricsFilterOperator: MetricsFilterOperator;
  MetricsMember: ResolverTypeWrapper<MetricsMember>;
  MetricsMemberKind: MetricsMemberKind;
  MetricsOrder: MetricsOrder;
  MetricsRecord: ResolverTypeWrapper<Scalars['MetricsRecord']['output']>;
  MetricsResult: ResolverTypeWrapper<MetricsResult>;
  MetricsSortDirection: MetricsSortDirection;
  MetricsTimeDimension: MetricsTimeDimension;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Reading: ResolverTypeWrapper<ReadingRow>;
  ReadingConnection: ResolverTypeWrapper<ReadingConnectionRow>;
  ReadingEdge: ResolverTypeWrapper<ReadingEdgeRow>;
  ServiceLevelObjective: ResolverTypeWrapper<ServiceLevelObjective>;
  Site: ResolverTypeWrapper<SiteRow>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  TimeGranularity: TimeGranularity;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Alert: AlertRow;
  Asset: AssetRow;
  Boolean: Scalars['Boolean']['output'];
  ConfigurationItem: CmdbCiRow;
  DataProduct: DataProduct;
  DataProductStatus: DataProductStatus;
  DataQualityEvent: DqEventRow;
  DateTime: Scalars['DateTime']['output'];
  Device: DeviceRow;
  Float: Scalars['Float']['output'];
  HourlyRollup: HourlyRow;
  ID: Scalars['ID']['output'];
  Incident: IncidentRow;
  Int: Scalars['Int']['output'];
  JSON: Scalars['JSON']['output'];
  Lineage: Lineage;
  LineageSource: LineageSource;
  LiveReadings: LiveReadingsRow;
  MaintenanceEvent: MaintenanceRow;
  Metric: MetricRow;
  MetricsColumn: MetricsColumn;
  MetricsCube: MetricsCube;
  MetricsFilter: MetricsFilter;
  MetricsMember: MetricsMember;
  MetricsOrder: MetricsOrder;
  MetricsRecord: Scalars['MetricsRecord']['output'];
  MetricsResult: MetricsResult;
  MetricsTimeDimension: MetricsTimeDimension;
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  Reading: ReadingRow;
  ReadingConnection: ReadingConnectionRow;
  ReadingEdge: ReadingEdgeRow;
  ServiceLevelObjective: ServiceLevelObjective;
  Site: SiteRow;
  String: Scalars['String']['output'];
  Subscription: Record<PropertyKey, never>;
}>;

export type ClassifiedDirectiveArgs = {
  level: Classification;
};

export type ClassifiedDirectiveResolver<
  Result,
  Parent,
  ContextType = HubContext,
  Args = ClassifiedDirectiveArgs,
> = DirectiveResolverFn<Result, Parent, ContextType, Args>;

export type AlertResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Alert'] = ResolversParentTypes['Alert'],
> = ResolversObject<{
  clearedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  device?: Resolver<Maybe<ResolversTypes['Device']>, ParentType, ContextType>;
  evidence?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  incident?: Resolver<Maybe<ResolversTypes['Incident']>, ParentType, ContextType>;
  key?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  metric?: Resolver<Maybe<ResolversTypes['Metric']>, ParentType, ContextType>;
  openedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  rule?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  severity?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['AlertStatus'], ParentType, ContextType>;
  ticketNumber?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  ticketState?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type AssetResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Asset'] = ResolversParentTypes['Asset'],
> = ResolversObject<{
  ancestors?: Resolver<Array<ResolversTypes['Asset']>, ParentType, ContextType>;
  children?: Resolver<Array<ResolversTypes['Asset']>, ParentType, ContextType>;
  criticality?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  descendants?: Resolver<Array<ResolversTypes['Asset']>, ParentType, ContextType>;
  devices?: Resolver<Array<ResolversTypes['Device']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  level?: Resolver<ResolversTypes['AssetLevel'], ParentType, ContextType>;
  maintenanceEvents?: Resolver<
    Array<ResolversTypes['MaintenanceEvent']>,
    ParentType,
    ContextType,
    RequireFields<AssetMaintenanceEventsArgs, 'first'>
  >;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  parent?: Resolver<Maybe<ResolversTypes['Asset']>, ParentType, ContextType>;
  path?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  site?: Resolver<Maybe<ResolversTypes['Site']>, ParentType, ContextType>;
}>;

export type ConfigurationItemResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['ConfigurationItem'] = ResolversParentTypes['ConfigurationItem'],
> = ResolversObject<{
  assetTag?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  className?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  installStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  locationName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  name?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  operationalStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  serialNumber?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  sysId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  updatedBy?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type DataProductResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['DataProduct'] = ResolversParentTypes['DataProduct'],
> = ResolversObject<{
  contract?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  contractPath?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  measured?: Resolver<ResolversTypes['DataProductStatus'], ParentType, ContextType>;
  name?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  objectives?: Resolver<Array<ResolversTypes['ServiceLevelObjective']>, ParentType, ContextType>;
  owner?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  purpose?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  support?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  team?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  version?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type DataProductStatusResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['DataProductStatus'] = ResolversParentTypes['DataProductStatus'],
> = ResolversObject<{
  checkedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  checksFailed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  checksPassed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  completeness?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  failingChecks?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  freshnessObjectiveSeconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  freshnessSeconds?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  lastLoadAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
}>;

export type DataQualityEventResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['DataQualityEvent'] = ResolversParentTypes['DataQualityEvent'],
> = ResolversObject<{
  check?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  closedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  details?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  device?: Resolver<ResolversTypes['Device'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  metric?: Resolver<Maybe<ResolversTypes['Metric']>, ParentType, ContextType>;
  observedValue?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  openedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  severity?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  threshold?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DeviceResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Device'] = ResolversParentTypes['Device'],
> = ResolversObject<{
  alerts?: Resolver<
    Array<ResolversTypes['Alert']>,
    ParentType,
    ContextType,
    RequireFields<DeviceAlertsArgs, 'first'>
  >;
  asOf?: Resolver<
    Maybe<ResolversTypes['Device']>,
    ParentType,
    ContextType,
    RequireFields<DeviceAsOfArgs, 'at'>
  >;
  asset?: Resolver<Maybe<ResolversTypes['Asset']>, ParentType, ContextType>;
  calibrationIntervalDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  configurationItem?: Resolver<Maybe<ResolversTypes['ConfigurationItem']>, ParentType, ContextType>;
  dataQualityEvents?: Resolver<
    Array<ResolversTypes['DataQualityEvent']>,
    ParentType,
    ContextType,
    RequireFields<DeviceDataQualityEventsArgs, 'first'>
  >;
  expectedIntervalSeconds?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  firmwareVersion?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  history?: Resolver<Array<ResolversTypes['Device']>, ParentType, ContextType>;
  hourly?: Resolver<
    Array<ResolversTypes['HourlyRollup']>,
    ParentType,
    ContextType,
    RequireFields<DeviceHourlyArgs, 'from' | 'to'>
  >;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  incidents?: Resolver<
    Maybe<Array<ResolversTypes['Incident']>>,
    ParentType,
    ContextType,
    RequireFields<DeviceIncidentsArgs, 'first'>
  >;
  isCurrent?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  lastCalibratedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  lifecycleStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  maintenanceEvents?: Resolver<
    Array<ResolversTypes['MaintenanceEvent']>,
    ParentType,
    ContextType,
    RequireFields<DeviceMaintenanceEventsArgs, 'first'>
  >;
  manufacturer?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  measurementUnit?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  rangeMax?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  rangeMin?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  readings?: Resolver<
    ResolversTypes['ReadingConnection'],
    ParentType,
    ContextType,
    RequireFields<DeviceReadingsArgs, 'first' | 'from' | 'to'>
  >;
  serialNumber?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  validFrom?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  validTo?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
}>;

export type HourlyRollupResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['HourlyRollup'] = ResolversParentTypes['HourlyRollup'],
> = ResolversObject<{
  avg?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  completeness?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  device?: Resolver<ResolversTypes['Device'], ParentType, ContextType>;
  expected?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  hourStart?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  last?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  max?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  metric?: Resolver<ResolversTypes['Metric'], ParentType, ContextType>;
  min?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  received?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  suspect?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type IncidentResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Incident'] = ResolversParentTypes['Incident'],
> = ResolversObject<{
  assignedTo?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  caller?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  impact?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  number?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  openedAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  priority?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  shortDescription?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  state?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  sysId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  updatedAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  urgency?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export interface JsonScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSON'], any> {
  name: 'JSON';
}

export type LineageResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Lineage'] = ResolversParentTypes['Lineage'],
> = ResolversObject<{
  column?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  field?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sources?: Resolver<Array<ResolversTypes['LineageSource']>, ParentType, ContextType>;
  table?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  via?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type LineageSourceResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['LineageSource'] = ResolversParentTypes['LineageSource'],
> = ResolversObject<{
  batches?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  lastLoadedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  mappingField?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  mappingId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  mappingVersion?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  rowsLoaded?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  sourceFields?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  system?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  topic?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type LiveReadingsResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['LiveReadings'] = ResolversParentTypes['LiveReadings'],
> = ResolversObject<{
  conflated?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  readings?: Resolver<Array<ResolversTypes['Reading']>, ParentType, ContextType>;
}>;

export type MaintenanceEventResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['MaintenanceEvent'] = ResolversParentTypes['MaintenanceEvent'],
> = ResolversObject<{
  asset?: Resolver<ResolversTypes['Asset'], ParentType, ContextType>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  device?: Resolver<ResolversTypes['Device'], ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  sourceSystem?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  startedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  technician?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  workOrderNumber?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type MetricResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Metric'] = ResolversParentTypes['Metric'],
> = ResolversObject<{
  code?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  unit?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  validMax?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  validMin?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export type MetricsColumnResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['MetricsColumn'] = ResolversParentTypes['MetricsColumn'],
> = ResolversObject<{
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['MetricsMemberKind'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  type?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type MetricsCubeResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['MetricsCube'] = ResolversParentTypes['MetricsCube'],
> = ResolversObject<{
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  dimensions?: Resolver<Array<ResolversTypes['MetricsMember']>, ParentType, ContextType>;
  granularities?: Resolver<Array<ResolversTypes['TimeGranularity']>, ParentType, ContextType>;
  measures?: Resolver<Array<ResolversTypes['MetricsMember']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rollupGrain?: Resolver<Maybe<ResolversTypes['TimeGranularity']>, ParentType, ContextType>;
  segments?: Resolver<Array<ResolversTypes['MetricsMember']>, ParentType, ContextType>;
  timeDimension?: Resolver<Maybe<ResolversTypes['MetricsMember']>, ParentType, ContextType>;
  title?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type MetricsMemberResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['MetricsMember'] = ResolversParentTypes['MetricsMember'],
> = ResolversObject<{
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rollupOnly?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export interface MetricsRecordScalarConfig
  extends GraphQLScalarTypeConfig<ResolversTypes['MetricsRecord'], any> {
  name: 'MetricsRecord';
}

export type MetricsResultResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['MetricsResult'] = ResolversParentTypes['MetricsResult'],
> = ResolversObject<{
  columns?: Resolver<Array<ResolversTypes['MetricsColumn']>, ParentType, ContextType>;
  cube?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rollupNote?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  rows?: Resolver<Array<ResolversTypes['MetricsRecord']>, ParentType, ContextType>;
  sql?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  usedRollup?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type PageInfoResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo'],
> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query'],
> = ResolversObject<{
  alert?: Resolver<
    Maybe<ResolversTypes['Alert']>,
    ParentType,
    ContextType,
    RequireFields<QueryAlertArgs, 'id'>
  >;
  alerts?: Resolver<
    Array<ResolversTypes['Alert']>,
    ParentType,
    ContextType,
    RequireFields<QueryAlertsArgs, 'first'>
  >;
  asset?: Resolver<
    Maybe<ResolversTypes['Asset']>,
    ParentType,
    ContextType,
    RequireFields<QueryAssetArgs, 'id'>
  >;
  assets?: Resolver<
    Array<ResolversTypes['Asset']>,
    ParentType,
    ContextType,
    RequireFields<QueryAssetsArgs, 'first'>
  >;
  dataProduct?: Resolver<
    Maybe<ResolversTypes['DataProduct']>,
    ParentType,
    ContextType,
    RequireFields<QueryDataProductArgs, 'id'>
  >;
  dataProducts?: Resolver<Array<ResolversTypes['DataProduct']>, ParentType, ContextType>;
  dataQualityEvents?: Resolver<
    Array<ResolversTypes['DataQualityEvent']>,
    ParentType,
    ContextType,
    RequireFields<QueryDataQualityEventsArgs, 'first' | 'from' | 'to'>
  >;
  device?: Resolver<
    Maybe<ResolversTypes['Device']>,
    ParentType,
    ContextType,
    RequireFields<QueryDeviceArgs, 'id'>
  >;
  devices?: Resolver<
    Array<ResolversTypes['Device']>,
    ParentType,
    ContextType,
    RequireFields<QueryDevicesArgs, 'first'>
  >;
  lineage?: Resolver<
    ResolversTypes['Lineage'],
    ParentType,
    ContextType,
    RequireFields<QueryLineageArgs, 'field'>
  >;
  maintenanceEvents?: Resolver<
    Array<ResolversTypes['MaintenanceEvent']>,
    ParentType,
    ContextType,
    RequireFields<QueryMaintenanceEventsArgs, 'first' | 'from' | 'to'>
  >;
  metricDefinitions?: Resolver<Array<ResolversTypes['Metric']>, ParentType, ContextType>;
  metrics?: Resolver<
    ResolversTypes['MetricsResult'],
    ParentType,
    ContextType,
    RequireFields<QueryMetricsArgs, 'measures'>
  >;
  metricsModel?: Resolver<Array<ResolversTypes['MetricsCube']>, ParentType, ContextType>;
  readings?: Resolver<
    ResolversTypes['ReadingConnection'],
    ParentType,
    ContextType,
    RequireFields<QueryReadingsArgs, 'deviceId' | 'first' | 'from' | 'to'>
  >;
  site?: Resolver<Maybe<ResolversTypes['Site']>, ParentType, ContextType, RequireFields<QuerySiteArgs, 'id'>>;
  sites?: Resolver<Array<ResolversTypes['Site']>, ParentType, ContextType>;
}>;

export type ReadingResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Reading'] = ResolversParentTypes['Reading'],
> = ResolversObject<{
  device?: Resolver<ResolversTypes['Device'], ParentType, ContextType>;
  ingestedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  mappingId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  mappingVersion?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  metric?: Resolver<ResolversTypes['Metric'], ParentType, ContextType>;
  quality?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  sourceTopic?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  ts?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  value?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export type ReadingConnectionResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['ReadingConnection'] = ResolversParentTypes['ReadingConnection'],
> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['ReadingEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type ReadingEdgeResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['ReadingEdge'] = ResolversParentTypes['ReadingEdge'],
> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Reading'], ParentType, ContextType>;
}>;

export type ServiceLevelObjectiveResolvers<
  ContextType = HubContext,
  ParentType extends
    ResolversParentTypes['ServiceLevelObjective'] = ResolversParentTypes['ServiceLevelObjective'],
> = ResolversObject<{
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  element?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  property?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  unit?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  value?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type SiteResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Site'] = ResolversParentTypes['Site'],
> = ResolversObject<{
  asset?: Resolver<ResolversTypes['Asset'], ParentType, ContextType>;
  devices?: Resolver<
    Array<ResolversTypes['Device']>,
    ParentType,
    ContextType,
    RequireFields<SiteDevicesArgs, 'first'>
  >;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type SubscriptionResolvers<
  ContextType = HubContext,
  ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription'],
> = ResolversObject<{
  alerts?: SubscriptionResolver<
    ResolversTypes['Alert'],
    'alerts',
    ParentType,
    ContextType,
    Partial<SubscriptionAlertsArgs>
  >;
  readings?: SubscriptionResolver<
    ResolversTypes['LiveReadings'],
    'readings',
    ParentType,
    ContextType,
    RequireFields<SubscriptionReadingsArgs, 'deviceIds' | 'maxHz'>
  >;
}>;

export type Resolvers<ContextType = HubContext> = ResolversObject<{
  Alert?: AlertResolvers<ContextType>;
  Asset?: AssetResolvers<ContextType>;
  ConfigurationItem?: ConfigurationItemResolvers<ContextType>;
  DataProduct?: DataProductResolvers<ContextType>;
  DataProductStatus?: DataProductStatusResolvers<ContextType>;
  DataQualityEvent?: DataQualityEventResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Device?: DeviceResolvers<ContextType>;
  HourlyRollup?: HourlyRollupResolvers<ContextType>;
  Incident?: IncidentResolvers<ContextType>;
  JSON?: GraphQLScalarType;
  Lineage?: LineageResolvers<ContextType>;
  LineageSource?: LineageSourceResolvers<ContextType>;
  LiveReadings?: LiveReadingsResolvers<ContextType>;
  MaintenanceEvent?: MaintenanceEventResolvers<ContextType>;
  Metric?: MetricResolvers<ContextType>;
  MetricsColumn?: MetricsColumnResolvers<ContextType>;
  MetricsCube?: MetricsCubeResolvers<ContextType>;
  MetricsMember?: MetricsMemberResolvers<ContextType>;
  MetricsRecord?: GraphQLScalarType;
  MetricsResult?: MetricsResultResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  Reading?: ReadingResolvers<ContextType>;
  ReadingConnection?: ReadingConnectionResolvers<ContextType>;
  ReadingEdge?: ReadingEdgeResolvers<ContextType>;
  ServiceLevelObjective?: ServiceLevelObjectiveResolvers<ContextType>;
  Site?: SiteResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
}>;

export type DirectiveResolvers<ContextType = HubContext> = ResolversObject<{
  classified?: ClassifiedDirectiveResolver<any, any, ContextType>;
}>;
