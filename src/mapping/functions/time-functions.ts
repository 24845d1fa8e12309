import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { Evaluator } from '../expression/scope.ts';
import type { CompiledArg, FunctionExample, FunctionSpec } from './function-spec.ts';
import {
  canonicalTimeZone,
  DST_POLICIES,
  type DstPolicy,
  timeZoneProblem,
  zoneOffsetMs,
} from './time-zone.ts';
import {
  compileTimestampPattern,
  isCanonicalIso,
  isoToMs,
  msToIso,
  PATTERN_TOKENS,
} from './timestamp-parse.ts';

const NAMED_FORMATS = ['auto', 'iso8601', 'epoch_ms', 'epoch_s'];

/**
 * to_timestamp(value, format: "auto", tz: null, dst: "compatible") → ISO-8601 UTC text with milliseconds.
 * auto reads numbers as epoch ms and text as ISO-8601; a pattern such as "dd.MM.yyyy HH:mm" reads
 * wall-clock time in tz. Text without an offset needs tz (NAIVE_TIMESTAMP otherwise); null gives null.
 */
export const toTimestamp: FunctionSpec = {
  name: 'to_timestamp',
  signature:
    'to_timestamp(value, format: "auto"|"iso8601"|"epoch_ms"|"epoch_s"|"<pattern>", tz: "UTC"|"+02:00"|"<IANA zone>", dst: "compatible"|"earlier"|"later"|"reject")',
  description: [
    'The value as an instant, written as ISO-8601 UTC text with milliseconds. `auto` (the default) reads a',
    'number as epoch milliseconds and text as ISO-8601; `epoch_ms`, `epoch_s` and `iso8601` insist on one form.',
    'Text without an offset is wall-clock time in `tz` (without `tz` it is `NAIVE_TIMESTAMP`); a pattern is',
    'always read in `tz` (UTC by default). null gives null; text that does not fit is `NOT_A_TIMESTAMP`.',
    '',
    "A pattern is made of these letters; text in single quotes is taken as written (`'T'`, `''` for a quote),",
    'other characters stand for themselves, and any other letter is refused when the mapping loads:',
    '',
    '| letter | meaning | digits |',
    '|---|---|---|',
    ...PATTERN_TOKENS.map((t) => `| \`${t.token}\` | ${t.meaning} | ${t.digits} |`),
    '',
    '`dst` says what a wall-clock time means when daylight saving time makes it happen twice (an overlap, when',
    'clocks go back) or not at all (a gap, when they go forward): `earlier` or `later` takes the earlier or later',
    "of the two readings; `compatible` (the default, as in java.time and JavaScript's Temporal) takes the earlier",
    'in an overlap and moves a time in a gap forward by the gap; `reject` makes such a value `NOT_A_TIMESTAMP`.',
    'Times with an explicit offset are never affected.',
  ].join('\n'),
  examples: [
    { call: 'to_timestamp("2026-08-20T12:15:30+02:00")', result: '2026-08-20T10:15:30.000Z' },
    { call: 'to_timestamp(1787220930123)', result: '2026-08-20T10:15:30.123Z' },
    {
      call: 'to_timestamp("8/20/2026 3:05 PM", format: "M/d/yyyy h:mm a", tz: "America/New_York")',
      result: '2026-08-20T19:05:00.000Z',
    },
    {
      call: 'to_timestamp("2026-10-25T02:30:00", tz="Europe/Berlin", dst="later")',
      result: '2026-10-25T01:30:00.000Z',
    },
  ],
  params: [
    { name: 'value', required: true },
    { name: 'format', literal: true },
    { name: 'tz' },
    { name: 'dst', literal: true },
  ],
  compile([value, formatArg, tzArg, dstArg], site) {
    const read = value!.evaluate;
    const pos = site.pos;
    const format = formatArg ? String(formatArg.constant!.value) : 'auto';
    const zone = compileZone(tzArg);
    const dst = dstArg ? dstArg.constant!.value : 'compatible';
    if (!DST_POLICIES.includes(dst as DstPolicy)) {
      throw fault(
        MappingErrorCode.BAD_ARGUMENTS,
        `to_timestamp() dst must be one of ${DST_POLICIES.join(', ')}, got ${describeValue(dst)}`,
        dstArg!.pos,
      );
    }
    const policy = dst as DstPolicy;
    if (!NAMED_FORMATS.includes(format)) {
      const pattern = compileTimestampPattern(format);
      if (typeof pattern === 'string') {
        throw fault(
          MappingErrorCode.BAD_ARGUMENTS,
          `format ${JSON.stringify(format)} is neither ${NAMED_FORMATS.join(', ')} nor a readable pattern: ${pattern}`,
          formatArg!.pos,
        );
      }
      return (s) => {
        const v = read(s);
        if (v === null || v === undefined) return null;
        if (typeof v !== 'string') throw notTimestamp(v, `text in the format ${JSON.stringify(format)}`, pos);
        return msToIso(pattern(v, zone(s) ?? 'UTC', policy, pos), pos);
      };
    }
    const scale = format === 'epoch_s' ? 1000 : 1;
    return (s) => {
      const v = read(s);
      if (typeof v === 'string') {
        if (format === 'epoch_ms' || format === 'epoch_s')
          return fromEpoch(Number(v.trim() || Number.NaN), scale, v, pos);
        // Already canonical: the text is its own normal form, so hand it back without allocating.
        if (isCanonicalIso(v)) return v;
        return msToIso(isoToMs(v, zone(s), pos, policy), pos);
      }
      if (typeof v === 'number' && format !== 'iso8601') return fromEpoch(v, scale, v, pos);
      if (v === null || v === undefined) return null;
      throw notTimestamp(
        v,
        format === 'iso8601' ? 'ISO-8601 text' : 'ISO-8601 text or epoch milliseconds',
        pos,
      );
    };
  },
};

/** date_key(ts, tz: "UTC") → yyyymmdd as an integer (the dim_date key), in tz's calendar. */
export const dateKey = calendarFunction(
  'date_key',
  'The calendar day of a timestamp (ISO-8601 text or epoch milliseconds) as the integer yyyymmdd, the ' +
    "`dw.dim_date` key, in `tz`'s calendar (UTC by default).",
  [
    { call: 'date_key("2026-08-20T23:30:00Z")', result: 20260820 },
    { call: 'date_key("2026-08-20T23:30:00Z", tz: "Europe/Berlin")', result: 20260821 },
  ],
  (d) => d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate(),
  (text) => Number(text.slice(0, 4)) * 10000 + Number(text.slice(5, 7)) * 100 + Number(text.slice(8, 10)),
);

/** minute_of_day(ts, tz: "UTC") → 0..1439 (the dim_time_of_day key), in tz's wall-clock time. */
export const minuteOfDay = calendarFunction(
  'minute_of_day',
  "The minute of the day of a timestamp, 0–1439, the `dw.dim_time_of_day` key, in `tz`'s wall-clock time " +
    '(UTC by default).',
  [{ call: 'minute_of_day("2026-08-20T10:15:30Z", tz: "America/New_York")', result: 375 }],
  (d) => d.getUTCHours() * 60 + d.getUTCMinutes(),
  (text) => Number(text.slice(11, 13)) * 60 + Number(text.slice(14, 16)),
);

// A calendar key of a timestamp: read from a Date shifted to local time, or straight from canonical UTC text.
function calendarFunction(
  name: string,
  description: string,
  examples: FunctionExample[],
  fromDate: (shifted: Date) => number,
  fromCanonicalUtc: (text: string) => number,
): FunctionSpec {
  return {
    name,
    signature: `${name}(timestamp, tz: "UTC")`,
    description: `${description} null gives null; anything else is \`NOT_A_TIMESTAMP\`.`,
    examples,
    params: [{ name: 'timestamp', required: true }, { name: 'tz' }],
    compile: ([value, tzArg], site) =>
      compileCalendarPart(value!, tzArg, site.pos, fromDate, fromCanonicalUtc),
  };
}

function compileCalendarPart(
  value: CompiledArg,
  tzArg: CompiledArg | undefined,
  pos: number,
  fromDate: (shifted: Date) => number,
  fromCanonicalUtc: (text: string) => number,
): Evaluator {
  const read = value.evaluate;
  const zone = compileZone(tzArg);
  return (s) => {
    const v = read(s);
    if (v === null || v === undefined) return null;
    const tz = zone(s);
    const utcOnly = tz === null || tz === 'UTC';
    if (typeof v === 'string' && utcOnly && isCanonicalIso(v)) return fromCanonicalUtc(v);
    let ms: number;
    if (typeof v === 'string') ms = isoToMs(v, null, pos);
    else if (typeof v === 'number' && Number.isFinite(v)) ms = v;
    else throw notTimestamp(v, 'a timestamp (ISO-8601 text or epoch milliseconds)', pos);
    return fromDate(new Date(utcOnly ? ms : ms + zoneOffsetMs(tz, ms)));
  };
}

/**
 * A tz argument, as its canonical spelling: checked at compile time when literal, per record otherwise;
 * null when absent. Names are case-insensitive ("europe/berlin" is Europe/Berlin).
 */
function compileZone(arg: CompiledArg | undefined): (s: Parameters<Evaluator>[0]) => string | null {
  if (!arg) return () => null;
  if (arg.constant) {
    const zone = arg.constant.value;
    const canonical = typeof zone === 'string' ? canonicalTimeZone(zone) : null;
    if (canonical === null) throw unknownZone(zone, arg.pos);
    return () => canonical;
  }
  const read = arg.evaluate;
  return (s) => {
    const zone = read(s);
    if (zone === null || zone === undefined) return null;
    const canonical = typeof zone === 'string' ? canonicalTimeZone(zone) : null;
    if (canonical === null) throw unknownZone(zone, arg.pos);
    return canonical;
  };
}

function fromEpoch(n: number, scale: number, original: unknown, pos: number): string {
  if (!Number.isFinite(n)) throw notTimestamp(original, 'epoch milliseconds or seconds', pos);
  return msToIso(n * scale, pos);
}

function unknownZone(zone: unknown, pos: number): ExpressionFault {
  const problem = typeof zone === 'string' ? timeZoneProblem(zone) : null;
  return fault(
    MappingErrorCode.UNKNOWN_TIME_ZONE,
    `unknown time zone ${describeValue(zone)}${problem ? ` (${problem})` : ''}; use "UTC", an offset like "+02:00", or an IANA zone like "Europe/Berlin"`,
    pos,
  );
}

function notTimestamp(value: unknown, expected: string, pos: number): ExpressionFault {
  return fault(
    MappingErrorCode.NOT_A_TIMESTAMP,
    `${describeValue(value)} is not a timestamp; expected ${expected}`,
    pos,
  );
}

function fault(
  code: ConstructorParameters<typeof ExpressionFault>[0],
  message: string,
  pos: number,
): ExpressionFault {
  return new ExpressionFault(code, message, pos);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * to_date(value, format: "auto") → "YYYY-MM-DD". auto reads a number as days since 1970-01-01 (how
 * Debezium sends DATE columns, io.debezium.time.Date) and text as an ISO date or the date part of an
 * ISO timestamp, taken as written; epoch_days and iso8601 insist on one form. null gives null.
 */
export const toDate: FunctionSpec = {
  name: 'to_date',
  signature: 'to_date(value, format: "auto"|"epoch_days"|"iso8601")',
  description:
    'A calendar date as `YYYY-MM-DD`. `auto` reads a whole number as days since 1970-01-01 (how Debezium ' +
    'sends DATE columns) and text as an ISO date or the date part of an ISO timestamp, as written; ' +
    '`epoch_days` and `iso8601` insist on one form. null gives null; anything else is `NOT_A_TIMESTAMP`.',
  examples: [
    { call: 'to_date(20089)', result: '2025-01-01' },
    { call: 'to_date("2026-08-20T23:00:00Z")', result: '2026-08-20' },
  ],
  params: [
    { name: 'value', required: true },
    { name: 'format', literal: true },
  ],
  compile([value, formatArg], site) {
    const format = formatArg ? formatArg.constant!.value : 'auto';
    if (format !== 'auto' && format !== 'epoch_days' && format !== 'iso8601') {
      throw fault(
        MappingErrorCode.BAD_ARGUMENTS,
        'to_date() format must be auto, epoch_days or iso8601',
        formatArg!.pos,
      );
    }
    const read = value!.evaluate;
    const pos = site.pos;
    return (s) => {
      const v = read(s);
      if (v === null || v === undefined) return null;
      if (typeof v === 'number' && format !== 'iso8601' && Number.isInteger(v)) {
        return msToIso(v * 86_400_000, pos).slice(0, 10);
      }
      if (typeof v === 'string' && format !== 'epoch_days') {
        const m = ISO_DATE.exec(v);
        if (m && Number.isFinite(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))) {
          const roundTrip = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
            .toISOString()
            .slice(0, 10);
          if (roundTrip === m[0]) return roundTrip;
        }
      }
      const expected =
        format === 'epoch_days'
          ? 'whole days since 1970-01-01'
          : format === 'iso8601'
            ? 'an ISO date (2026-08-20)'
            : 'an ISO date or days since 1970-01-01';
      throw fault(
        MappingErrorCode.NOT_A_TIMESTAMP,
        `${describeValue(v)} is not a date; expected ${expected}`,
        pos,
      );
    };
  },
};
