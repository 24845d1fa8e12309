import { MappingErrorCode } from '../errors.ts';
import type { BinaryOp } from './ast.ts';
import { describeValue, ExpressionFault } from './fault.ts';
import type { Evaluator } from './scope.ts';

// Operator semantics, chosen for sensor data: null (or a missing path) propagates through arithmetic and
// comparisons like SQL NULL; logic treats null as false; anything else of the wrong type is a fault.

export function compileUnary(op: '-' | '!', operand: Evaluator, pos: number): Evaluator {
  if (op === '-') {
    return (s) => {
      const v = operand(s);
      if (v === null || v === undefined) return null;
      if (typeof v !== 'number') throw notNumber('-', v, pos);
      return -v;
    };
  }
  return (s) => !truthy(operand(s), '!', pos);
}

export function compileBinary(op: BinaryOp, left: Evaluator, right: Evaluator, pos: number): Evaluator {
  switch (op) {
    case '??':
      return (s) => {
        const v = left(s);
        return v === null || v === undefined ? right(s) : v;
      };
    case '||':
      return (s) => truthy(left(s), op, pos) || truthy(right(s), op, pos);
    case '&&':
      return (s) => truthy(left(s), op, pos) && truthy(right(s), op, pos);
    case '==':
      return (s) => same(left(s), right(s));
    case '!=':
      return (s) => !same(left(s), right(s));
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compileComparison(op, left, right, pos);
    case '+':
      return (s) => {
        const a = left(s);
        const b = right(s);
        if (typeof a === 'number' && typeof b === 'number') return a + b;
        if (a === null || a === undefined || b === null || b === undefined) return null;
        if (typeof a === 'string' && typeof b === 'string') return a + b;
        throw new ExpressionFault(
          MappingErrorCode.TYPE_MISMATCH,
          `'+' needs two numbers or two strings, got ${describeValue(a)} and ${describeValue(b)}; use format() to build text`,
          pos,
        );
      };
    default:
      return compileArithmetic(op, left, right, pos);
  }
}

function compileArithmetic(
  op: '-' | '*' | '/' | '%',
  left: Evaluator,
  right: Evaluator,
  pos: number,
): Evaluator {
  const apply = ARITHMETIC[op];
  return (s) => {
    const a = left(s);
    const b = right(s);
    if (typeof a === 'number' && typeof b === 'number') {
      if (b === 0 && (op === '/' || op === '%')) {
        throw new ExpressionFault(MappingErrorCode.DIVISION_BY_ZERO, `division by zero in '${op}'`, pos);
      }
      return apply(a, b);
    }
    if (a === null || a === undefined || b === null || b === undefined) return null;
    throw notNumber(op, typeof a === 'number' ? b : a, pos);
  };
}

const ARITHMETIC = {
  '-': (a: number, b: number) => a - b,
  '*': (a: number, b: number) => a * b,
  '/': (a: number, b: number) => a / b,
  '%': (a: number, b: number) => a % b,
};

function compileComparison(
  op: '<' | '<=' | '>' | '>=',
  left: Evaluator,
  right: Evaluator,
  pos: number,
): Evaluator {
  const compare = COMPARISONS[op];
  return (s) => {
    const a = left(s);
    const b = right(s);
    if (a === null || a === undefined || b === null || b === undefined) return null;
    if (
      (typeof a === 'number' && typeof b === 'number') ||
      (typeof a === 'string' && typeof b === 'string')
    ) {
      return compare(a, b);
    }
    throw new ExpressionFault(
      MappingErrorCode.TYPE_MISMATCH,
      `'${op}' compares two numbers or two strings, got ${describeValue(a)} and ${describeValue(b)}; convert with to_number()`,
      pos,
    );
  };
}

const COMPARISONS = {
  '<': (a: number | string, b: number | string) => a < b,
  '<=': (a: number | string, b: number | string) => a <= b,
  '>': (a: number | string, b: number | string) => a > b,
  '>=': (a: number | string, b: number | string) => a >= b,
};

/** null and a missing value are equal; everything else compares strictly (1 != "1"). */
function same(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  return a === b;
}

/** Logic accepts booleans and null (false); anything else is a fault rather than a guess. */
export function truthy(value: unknown, op: string, pos: number): boolean {
  if (value === true) return true;
  if (value === false || value === null || value === undefined) return false;
  throw new ExpressionFault(
    MappingErrorCode.NOT_A_BOOLEAN,
    `'${op}' needs true, false or null, got ${describeValue(value)}; compare it, e.g. $.x == "yes"`,
    pos,
  );
}

function notNumber(op: string, value: unknown, pos: number): ExpressionFault {
  return new ExpressionFault(
    MappingErrorCode.NOT_A_NUMBER,
    `'${op}' needs numbers, got ${describeValue(value)}; convert with to_number()`,
    pos,
  );
}
