/**
 * Error codes a person or a dead letter sees for mapping problems. They are a public contract:
 * tests, dead letters and `iot-hub mappings` output carry them, so never rename one.
 */
export const MappingErrorCode = {
  // Loading the mapping file.
  FILE_UNREADABLE: 'FILE_UNREADABLE',
  YAML_SYNTAX: 'YAML_SYNTAX',
  UNKNOWN_KEY: 'UNKNOWN_KEY',
  INVALID_MAPPING: 'INVALID_MAPPING',
  DUPLICATE_MAPPING: 'DUPLICATE_MAPPING',
  CONTRACT_INVALID: 'CONTRACT_INVALID',
  // Compiling expressions.
  PARSE_ERROR: 'PARSE_ERROR',
  UNKNOWN_FUNCTION: 'UNKNOWN_FUNCTION',
  BAD_ARGUMENTS: 'BAD_ARGUMENTS',
  UNKNOWN_IDENTIFIER: 'UNKNOWN_IDENTIFIER',
  UNKNOWN_VARIABLE: 'UNKNOWN_VARIABLE',
  UNKNOWN_META_KEY: 'UNKNOWN_META_KEY',
  FORBIDDEN_PROPERTY: 'FORBIDDEN_PROPERTY',
  UNKNOWN_PATH: 'UNKNOWN_PATH',
  UNKNOWN_FIELD_REF: 'UNKNOWN_FIELD_REF',
  /** Fields that read each other ($row.<field>) in a circle. */
  FIELD_CYCLE: 'FIELD_CYCLE',
  /** A FactMapping lacks a field (or lookup) its target table needs for a required column. */
  MISSING_TARGET_COLUMN: 'MISSING_TARGET_COLUMN',
  /** A let that nothing reads: a warning, the mapping still loads. */
  UNUSED_LET: 'UNUSED_LET',
  UNKNOWN_PLACEHOLDER: 'UNKNOWN_PLACEHOLDER',
  JSONATA_SYNTAX: 'JSONATA_SYNTAX',
  // Compile time when literal, run time otherwise.
  UNKNOWN_UNIT: 'UNKNOWN_UNIT',
  INCOMPATIBLE_UNITS: 'INCOMPATIBLE_UNITS',
  UNKNOWN_TIME_ZONE: 'UNKNOWN_TIME_ZONE',
  // Mapping a record.
  SOURCE_INVALID: 'SOURCE_INVALID',
  UNKNOWN_FIELD: 'UNKNOWN_FIELD',
  NOT_A_NUMBER: 'NOT_A_NUMBER',
  NOT_A_STRING: 'NOT_A_STRING',
  NOT_A_BOOLEAN: 'NOT_A_BOOLEAN',
  NOT_A_TIMESTAMP: 'NOT_A_TIMESTAMP',
  NAIVE_TIMESTAMP: 'NAIVE_TIMESTAMP',
  TYPE_MISMATCH: 'TYPE_MISMATCH',
  DIVISION_BY_ZERO: 'DIVISION_BY_ZERO',
  NO_MATCHING_CASE: 'NO_MATCHING_CASE',
  EXPLODE_NOT_ARRAY: 'EXPLODE_NOT_ARRAY',
  JSONATA_FAILED: 'JSONATA_FAILED',
  JSONATA_LIMIT: 'JSONATA_LIMIT',
  /** A field's value is NaN or ±Infinity, which no column or fact can hold. */
  NOT_FINITE: 'NOT_FINITE',
  /** A value is nested too deeply to turn into text (to_string, format, hash). */
  VALUE_TOO_DEEP: 'VALUE_TOO_DEEP',
  /** Anything unexpected while mapping one record: that record is dead-lettered, the batch goes on. */
  RECORD_FAILED: 'RECORD_FAILED',
  ASYNC_MAPPING: 'ASYNC_MAPPING',
} as const;
export type MappingErrorCode = (typeof MappingErrorCode)[keyof typeof MappingErrorCode];

/** What happens to a record when one of its fields fails at run time (`on_error`, mappings/README.md). */
export type OnErrorPolicy = 'null_and_flag' | 'drop_row' | 'dead_letter' | 'fail_batch' | 'default';

/** Where in a mapping file something is; line and col are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface MappingErrorDetails {
  location?: SourceLocation | undefined;
  mappingId?: string | undefined;
  mappingVersion?: number | undefined;
  /** Target field (or `let` variable) whose expression failed. */
  field?: string | undefined;
  /** Index of the exploded element the error belongs to. */
  element?: number | undefined;
  /** The policy that was applied to this error, for runtime errors. */
  policy?: OnErrorPolicy | 'warn' | undefined;
  cause?: unknown;
}

/**
 * Every mapping problem, at load, compile or run time. The message starts with `file:line:col:` when a
 * mapping file is at fault; `detail` is the same text without the location. Mapping errors are never
 * retriable: the same input and mapping fail the same way until someone fixes one of them.
 */
export class MappingError extends Error {
  readonly code: MappingErrorCode;
  readonly detail: string;
  readonly retriable = false;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly col: number | undefined;
  readonly mappingId: string | undefined;
  readonly mappingVersion: number | undefined;
  readonly field: string | undefined;
  readonly element: number | undefined;
  readonly policy: OnErrorPolicy | 'warn' | undefined;

  constructor(code: MappingErrorCode, detail: string, details: MappingErrorDetails = {}) {
    const at = details.location;
    super(at ? `${at.file}:${at.line}:${at.col}: ${detail}` : detail, { cause: details.cause });
    this.name = 'MappingError';
    this.code = code;
    this.detail = detail;
    this.file = at?.file;
    this.line = at?.line;
    this.col = at?.col;
    this.mappingId = details.mappingId;
    this.mappingVersion = details.mappingVersion;
    this.field = details.field;
    this.element = details.element;
    this.policy = details.policy;
  }

  /** `file:line:col`, or undefined when no mapping file position is known. */
  get at(): string | undefined {
    return this.file === undefined ? undefined : `${this.file}:${this.line}:${this.col}`;
  }

  /** A plain object for dead letters and `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      at: this.at,
      mappingId: this.mappingId,
      mappingVersion: this.mappingVersion,
      field: this.field,
      element: this.element,
      policy: this.policy,
    };
  }
}

/** Thrown by load and compile when a mapping file has one or more problems; `errors` lists them all. */
export class MappingInvalidError extends MappingError {
  readonly errors: MappingError[];

  constructor(errors: MappingError[]) {
    const first = errors[0];
    super(first?.code ?? MappingErrorCode.INVALID_MAPPING, errors.map((e) => e.message).join('\n'), {
      mappingId: first?.mappingId,
    });
    this.name = 'MappingInvalidError';
    this.errors = errors;
  }
}

/** Turns anything thrown into an Error (every catch starts here). */
export function ensureError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
