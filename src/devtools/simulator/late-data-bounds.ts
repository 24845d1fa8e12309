import { loadMappings } from '../../mapping/index.ts';

/** How far ahead of and behind the hub's clock a reading may be before the pipeline dead-letters it. */
export interface LateDataBounds {
  /** A reading dated more than this ahead is FUTURE_TIMESTAMP. */
  futureSkewMs: number;
  /** A reading older than this is TOO_LATE; null when no mapping sets max_lateness. */
  maxLatenessMs: number | null;
}

// The values in mappings/telemetry-*.yaml when this was written; used when the files cannot be read
// (simulate run from another folder).
const fallback: LateDataBounds = { futureSkewMs: 5 * 60_000, maxLatenessMs: 7 * 86_400_000 };

/**
 * The strictest late_data bounds of the given telemetry mappings (by id) under `mappingsDir`: the largest
 * future_skew and the smallest max_lateness, so a window that fits them fits every vendor. Falls back to
 * 5 min / 7 d when a mapping is missing or does not load.
 */
export function lateDataBounds(mappingIds: readonly string[], mappingsDir = 'mappings'): LateDataBounds {
  let mappings: ReturnType<typeof loadMappings>['mappings'];
  try {
    mappings = loadMappings([mappingsDir]).mappings;
  } catch {
    return fallback;
  }
  let futureSkewMs = 0;
  let maxLatenessMs: number | null = null;
  for (const id of mappingIds) {
    const late = mappings.find((m) => m.id === id)?.lateData;
    if (!late) return fallback;
    futureSkewMs = Math.max(futureSkewMs, late.futureSkewMs ?? 0);
    if (late.maxLatenessMs !== null)
      maxLatenessMs = Math.min(maxLatenessMs ?? Number.POSITIVE_INFINITY, late.maxLatenessMs);
  }
  return { futureSkewMs, maxLatenessMs };
}
