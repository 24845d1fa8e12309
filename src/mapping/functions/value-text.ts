import { MappingErrorCode } from '../errors.ts';
import { ExpressionFault } from '../expression/fault.ts';

/**
 * The JSON text of a value, for to_string, format and hash. JSON.stringify recurses natively, so a payload
 * nested thousands of levels deep overflows the stack; that becomes VALUE_TOO_DEEP, which the field's
 * on_error handles, instead of a RangeError. No pre-walk: the common, shallow value costs nothing extra.
 */
export function jsonText(value: unknown, fn: string, pos: number): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new ExpressionFault(
        MappingErrorCode.VALUE_TOO_DEEP,
        `${fn}() cannot turn this value into text: it is nested too deeply (${e.message})`,
        pos,
      );
    }
    throw e;
  }
}
