import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import { fixedOffsetMinutes, localToUtcMs } from './time-zone.ts';

// Timestamps leave the mapper as ISO-8601 UTC strings with milliseconds (2026-08-20T10:15:30.123Z):
// readable in tests and dead letters, sortable as text, and accepted by PostgreSQL timestamptz as is.

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Canonical `YYYY-MM-DDTHH:mm:ss.sssZ` is what devices that already send UTC send; recognising it with
 * char codes avoids a regex and an allocation per record. Returns epoch ms, or NaN if the text is not canonical.
 */
export function canonicalIsoToMs(text: string): number {
  if (!isCanonicalIso(text)) return Number.NaN;
  return Date.UTC(
    digits(text, 0, 4),
    digits(text, 5, 2) - 1,
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
    digits(text, 20, 3),
  );
}

/** Whether `text` is a valid timestamp already in the canonical form, which is then its own normal form. */
export function isCanonicalIso(text: string): boolean {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */) return false;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return false;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46) return false;
  const fields = validFields(
    digits(text, 0, 4),
    digits(text, 5, 2),
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
  );
  return fields && digits(text, 20, 3) >= 0;
}

/** Epoch ms of an ISO-8601 timestamp; a text without offset is read in `tz`, or refused when tz is null. */
export function isoToMs(text: string, tz: string | null, pos: number): number {
  if (isCanonicalIso(text)) return canonicalIsoToMs(text);
  const m = ISO.exec(text);
  if (!m) {
    throw new ExpressionFault(
      MappingErrorCode.NOT_A_TIMESTAMP,
      `${describeValue(text)} is not an ISO-8601 timestamp; expected e.g. 2026-08-20T10:15:30Z or 2026-08-20T12:15:30+02:00`,
      pos,
    );
  }
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  if (!validFields(...fields)) {
    throw new ExpressionFault(
      MappingErrorCode.NOT_A_TIMESTAMP,
      `${describeValue(text)} is not a valid date and time`,
      pos,
    );
  }
  const millis = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], millis);
  if (zone) return local - offsetOf(zone, text, pos);
  if (tz === null) {
    throw new ExpressionFault(
      MappingErrorCode.NAIVE_TIMESTAMP,
      `${describeValue(text)} has no time zone; add Z or an offset at the source, or pass tz: "UTC" (or an IANA zone such as "Europe/Berlin")`,
      pos,
    );
  }
  return localToUtcMs(local, tz);
}

/**
 * A reader for a pattern made of yyyy, MM, dd, HH, mm, ss, SSS and literal characters
 * ("dd.MM.yyyy HH:mm:ss"). Compiled once per call site; the result is wall-clock time read in `tz`.
 */
export function compileTimestampPattern(
  pattern: string,
): ((text: string, tz: string, pos: number) => number) | null {
  const order: string[] = [];
  let source = '^';
  for (let i = 0; i < pattern.length; ) {
    const token = ['yyyy', 'SSS', 'MM', 'dd', 'HH', 'mm', 'ss'].find((t) => pattern.startsWith(t, i));
    if (token) {
      order.push(token);
      source += `(\\d{${token.length}})`;
      i += token.length;
    } else {
      source += pattern[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  if (!order.includes('yyyy') || !order.includes('MM') || !order.includes('dd')) return null;
  const regex = new RegExp(`${source}$`);
  return (text, tz, pos) => {
    const m = regex.exec(text);
    const get = (token: string, fallback: number) => {
      const i = order.indexOf(token);
      return i < 0 ? fallback : Number(m![i + 1]);
    };
    const fields = m
      ? ([get('yyyy', 0), get('MM', 0), get('dd', 0), get('HH', 0), get('mm', 0), get('ss', 0)] as const)
      : null;
    if (!fields || !validFields(...fields)) {
      throw new ExpressionFault(
        MappingErrorCode.NOT_A_TIMESTAMP,
        `${describeValue(text)} does not match the timestamp format ${JSON.stringify(pattern)}`,
        pos,
      );
    }
    const local = Date.UTC(
      fields[0],
      fields[1] - 1,
      fields[2],
      fields[3],
      fields[4],
      fields[5],
      get('SSS', 0),
    );
    return localToUtcMs(local, tz);
  };
}

/** Epoch ms → canonical ISO string; the year must stay in 0000–9999 so the text form stays fixed-width. */
export function msToIso(ms: number, pos: number): string {
  if (!Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799999) {
    throw new ExpressionFault(
      MappingErrorCode.NOT_A_TIMESTAMP,
      `${describeValue(ms)} is outside the years 0000–9999 (epoch milliseconds expected)`,
      pos,
    );
  }
  return new Date(ms).toISOString();
}

// The offset of a timestamp's zone designator in ms. RFC 3339 minutes (00–59) and the range civil time
// uses (−12:00..+14:00, see time-zone.ts); "+25:00" or "+14:61" is NOT_A_TIMESTAMP, not a silent shift.
function offsetOf(zone: string, text: string, pos: number): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const minutes = fixedOffsetMinutes(
    zone[0]!,
    Number(zone.slice(1, 3)),
    zone.length > 3 ? Number(zone.slice(-2)) : 0,
  );
  if (minutes === null) {
    throw new ExpressionFault(
      MappingErrorCode.NOT_A_TIMESTAMP,
      `${describeValue(text)} has the offset ${zone}, which is not valid; offsets run from -12:00 to +14:00 with minutes 00–59`,
      pos,
    );
  }
  return minutes * 60_000;
}

function digits(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function validFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): boolean {
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0);
}
