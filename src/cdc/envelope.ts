/**
 * Debezium change events as the PostgreSQL connector writes them with the JSON converter and schemas disabled.
 * Typed from the documented format (Debezium 3.x Envelope and PostgresSourceInfoStructMaker): there is no npm
 * package for these types.
 */

/** c create, u update, d delete, r snapshot read, t truncate, m logical decoding message. */
export type ChangeOp = 'c' | 'u' | 'd' | 'r' | 't' | 'm';

/** `source.snapshot` is a string enum, not a boolean, whatever the docs' example shows. */
export type SnapshotMarker =
  | 'true'
  | 'first'
  | 'first_in_data_collection'
  | 'last_in_data_collection'
  | 'last'
  | 'false'
  | 'incremental';

export interface PostgresSource {
  version: string;
  connector: 'postgresql';
  /** The connector's topic.prefix. */
  name: string;
  /** When the change committed in the database, epoch ms. */
  ts_ms: number;
  snapshot: SnapshotMarker;
  db: string;
  /** A JSON array in a string: [last committed LSN, current LSN]. */
  sequence: string | null;
  ts_us?: number;
  schema: string;
  table: string;
  txId: number | null;
  lsn: number | null;
  xmin: number | null;
}

export type Row = Record<string, unknown>;

export interface ChangeEvent<T extends Row = Row> {
  kind: 'change';
  op: ChangeOp;
  before: T | null;
  after: T | null;
  source: PostgresSource;
  /** When the connector processed the event (Connect JVM clock), epoch ms. `ts_ns` is dropped: it overflows a double. */
  ts_ms: number;
  transaction: { id: string; total_order: number; data_collection_order: number } | null;
  key: Row | null;
}

/** A delete is followed by a tombstone (same key, null value) so log compaction can drop the key. */
export interface Tombstone {
  kind: 'tombstone';
  key: Row | null;
}

/** A message that is not a valid change event; `reason` says which part is wrong. */
export class ChangeEventError extends Error {
  readonly code = 'INVALID_CHANGE_EVENT';
  constructor(reason: string) {
    super(`not a Debezium change event: ${reason}`);
    this.name = 'ChangeEventError';
  }
}

const ops = new Set<ChangeOp>(['c', 'u', 'd', 'r', 't', 'm']);

/** Parses a Kafka record's key and value (raw bytes or text) into a typed change event or tombstone. */
export function parseChangeEvent(
  key: Buffer | string | null,
  value: Buffer | string | null,
): ChangeEvent | Tombstone {
  const parsedKey = key === null ? null : (parseJson(key, 'key') as Row | null);
  if (value === null) return { kind: 'tombstone', key: parsedKey };
  const v = parseJson(value, 'value');
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ChangeEventError('value is not a JSON object');
  const e = v as Record<string, unknown>;
  if (typeof e.op !== 'string' || !ops.has(e.op as ChangeOp))
    throw new ChangeEventError(`op ${JSON.stringify(e.op)} is not one of c, u, d, r, t, m`);
  const source = e.source as PostgresSource | undefined;
  if (!source || typeof source !== 'object' || typeof source.table !== 'string')
    throw new ChangeEventError('source block is missing');
  const op = e.op as ChangeOp;
  if ((op === 'c' || op === 'r' || op === 'u') && !isRow(e.after))
    throw new ChangeEventError(`op ${op} has no after row`);
  if (op === 'd' && !isRow(e.before)) throw new ChangeEventError('delete has no before row');
  return {
    kind: 'change',
    op,
    before: (e.before as Row | null) ?? null,
    after: (e.after as Row | null) ?? null,
    source,
    ts_ms: Number(e.ts_ms),
    transaction: (e.transaction as ChangeEvent['transaction']) ?? null,
    key: parsedKey,
  };
}

/**
 * The order of a change within the source database: Debezium's own resume position is (commit LSN, event LSN),
 * taken from `source.sequence`; plain `lsn` is not monotonic across interleaved transactions.
 */
export function changePosition(event: ChangeEvent): [bigint, bigint] {
  const lsn = BigInt(event.source.lsn ?? 0);
  if (!event.source.sequence) return [lsn, lsn];
  const [committed, current] = JSON.parse(event.source.sequence) as (string | null)[];
  return [BigInt(committed ?? 0), BigInt(current ?? lsn)];
}

function isRow(x: unknown): x is Row {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function parseJson(raw: Buffer | string, part: string): unknown {
  try {
    return JSON.parse(raw.toString());
  } catch (err) {
    throw new ChangeEventError(`${part} is not JSON (${(err as Error).message})`);
  }
}
