import type { MappingError, OnErrorPolicy, SourceLocation } from './errors.ts';
import type { MappingMeta } from './expression/scope.ts';
import type { FieldSources } from './field-sources.ts';
import type {
  MappingKind,
  OnMissingPolicy,
  SourceSpec,
  TargetSpec,
  TestSpec,
  UnknownFieldsPolicy,
} from './mapping-spec.ts';

/**
 * One output row: the mapping's fields in declared order, then mapping_id and mapping_version, so every
 * loaded row and dead letter can say which mapping made it.
 */
export type MappedRow = Record<string, unknown> & { mapping_id: string; mapping_version: number };

/** The outcome of mapping one record. Bad records never throw, except under on_error: fail_batch. */
export interface MapResult {
  /** Rows to load, in element order (empty when dead-lettered or when every row was dropped). */
  rows: MappedRow[];
  /** For each row, the index of the exploded element it came from (-1 when the mapping does not explode). */
  rowElements: number[];
  /**
   * Everything reported while mapping, each with the policy applied: 'warn' (unknown fields),
   * 'null_and_flag', 'default', 'drop_row', or 'dead_letter' (then also in deadLetter).
   */
  errors: readonly MappingError[];
  /** Set when the record belongs in hub.dead_letter; rows is then empty. */
  deadLetter: MappingError | null;
}

export interface MappingInput {
  payload: unknown;
  meta?: MappingMeta;
}

/** A batch's outcome: good rows, plus failed records by index (dead letters). */
export interface BatchMapResult {
  rows: MappedRow[];
  /** For each row, the index of the input it came from. */
  rowInputs: number[];
  /** For each row, the index of the exploded element it came from (-1 when the mapping does not explode). */
  rowElements: number[];
  /**
   * Records that belong in hub.dead_letter: failed values under on_error: dead_letter, and anything
   * unexpected while mapping one record (RECORD_FAILED). Their rows are never in `rows`.
   */
  failed: Array<{ index: number; error: MappingError }>;
  /** Non-fatal errors and warnings (flagged, defaulted or dropped rows; unknown fields). */
  flagged: Array<{ index: number; error: MappingError }>;
}

/** A dimension lookup the enrichment stage resolves in bulk; the mapper only passes it on. */
export interface LookupDeclaration {
  /** The lookup's name in the mapping file (device, metric, asset). */
  name: string;
  dimension: string;
  /** Dimension column → field of the mapped row that holds the key. */
  naturalKey: Record<string, string>;
  /** Field of the mapped row holding the as-of time for SCD2 dimensions, or null for current rows. */
  asOf: string | null;
  onMissing: OnMissingPolicy;
  location: SourceLocation;
}

/** A compiled mapping file: parsed once, compiled to closures, ready to map records. */
export interface CompiledMapping {
  readonly id: string;
  readonly version: number;
  readonly kind: MappingKind;
  /** The mapping file, as given to the loader. */
  readonly file: string;
  readonly description: string | undefined;
  readonly source: Readonly<SourceSpec> & { unknownFields: UnknownFieldsPolicy };
  readonly target: Readonly<TargetSpec>;
  /** Output fields in row order (without mapping_id and mapping_version). */
  readonly fieldNames: readonly string[];
  readonly lookups: readonly LookupDeclaration[];
  readonly lateData: { futureSkewMs: number | null; maxLatenessMs: number | null };
  /** Default on_error policy for fields without their own. */
  readonly onError: OnErrorPolicy;
  /** True when a field uses JSONata: then map() throws ASYNC_MAPPING and callers use mapAsync/mapBatch. */
  readonly async: boolean;
  /** Problems that do not stop the mapping, such as a let nothing reads (UNUSED_LET); shown by `mappings validate`. */
  readonly warnings: readonly MappingError[];
  /** The source fields each output field is computed from (field-sources.ts), for lineage. */
  readonly fieldSources: FieldSources;
  /** Inline tests with where each one is written. */
  readonly tests: ReadonlyArray<{ spec: TestSpec; location: SourceLocation }>;

  /** The routing predicate (source.match); true when there is none. A predicate error counts as false. */
  matches(record: unknown, meta?: MappingMeta): boolean;
  /**
   * Maps one record synchronously. Throws MappingError only for on_error: fail_batch and ASYNC_MAPPING;
   * anything else thrown while mapping (a stack overflow on a deeply nested payload) becomes the record's
   * dead letter, RECORD_FAILED.
   */
  map(record: unknown, meta?: MappingMeta): MapResult;
  /** As map(), for mappings with JSONata fields (works for all mappings). */
  mapAsync(record: unknown, meta?: MappingMeta): Promise<MapResult>;
  /**
   * Maps a batch; the ingest stage calls this per Kafka batch. Rejects only for on_error: fail_batch,
   * meaning the whole batch must be replayed. An empty batch gives empty lists.
   */
  mapBatch(inputs: readonly MappingInput[]): Promise<BatchMapResult>;
}
