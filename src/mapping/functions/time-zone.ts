/**
 * Time zone offsets through Intl (the ICU data Node ships), so IANA zones and their DST rules come from
 * a maintained source rather than a table of ours. Formatters are cached per zone.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/** Whether `zone` is UTC, a fixed offset (+02:00) or an IANA zone Node knows. */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'Z' || FIXED_OFFSET.test(zone)) return true;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
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
 * The UTC instant of a wall-clock time in `zone`. In a DST overlap the earlier instant wins; in a DST gap
 * the time is read with the offset before the gap, which moves it forward by the gap's length.
 */
export function localToUtcMs(localAsUtcMs: number, zone: string): number {
  const before = zoneOffsetMs(zone, localAsUtcMs - 86_400_000);
  const after = zoneOffsetMs(zone, localAsUtcMs + 86_400_000);
  let best: number | undefined;
  for (const offset of before === after ? [before] : [before, after]) {
    const utc = localAsUtcMs - offset;
    if (zoneOffsetMs(zone, utc) === offset && (best === undefined || utc < best)) best = utc;
  }
  return best ?? localAsUtcMs - before;
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}
