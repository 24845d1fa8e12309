import { ExpressionFault } from '../expression/fault.ts';
import type { FunctionSpec } from './function-spec.ts';

/**
 * try(value, fallback) → value, or fallback when evaluating value faults. Lazy: fallback is evaluated
 * only then. Unlike on_error: default, which counts and reports the failure, try says the fallback is
 * intended, so nothing is reported. Only expression faults are caught; anything else (a bug) still fails
 * the record.
 */
export const tryFunction: FunctionSpec = {
  name: 'try',
  signature: 'try(value, fallback)',
  description:
    '`value`, or `fallback` when evaluating `value` fails with an expression error, such as `NOT_A_NUMBER`, ' +
    '`NOT_A_TIMESTAMP` or `DIVISION_BY_ZERO`. `fallback` is evaluated only then. Unlike `on_error: default`, ' +
    'which still reports each failure as an error, `try` says the fallback is intended: nothing is reported. ' +
    'A null `value` is a value, not a failure (use `??` for null). A `value` that is constant and always ' +
    'fails is allowed here, unlike anywhere else.',
  examples: [
    { call: 'try(to_number("n/a"), 0)', result: 0 },
    { call: 'try(to_number("4.2"), 0)', result: 4.2 },
    { call: 'try(to_timestamp("yesterday"), null)', result: null },
  ],
  params: [
    { name: 'value', required: true, catchesFaults: true },
    { name: 'fallback', required: true },
  ],
  compile([value, fallback]) {
    const read = value!.evaluate;
    const readFallback = fallback!.evaluate;
    return (s) => {
      try {
        return read(s);
      } catch (e) {
        if (e instanceof ExpressionFault) return readFallback(s);
        throw e;
      }
    };
  },
};
