import { LruCache } from '../lru-cache.ts';

/**
 * Time zone offsets through Intl (the ICU data Node ships), so IANA zones and their DST rules come from
 * a maintained source rather than a table of ours. Zone names come from payloads, so every cache here is
 * bounded: spellings map to one canonical name (Intl zone names are case-insensitive, so "europe/BERLIN"
 * and "Europe/Berlin" share one formatter), and both caches are small LRUs.
 */

/** Fixed offsets: +02:00, +0200, -05:30. */
const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;
/** What an IANA name can be made of; anything else is refused before it reaches ICU. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/**
 * The offsets accepted, in minutes east of UTC: UTC−12:00 to UTC+14:00, the range civil time uses
 * (Baker Island to Kiribati). RFC 3339 also asks minutes 00–59. Anything outside is a typo or garbage.
 */
export const MIN_OFFSET_MINUTES = -12 * 60;
export const MAX_OFFSET_MINUTES = 14 * 60;

/** Spelling → canonical name, or null when unknown. Bounded: 40,000 spellings of one zone stay 256 entries. */
const canonicalNames = new LruCache<string, string | null>(256);
/** Lower-case alias or unknown name → what Intl made of it, so other spellings skip the slow Intl path. */
const resolvedAliases = new LruCache<string, string | null>(256);
/** Canonical IANA name → formatter. Each formatter holds native ICU memory, so keep few. */
const formatters = new LruCache<string, Intl.DateTimeFormat>(64);
let namesByLowerCase: Map<string, string> | null = null;

/** The offset in minutes of +hh:mm / -hhmm, or null when it is not an offset or is out of range. */
export function fixedOffsetMinutes(sign: string, hh: number, mm: number): number | null {
  if (mm > 59) return null;
  const minutes = (sign === '-' ? -1 : 1) * (hh * 60 + mm);
  return minutes < MIN_OFFSET_MINUTES || minutes > MAX_OFFSET_MINUTES ? null : minutes;
}

/**
 * The canonical spelling of a tz argument: "UTC", an offset as "+hh:mm", or the IANA name as ICU spells
 * it ("Europe/Berlin"); null when Node does not know it.
 */
export function canonicalTimeZone(zone: string): string | null {
  if (zone === 'UTC' || zone === 'Z') return 'UTC';
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed) {
    const minutes = fixedOffsetMinutes(fixed[1]!, Number(fixed[2]), Number(fixed[3]));
    return minutes === null ? null : `${fixed[1]}${fixed[2]}:${fixed[3]}`;
  }
  if (!ZONE_NAME.test(zone)) return null;
  const cached = canonicalNames.get(zone);
  if (cached !== undefined) return cached;
  const canonical = resolveName(zone);
  canonicalNames.set(zone, canonical);
  return canonical;
}

/** Whether `zone` is UTC, a fixed offset in range (+02:00) or an IANA zone Node knows. */
export function isKnownTimeZone(zone: string): boolean {
  return canonicalTimeZone(zone) !== null;
}

/** Why `zone` is not a time zone, for UNKNOWN_TIME_ZONE messages; null when it is merely unknown. */
export function timeZoneProblem(zone: string): string | null {
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed) {
    return Number(fixed[3]) > 59
      ? `offset ${zone} has more than 59 minutes`
      : `offset ${zone} is outside -12:00..+14:00`;
  }
  if (!ZONE_NAME.test(zone)) return 'not a time zone name: at most 64 letters, digits, _ + - and /';
  return null;
}

/** Offset of `zone` from UTC at instant `utcMs`, in milliseconds (east positive). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const fixed = FIXED_OFFSET.exec(zone);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
  const parts = formatter(zone).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * How a wall-clock time that a daylight-saving change makes ambiguous (an overlap: it happens twice) or
 * nonexistent (a gap: the clocks skip it) becomes an instant. `earlier` and `later` pick the earlier or
 * later of the two readings, with the offsets before and after the change; `compatible` takes the earlier
 * in an overlap and the later in a gap (moving the time forward by the gap), as java.time and JavaScript's
 * Temporal do by default; `reject` makes the value a fault.
 */
export type DstPolicy = 'compatible' | 'earlier' | 'later' | 'reject';
export const DST_POLICIES: readonly DstPolicy[] = ['compatible', 'earlier', 'later', 'reject'];

/**
 * The UTC instant of a wall-clock time in `zone` under `dst`; NaN when `dst` is reject and the time falls
 * in a gap or an overlap (dstConflict says which).
 */
export function localToUtcMs(localAsUtcMs: number, zone: string, dst: DstPolicy = 'compatible'): number {
  const before = zoneOffsetMs(zone, localAsUtcMs - 86_400_000);
  const after = zoneOffsetMs(zone, localAsUtcMs + 86_400_000);
  if (before === after) return localAsUtcMs - before;
  const readings = [localAsUtcMs - before, localAsUtcMs - after].sort((a, b) => a - b);
  const valid = readings.filter((utc) => localAsUtcMs - utc === zoneOffsetMs(zone, utc));
  if (valid.length === 1) return valid[0]!;
  if (dst === 'reject') return Number.NaN;
  if (dst === 'earlier') return readings[0]!;
  if (dst === 'later') return readings[1]!;
  return valid.length === 2 ? readings[0]! : readings[1]!;
}

/** Why a wall-clock time has no single instant in `zone`: 'gap', 'overlap', or null when it has one. */
export function dstConflict(localAsUtcMs: number, zone: string): 'gap' | 'overlap' | null {
  const before = zoneOffsetMs(zone, localAsUtcMs - 86_400_000);
  const after = zoneOffsetMs(zone, localAsUtcMs + 86_400_000);
  if (before === after) return null;
  const valid = [localAsUtcMs - before, localAsUtcMs - after].filter(
    (utc) => localAsUtcMs - utc === zoneOffsetMs(zone, utc),
  );
  return valid.length === 2 ? 'overlap' : valid.length === 0 ? 'gap' : null;
}

/** Entries in the zone caches, for tests that check they stay bounded. */
export function timeZoneCacheSizes(): { names: number; aliases: number; formatters: number } {
  return { names: canonicalNames.size, aliases: resolvedAliases.size, formatters: formatters.size };
}

// A zone name in any case → ICU's spelling: the list of canonical zones first (no ICU object needed),
// then Intl itself for aliases such as US/Eastern (ICU names their canonical zone).
function resolveName(zone: string): string | null {
  namesByLowerCase ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
  const lower = zone.toLowerCase();
  const known = namesByLowerCase.get(lower) ?? resolvedAliases.get(lower);
  if (known !== undefined) return known;
  let resolved: string | null;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    resolved = null;
  }
  resolvedAliases.set(lower, resolved);
  return resolved;
}

function formatter(zone: string): Intl.DateTimeFormat {
  const canonical = canonicalTimeZone(zone);
  if (canonical === null) throw new RangeError(`unknown time zone ${JSON.stringify(zone)}`);
  let f = formatters.get(canonical);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: canonical,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(canonical, f);
  }
  return f;
}
