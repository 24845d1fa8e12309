import type { MappingErrorCode } from '../errors.ts';

/**
 * A problem inside one expression, at character `pos` of its text. The compiler turns it into a
 * MappingError with `file:line:col`; at run time the mapper applies the field's on_error policy.
 * Thrown only on the error path, so the cost of building it does not matter.
 */
export class ExpressionFault extends Error {
  readonly code: MappingErrorCode;
  readonly pos: number;

  constructor(code: MappingErrorCode, message: string, pos: number) {
    super(message);
    this.name = 'ExpressionFault';
    this.code = code;
    this.pos = pos;
  }
}

/** A short, safe rendering of a runtime value for messages: `"n/a"`, `42`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}
