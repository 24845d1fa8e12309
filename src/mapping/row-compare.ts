import { isDeepStrictEqual } from 'node:util';

/** `{approx: 23.28, tol: 0.001}` in an expected row: a float compared within a tolerance. */
interface Approx {
  approx: number;
  tol?: number;
}

const DEFAULT_TOLERANCE = 1e-6;

function isApprox(value: unknown): value is Approx {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Approx).approx === 'number' &&
    Object.keys(value).every((k) => k === 'approx' || k === 'tol')
  );
}

/** Whether an actual value satisfies an expected one (exact, deep, or approx). */
export function valueMatches(expected: unknown, actual: unknown): boolean {
  if (isApprox(expected)) {
    return (
      typeof actual === 'number' && Math.abs(actual - expected.approx) <= (expected.tol ?? DEFAULT_TOLERANCE)
    );
  }
  return isDeepStrictEqual(expected, actual);
}

/**
 * Compares expected rows with actual ones: same count, and each expected row's listed fields equal the
 * actual row's (fields an expected row leaves out are not compared). Returns one line per difference,
 * each naming the row and field; empty when they match.
 */
export function compareRows(
  expected: ReadonlyArray<Record<string, unknown>>,
  actual: ReadonlyArray<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  if (expected.length !== actual.length)
    problems.push(`expected ${expected.length} row(s), got ${actual.length}`);
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    const want = expected[i]!;
    const got = actual[i]!;
    for (const [field, value] of Object.entries(want)) {
      if (!Object.hasOwn(got, field)) {
        problems.push(`row ${i}: field '${field}' is missing; the row has ${Object.keys(got).join(', ')}`);
      } else if (!valueMatches(value, got[field])) {
        problems.push(`row ${i}: ${field} expected ${show(value)}, got ${show(got[field])}`);
      }
    }
  }
  return problems;
}

/** A line diff of expected vs actual rows: "- " for expected-only lines, "+ " for actual-only ones. */
export function diffRows(
  expected: ReadonlyArray<Record<string, unknown>>,
  actual: ReadonlyArray<Record<string, unknown>>,
): string[] {
  const lines: string[] = [];
  // Actual rows are shown with the fields the expectation lists, so only real differences stand out;
  // an extra row with no counterpart is shown with the fields any expected row lists.
  const listed = [...new Set(expected.flatMap((row) => Object.keys(row)))];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const want = expected[i];
    const got = actual[i];
    const gotShown = got && (want || listed.length) ? pick(got, want ? Object.keys(want) : listed) : got;
    if (want && gotShown && Object.keys(want).every((k) => valueMatches(want[k], gotShown[k]))) {
      lines.push(`  ${JSON.stringify(gotShown)}`);
      continue;
    }
    if (want) lines.push(`- ${JSON.stringify(want)}`);
    if (gotShown) lines.push(`+ ${JSON.stringify(gotShown)}`);
  }
  return lines;
}

function pick(row: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = Object.hasOwn(row, k) ? row[k] : '(missing)';
  return out;
}

function show(value: unknown): string {
  if (isApprox(value)) return `≈${value.approx} (±${value.tol ?? DEFAULT_TOLERANCE})`;
  return JSON.stringify(value);
}
