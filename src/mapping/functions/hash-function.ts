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
