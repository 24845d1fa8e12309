import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import { type DstPolicy, dstConflict, fixedOffsetMinutes, localToUtcMs } from './time-zone.ts';

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

/**
 * Epoch ms of an ISO-8601 timestamp; a text without offset is read in `tz` under the `dst` policy, or
 * refused when tz is null.
 */
export function isoToMs(text: string, tz: string | null, pos: number, dst: DstPolicy = 'compatible'): number {
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
  return wallClockToMs(local, tz, dst, text, pos);
}

/** Reads text in a compiled pattern as wall-clock time in `tz`; throws NOT_A_TIMESTAMP when it does not fit. */
export type PatternReader = (text: string, tz: string, dst: DstPolicy, pos: number) => number;

/**
 * The pattern letters to_timestamp understands; docs/mapping-functions.md renders this table. A single
 * letter reads one or two digits, a doubled one exactly two.
 */
export const PATTERN_TOKENS: ReadonlyArray<{ token: string; meaning: string; digits: string }> = [
  { token: 'yyyy', meaning: 'year', digits: '4' },
  { token: 'M', meaning: 'month 1–12', digits: '1–2' },
  { token: 'MM', meaning: 'month 01–12', digits: '2' },
  { token: 'd', meaning: 'day of month', digits: '1–2' },
  { token: 'dd', meaning: 'day of month', digits: '2' },
  { token: 'H', meaning: 'hour 0–23', digits: '1–2' },
  { token: 'HH', meaning: 'hour 00–23', digits: '2' },
  { token: 'h', meaning: 'hour 1–12, with a', digits: '1–2' },
  { token: 'hh', meaning: 'hour 01–12, with a', digits: '2' },
  { token: 'a', meaning: 'AM or PM (any case)', digits: '–' },
  { token: 'm', meaning: 'minute', digits: '1–2' },
  { token: 'mm', meaning: 'minute', digits: '2' },
  { token: 's', meaning: 'second', digits: '1–2' },
  { token: 'ss', meaning: 'second', digits: '2' },
  { token: 'S', meaning: 'tenths of a second', digits: '1' },
  { token: 'SS', meaning: 'hundredths of a second', digits: '2' },
  { token: 'SSS', meaning: 'milliseconds', digits: '3' },
];
const TOKEN_NAMES = PATTERN_TOKENS.map((t) => t.token);

type Field = 'year' | 'month' | 'day' | 'hour' | 'hour12' | 'ampm' | 'minute' | 'second' | 'millis';
const FIELD_OF: Record<string, Field> = {
  y: 'year',
  M: 'month',
  d: 'day',
  H: 'hour',
  h: 'hour12',
  a: 'ampm',
  m: 'minute',
  s: 'second',
  S: 'millis',
};

/**
 * Compiles a pattern such as "dd.MM.yyyy HH:mm:ss" or "M/d/yyyy h:mm a" (letters in PATTERN_TOKENS, text
 * in single quotes taken as written, '' for a quote, any other character as itself) into a reader, once
 * per call site. Returns the problem as a sentence when the pattern cannot be read: an unknown letter, a
 * field twice, no year, month or day, or a 12-hour clock without AM/PM.
 */
export function compileTimestampPattern(pattern: string): PatternReader | string {
  const fields: Field[] = [];
  let fractionDigits = 0;
  let source = '^';
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      // 'text' is literal, and '' a quote, inside or outside quoted text (as in java.time patterns).
      let literal = '';
      let j = i + 1;
      if (pattern[j] === "'") {
        literal = "'";
        j++;
      } else {
        for (;;) {
          if (j >= pattern.length) return `the quote at character ${i} is not closed; write '' for a quote`;
          if (pattern[j] === "'" && pattern[j + 1] === "'") {
            literal += "'";
            j += 2;
          } else if (pattern[j] === "'") {
            j++;
            break;
          } else {
            literal += pattern[j++];
          }
        }
      }
      source += escapeRegex(literal);
      i = j;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      source += escapeRegex(c);
      i++;
      continue;
    }
    let end = i;
    while (pattern[end] === c) end++;
    const token = pattern.slice(i, end);
    const field = FIELD_OF[c];
    if (!field || !TOKEN_NAMES.includes(token)) {
      return (
        `'${token}' at character ${i} is not a pattern token; known: ${TOKEN_NAMES.join(', ')}; ` +
        `put other letters in single quotes ('T')`
      );
    }
    if (fields.includes(field)) return `'${token}' at character ${i} repeats a field already read`;
    fields.push(field);
    if (field === 'millis') fractionDigits = token.length;
    source +=
      field === 'ampm'
        ? '([AaPp][Mm])'
        : field === 'millis' || token.length > 1
          ? `(\\d{${token.length}})`
          : '(\\d{1,2})';
    i = end;
  }
  const missing = (['year', 'month', 'day'] as const).filter((f) => !fields.includes(f));
  if (missing.length) return `it has no ${missing.join(', ')} (use yyyy, MM and dd)`;
  if (fields.includes('hour12') !== fields.includes('ampm')) {
    return fields.includes('ampm')
      ? "'a' (AM/PM) needs the 12-hour clock h or hh; HH is already 0–23"
      : "h and hh are the 12-hour clock and need 'a' for AM/PM; use HH for 0–23";
  }
  if (fields.includes('hour12') && fields.includes('hour')) return 'it has both H (0–23) and h (1–12)';
  const regex = new RegExp(`${source}$`);
  // Regex group of each field; 0 when the pattern does not have it.
  const at = (field: Field) => fields.indexOf(field) + 1;
  const year = at('year');
  const month = at('month');
  const day = at('day');
  const hour = at('hour');
  const hour12 = at('hour12');
  const ampm = at('ampm');
  const minute = at('minute');
  const second = at('second');
  const millis = at('millis');
  return (text, tz, dst, pos) => {
    const m = regex.exec(text);
    const num = (group: number) => (group > 0 && m ? Number(m[group]) : 0);
    let h = num(hour);
    let valid = m !== null;
    if (m && hour12 > 0) {
      const h12 = num(hour12);
      valid = h12 >= 1 && h12 <= 12;
      h = (h12 % 12) + (m[ampm]!.toUpperCase() === 'PM' ? 12 : 0);
    }
    const fields = [num(year), num(month), num(day), h, num(minute), num(second)] as const;
    if (!valid || !validFields(...fields)) {
      throw new ExpressionFault(
        MappingErrorCode.NOT_A_TIMESTAMP,
        `${describeValue(text)} does not match the timestamp format ${JSON.stringify(pattern)}`,
        pos,
      );
    }
    const ms = millis > 0 ? num(millis) * 10 ** (3 - fractionDigits) : 0;
    const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], ms);
    return wallClockToMs(local, tz, dst, text, pos);
  };
}

/** A wall-clock time in `tz` as epoch ms under the DST policy; reject faults with what went wrong. */
export function wallClockToMs(local: number, tz: string, dst: DstPolicy, text: string, pos: number): number {
  const ms = localToUtcMs(local, tz, dst);
  if (!Number.isNaN(ms)) return ms;
  const conflict = dstConflict(local, tz);
  throw new ExpressionFault(
    MappingErrorCode.NOT_A_TIMESTAMP,
    conflict === 'gap'
      ? `${describeValue(text)} does not exist in ${tz}: the clocks skip it when daylight saving time starts (dst: "reject"); pass dst: "earlier", "later" or "compatible" to read it anyway`
      : `${describeValue(text)} happens twice in ${tz}: the clocks repeat it when daylight saving time ends (dst: "reject"); pass dst: "earlier" or "later" to pick one`,
    pos,
  );
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
