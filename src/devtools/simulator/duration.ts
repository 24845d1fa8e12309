const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `90s`, `15m`, `1.5h`, `7d` or `250ms` into milliseconds. A bare number is
 * read as seconds. Throws RangeError naming `what` for anything else, or for zero and negative values.
 */
export function parseDurationMs(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  const ms = match ? Number(match[1]) * unitMs[match[2] ?? 's']! : Number.NaN;
  if (!(ms > 0)) throw new RangeError(`${what}: '${text}' is not a duration; use e.g. 90s, 15m, 1h or 7d`);
  return Math.round(ms);
}

/** Parses a send rate such as `500`, `500/s` or `30000/m` into messages per second. */
export function parseRate(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|h))?\s*$/.exec(text);
  const perUnit = { s: 1, m: 60, h: 3600 }[(match?.[2] ?? 's') as 's' | 'm' | 'h'];
  const rate = match ? Number(match[1]) / perUnit : Number.NaN;
  if (!(rate > 0)) throw new RangeError(`--rate: '${text}' is not a rate; use e.g. 500/s or 30000/m`);
  return rate;
}
