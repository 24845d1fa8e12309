import { createHash } from 'node:crypto';
import { MappingErrorCode } from '../errors.ts';
import { ExpressionFault } from '../expression/fault.ts';
import type { FunctionSpec } from './function-spec.ts';
import { jsonText } from './value-text.ts';

const ALGORITHMS = ['sha256', 'sha1', 'md5'];

/**
 * hash(value, ...more, algorithm: "sha256", length: 64) → lowercase hex digest of the values joined by
 * U+001F (unit separator, so ("a","bc") and ("ab","c") differ). Non-text values hash as JSON; null as
 * the empty string. `length` keeps a prefix, e.g. 8 for ltree labels (docs/architecture.md).
 */
export const hash: FunctionSpec = {
  name: 'hash',
  signature: 'hash(value, ...more, algorithm: "sha256"|"sha1"|"md5", length: <hex chars>)',
  description:
    'The lowercase hex digest of the values joined by U+001F (so `("a", "bc")` and `("ab", "c")` differ). ' +
    'Text hashes as it is, other values as JSON, null as empty text. `length` keeps a prefix of that many ' +
    'hex characters; `algorithm` and `length` are literals.',
  examples: [
    { call: 'hash("abc")', result: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    { call: 'hash("abc", algorithm: "md5", length: 8)', result: '90015098' },
  ],
  params: [
    { name: 'value', required: true },
    { name: 'algorithm', literal: true, namedOnly: true },
    { name: 'length', literal: true, namedOnly: true },
  ],
  variadic: true,
  compile([value, algorithmArg, lengthArg], site, rest) {
    const algorithm = algorithmArg ? algorithmArg.constant!.value : 'sha256';
    if (typeof algorithm !== 'string' || !ALGORITHMS.includes(algorithm)) {
      throw new ExpressionFault(
        MappingErrorCode.BAD_ARGUMENTS,
        `hash() algorithm must be one of ${ALGORITHMS.join(', ')}`,
        algorithmArg!.pos,
      );
    }
    const length = lengthArg ? lengthArg.constant!.value : undefined;
    if (length !== undefined && (typeof length !== 'number' || !Number.isInteger(length) || length < 1)) {
      throw new ExpressionFault(
        MappingErrorCode.BAD_ARGUMENTS,
        'hash() length must be a positive integer',
        lengthArg!.pos,
      );
    }
    const readers = [value!, ...rest].map((a) => a.evaluate);
    return (s) => {
      const text = readers
        .map((read) => {
          const v = read(s);
          if (v === null || v === undefined) return '';
          return typeof v === 'string' ? v : jsonText(v, 'hash', site.pos);
        })
        .join('\u001f');
      const digest = createHash(algorithm).update(text).digest('hex');
      return length === undefined ? digest : digest.slice(0, length);
    };
  },
};
