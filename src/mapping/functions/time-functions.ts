import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { Evaluator } from '../expression/scope.ts';
import type { CompiledArg, FunctionSpec } from './function-spec.ts';
import { canonicalTimeZone, timeZoneProblem, zoneOffsetMs } from './time-zone.ts';
import { compileTimestampPattern, isCanonicalIso, isoToMs, msToIso } from './timestamp-parse.ts';

const NAMED_FORMATS = ['auto', 'iso8601', 'epoch_ms', 'epoch_s'];

/**
 * to_timestamp(value, format: "auto", tz: null) → ISO-8601 UTC text with milliseconds.
 * auto reads numbers as epoch ms and text as ISO-8601; a pattern such as "dd.MM.yyyy HH:mm" reads
 * wall-clock time in tz. Text without an offset needs tz (NAIVE_TIMESTAMP otherwise); null gives null.
 */
export const toTimestamp: FunctionSpec = {
  name: 'to_timestamp',
  signature:
    'to_timestamp(value, format: "auto"|"iso8601"|"epoch_ms"|"epoch_s"|"<pattern>", tz: "UTC"|"+02:00"|"<IANA zone>")',
  params: [{ name: 'value', required: true }, { name: 'format', literal: true }, { name: 'tz' }],
  compile([value, formatArg, tzArg], site) {
    const read = value!.evaluate;
    const pos = site.pos;
    const format = formatArg ? String(formatArg.constant!.value) : 'auto';
    const zone = compileZone(tzArg);
    if (!NAMED_FORMATS.includes(format)) {
      const pattern = compileTimestampPattern(format);
      if (!pattern) {
        throw fault(
          MappingErrorCode.BAD_ARGUMENTS,
          `format ${JSON.stringify(format)} is neither ${NAMED_FORMATS.join(', ')} nor a pattern with yyyy, MM and dd`,
          formatArg!.pos,
        );
      }
      return (s) => {
        const v = read(s);
        if (v === null || v === undefined) return null;
        if (typeof v !== 'string') throw notTimestamp(v, `text in the format ${JSON.stringify(format)}`, pos);
        return msToIso(pattern(v, zone(s) ?? 'UTC', pos), pos);
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
        return msToIso(isoToMs(v, zone(s), pos), pos);
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
  (d) => d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate(),
  (text) => Number(text.slice(0, 4)) * 10000 + Number(text.slice(5, 7)) * 100 + Number(text.slice(8, 10)),
);

/** minute_of_day(ts, tz: "UTC") → 0..1439 (the dim_time_of_day key), in tz's wall-clock time. */
export const minuteOfDay = calendarFunction(
  'minute_of_day',
  (d) => d.getUTCHours() * 60 + d.getUTCMinutes(),
  (text) => Number(text.slice(11, 13)) * 60 + Number(text.slice(14, 16)),
);

// A calendar key of a timestamp: read from a Date shifted to local time, or straight from canonical UTC text.
function calendarFunction(
  name: string,
  fromDate: (shifted: Date) => number,
  fromCanonicalUtc: (text: string) => number,
): FunctionSpec {
  return {
    name,
    signature: `${name}(timestamp, tz: "UTC")`,
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
