import { createHash } from 'node:crypto';
import type { FunctionSpec } from './function-spec.ts';
import { jsonText } from './value-text.ts';

/** What ServiceNow encoded queries can match exactly (no `^`, `,`, `=` or spaces): docs/servicenow-tickets.md. */
const SAFE_ID = /^[A-Za-z0-9._:-]*$/;
/** Kept as they are inside an encoded part; `_` (the escape) and `:` (the separator) are escaped there. */
const KEPT_IN_ENCODED = /[A-Za-z0-9.-]/;
/** Starts a part that was encoded; a raw part that was already safe never gets it. */
export const ENCODED_PART_MARKER = '..';
export const CORRELATION_ID_MAX = 100;
const HASH_CHARS = 12;

/**
 * One part of a correlation id. A part made of [A-Za-z0-9._:-] only is returned unchanged, so ids that were
 * valid keep their correlation id exactly. Any other part becomes `..` followed by the part with every
 * character outside [A-Za-z0-9.-] written as `_XX` per UTF-8 byte (uppercase hex): `G-50/fan1` →
 * `..G-50_2Ffan1`, `a_b/c` → `..a_5Fb_2Fc`.
 */
export function encodeCorrelationPart(part: string): string {
  if (SAFE_ID.test(part)) return part;
  let out = ENCODED_PART_MARKER;
  for (const ch of part) {
    if (KEPT_IN_ENCODED.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The inverse of encodeCorrelationPart. A part starting with `..` is read as encoded: the one ambiguity is
 * a raw part that itself starts with `..` (it was valid, so it was never encoded and reads back wrong).
 * Throws on an encoded part that is not well formed.
 */
export function decodeCorrelationPart(part: string): string {
  if (!part.startsWith(ENCODED_PART_MARKER)) return part;
  const body = part.slice(ENCODED_PART_MARKER.length);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '_') {
      bytes.push(ch.charCodeAt(0));
      continue;
    }
    const hex = body.slice(i + 1, i + 3);
    if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`"${part}" is not an encoded correlation id part`);
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The parts, each encoded, joined by `:`. Over 100 characters, the id is cut to 86 characters followed by
 * `..` and the first 12 hex digits of the SHA-256 of the whole id, so the same input always gives the same
 * id and two long ids that share a prefix still differ. Such an id cannot be decoded; hub.alert keeps the
 * device id next to it.
 */
export function correlationIdOf(parts: readonly string[]): string {
  const id = parts.map(encodeCorrelationPart).join(':');
  if (id.length <= CORRELATION_ID_MAX) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, HASH_CHARS);
  return `${id.slice(0, CORRELATION_ID_MAX - HASH_CHARS - ENCODED_PART_MARKER.length)}${ENCODED_PART_MARKER}${digest}`;
}

/**
 * correlation_id(part, ...more) → the parts joined by `:` as an id ServiceNow can search for exactly: 1–100
 * characters of [A-Za-z0-9._:-] (docs/servicenow-tickets.md, "Correlation ids"). Null parts are empty,
 * numbers and booleans their JSON text.
 */
export const correlationId: FunctionSpec = {
  name: 'correlation_id',
  signature: 'correlation_id(part, ...more)',
  description:
    'The parts joined by `:` as an id ServiceNow can search for exactly: 1–100 characters of ' +
    '`[A-Za-z0-9._:-]` (docs/servicenow-tickets.md). A part with other characters is encoded (`..` then ' +
    '`_XX` per UTF-8 byte); an id over 100 characters is cut and ends in a hash. null parts are empty, ' +
    'numbers and booleans their JSON text.',
  examples: [
    { call: 'correlation_id("P-101", "overheat")', result: 'P-101:overheat' },
    { call: 'correlation_id("G-50/fan1", 2)', result: '..G-50_2Ffan1:2' },
  ],
  params: [{ name: 'part', required: true }],
  variadic: true,
  compile([first], site, rest) {
    const readers = [first!, ...rest].map((a) => a.evaluate);
    return (s) =>
      correlationIdOf(
        readers.map((read) => {
          const v = read(s);
          if (v === null || v === undefined) return '';
          return typeof v === 'string' ? v : jsonText(v, 'correlation_id', site.pos);
        }),
      );
  },
};
