import { MappingError, MappingErrorCode, type SourceLocation } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5m" → 300000; undefined → null. The schema already checks the form; this guards direct callers. */
export function parseDuration(text: string | undefined, at: SourceLocation): number | null {
  if (text === undefined) return null;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) {
    throw new MappingError(
      MappingErrorCode.INVALID_MAPPING,
      `'${text}' is not a duration; write e.g. 500ms, 30s, 5m, 2h or 7d`,
      { location: at },
    );
  }
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
