import { GraphQLError } from 'graphql';

/** The most rows one list or page returns (docs/graphql.md, "Entities"). */
export const maxFirst = 1000;

export function userError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** `first` checked against 1..maxFirst: a clear error instead of a silent cut. */
export function firstArg(first: number | null | undefined, fallback = 100): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > maxFirst)
    throw userError(`first must be between 1 and ${maxFirst}, got ${n}`);
  return n;
}

/** A [from, to) time range: both valid instants, from before to. */
export function timeRange(from: Date, to: Date): { from: Date; to: Date } {
  if (!(from < to)) throw userError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  return { from, to };
}

/** A readings cursor: the last row's (reading_ts as PostgreSQL prints it, metric_sk, device_sk), opaque. */
export interface ReadingCursor {
  ts: string;
  metricSk: number;
  deviceSk: number;
}

export function encodeCursor(c: ReadingCursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.metricSk, c.deviceSk])).toString('base64url');
}

/** timestamptz as PostgreSQL prints it, e.g. 2026-12-01 10:00:00.123456+00. */
const pgTimestamp = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

export function decodeCursor(after: string): ReadingCursor {
  try {
    const [ts, metricSk, deviceSk] = JSON.parse(
      Buffer.from(after, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof ts === 'string' &&
      pgTimestamp.test(ts) &&
      Number.isInteger(metricSk) &&
      Number.isInteger(deviceSk)
    )
      return { ts, metricSk: metricSk as number, deviceSk: deviceSk as number };
  } catch {
    // reported below
  }
  throw userError(
    `after: '${after}' is not a cursor of this connection; pass pageInfo.endCursor of the previous page`,
  );
}
