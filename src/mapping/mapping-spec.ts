import type { OnErrorPolicy } from './errors.ts';

/**
 * The shape of a mapping file after YAML parsing and validation against mappings/mapping.schema.json.
 * The JSON Schema is the source of truth for editors and validation; these types mirror it for the compiler.
 */
export type MappingKind = 'FactMapping' | 'DimensionMapping' | 'OutboundMapping';
export type UnknownFieldsPolicy = 'ignore' | 'warn' | 'fail';
export type OnMissingPolicy = 'infer' | 'quarantine' | 'unknown_member';

export interface MappingSpec {
  apiVersion: 'hub.mapping/v1';
  kind: MappingKind;
  id: string;
  version: number;
  description?: string;
  source: SourceSpec;
  units?: { aliases?: Record<string, string> };
  jsonata?: { timeout_ms?: number; stack?: number; sequence?: number };
  target: TargetSpec;
  explode?: string;
  where?: string;
  let?: Record<string, FieldSpec>;
  fields: Record<string, FieldSpec>;
  lookups?: Record<string, LookupSpec>;
  late_data?: { future_skew?: string; max_lateness?: string };
  on_error?: OnErrorPolicy;
  tests?: TestSpec[];
}

export interface SourceSpec {
  kind?: 'telemetry' | 'cdc' | 'cmdb_poll' | 'alert';
  topic?: string;
  table?: string;
  system?: string;
  match?: string;
  schema?: string | Record<string, unknown>;
  unknown_fields?: UnknownFieldsPolicy;
}

/** Passed through to the loader and the SCD merge; the mapper only checks that named fields exist. */
export interface TargetSpec {
  table?: string;
  system?: string;
  grain?: string[];
  natural_key?: string | string[];
  on_conflict?: 'ignore' | 'update';
  mode?: 'create' | 'upsert';
  dedupe_key?: string;
  scd?: {
    type: 1 | 2;
    effective_from?: string;
    tracked?: string[];
    type1?: string[];
    deletes?: 'ignore' | 'close' | 'tombstone';
  };
  hierarchy?: {
    parent?: string;
    level?: string;
    levels?: string[];
    on_cycle?: 'fail' | 'break';
    on_orphan?: 'attach_to_unknown' | 'fail';
  };
}

export type Literal = string | number | boolean | null;

export type FieldSpec = string | number | boolean | null | FieldObjectSpec;

export interface FieldObjectSpec {
  expr?: string | { jsonata: string };
  const?: unknown;
  match?: string;
  cases?: Record<string, unknown>;
  default?: unknown;
  on_error?: OnErrorPolicy;
  flag?: Record<string, unknown>;
  description?: string;
}

export interface LookupSpec {
  dimension: string;
  natural_key: Record<string, string>;
  as_of?: string;
  on_missing?: OnMissingPolicy;
}

export interface ErrorExpectation {
  code: string;
  field?: string;
  element?: number;
  message?: string;
  at?: string;
}

export interface TestSpec {
  name: string;
  input: { payload: unknown; meta?: Record<string, unknown> };
  expected: {
    rows?: Array<Record<string, unknown>>;
    errors?: ErrorExpectation[];
    dead_letter?: ErrorExpectation;
    fail_batch?: ErrorExpectation;
    routed?: boolean;
  };
}
