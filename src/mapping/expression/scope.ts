/** Message metadata a mapping can read as $meta.<key>; the ingest and CDC stages fill what they know. */
export interface MappingMeta {
  topic?: string;
  partition?: number;
  offset?: string;
  key?: string | null;
  /** Kafka message timestamp, epoch milliseconds. */
  timestamp?: number;
  headers?: Record<string, string>;
  /** Debezium change event: c (create), u (update), d (delete), r (snapshot read). */
  op?: string;
  /** Debezium source.lsn and the transaction's commit LSN: the CDC version guard (docs/architecture.md). */
  lsn?: number | string;
  commit_lsn?: number | string;
  /** Debezium source.ts_ms: when the change was committed in the source database. */
  source_ts_ms?: number;
  table?: string;
  batch_id?: number | string;
}

/** The keys $meta accepts; anything else is a compile error (UNKNOWN_META_KEY) rather than a silent null. */
export const META_KEYS: ReadonlySet<string> = new Set([
  'topic',
  'partition',
  'offset',
  'key',
  'timestamp',
  'headers',
  'op',
  'lsn',
  'commit_lsn',
  'source_ts_ms',
  'table',
  'batch_id',
]);

/** What a compiled expression can see: nothing else is reachable (no globals, no prototypes). */
export interface Scope {
  /** The whole message ($$). */
  root: unknown;
  /** The exploded element ($), or the message when the mapping does not explode. */
  cur: unknown;
  meta: MappingMeta;
  /** let variables by slot. */
  vars: unknown[];
}

export type Evaluator = (scope: Scope) => unknown;

/** Names that would reach an object's prototype chain; rejected at compile time wherever a key is written. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads an own property of a plain object, or undefined. Own-property checks mean an input can never
 * reach Object.prototype, even through a payload key like "__proto__" (JSON.parse makes it an own key).
 */
export function getKey(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** Array element by index (negative counts from the end), or undefined. */
export function getIndex(value: unknown, index: number): unknown {
  if (!Array.isArray(value)) return undefined;
  const i = index < 0 ? value.length + index : index;
  return i >= 0 && i < value.length ? value[i] : undefined;
}
