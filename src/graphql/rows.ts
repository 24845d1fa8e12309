// What the loaders read from the warehouse, aliased in SQL to the GraphQL field names so default resolvers
// serve the plain fields; the keys below the plain fields are the hops' join keys (docs/graphql.md, "Entities").

export interface AssetRow {
  id: string;
  name: string;
  level: 'site' | 'area' | 'line' | 'asset';
  criticality: string | null;
  path: string;
  parentId: string | null;
  siteId: string | null;
}

export interface SiteRow {
  id: string;
  name: string;
}

export interface DeviceRow {
  id: string;
  serialNumber: string | null;
  model: string | null;
  manufacturer: string | null;
  firmwareVersion: string | null;
  lifecycleStatus: string | null;
  measurementUnit: string | null;
  rangeMin: number | null;
  rangeMax: number | null;
  expectedIntervalSeconds: number | null;
  calibrationIntervalDays: number | null;
  lastCalibratedAt: Date | null;
  /** null for -infinity / infinity (pg gives ±Infinity for them). */
  validFrom: Date | null;
  validTo: Date | null;
  isCurrent: boolean;
  deviceSk: number;
  assetId: string | null;
}

export interface CmdbCiRow {
  sysId: string;
  name: string | null;
  className: string | null;
  serialNumber: string | null;
  assetTag: string | null;
  operationalStatus: string | null;
  installStatus: string | null;
  locationName: string | null;
  updatedBy: string | null;
  deviceId: string;
}

export interface MetricRow {
  code: string;
  name: string;
  unit: string | null;
  validMin: number | null;
  validMax: number | null;
  description: string | null;
  metricSk: number;
}

export interface ReadingRow {
  /** A Date, or epoch milliseconds (readingColumns with 'epoch'); the DateTime scalar takes both. */
  ts: Date | number;
  value: number | null;
  quality: number;
  ingestedAt: Date | number;
  mappingId: string | null;
  mappingVersion: number | null;
  sourceTopic: string | null;
  deviceSk: number;
  metricSk: number;
  /** reading_ts as PostgreSQL prints it: keeps the microseconds a Date drops, for cursors. */
  tsText: string;
}

export interface ReadingEdgeRow {
  /** Encoded when asked for (ReadingEdge.cursor), from the node. */
  cursor?: string;
  node: ReadingRow;
}

export interface ReadingConnectionRow {
  edges: ReadingEdgeRow[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface LiveReadingsRow {
  readings: ReadingRow[];
  conflated: number;
}

export interface HourlyRow {
  hourStart: Date;
  expected: number;
  received: number;
  suspect: number;
  failed: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  last: number | null;
  completeness: number | null;
  deviceSk: number;
  metricSk: number;
}

export interface DqEventRow {
  id: string;
  check: string;
  severity: string;
  openedAt: Date;
  closedAt: Date | null;
  observedValue: number | null;
  threshold: number | null;
  details: unknown;
  deviceSk: number;
  metricSk: number | null;
}

export interface AlertRow {
  id: string;
  key: string;
  rule: string;
  severity: string;
  status: 'open' | 'escalated' | 'cleared' | 'suppressed';
  openedAt: Date;
  clearedAt: Date | null;
  updatedAt: Date;
  evidence: unknown;
  ticketNumber: string | null;
  ticketState: string | null;
  ticketSysId: string | null;
  deviceId: string | null;
  metricCode: string | null;
}

export interface IncidentRow {
  sysId: string;
  number: string;
  state: string | null;
  priority: string | null;
  urgency: string | null;
  impact: string | null;
  shortDescription: string | null;
  caller: string | null;
  assignedTo: string | null;
  openedAt: string | null;
  updatedAt: string | null;
}

export interface MaintenanceRow {
  id: string;
  type: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  workOrderNumber: string | null;
  technician: string | null;
  description: string | null;
  sourceSystem: string;
  deviceSk: number;
  assetSk: number;
}
