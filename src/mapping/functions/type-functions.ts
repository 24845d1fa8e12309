import type { FunctionExample, FunctionSpec } from './function-spec.ts';

/** The JSON type of a value: what type_of returns and what the is_ functions test. */
export type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'boolean' || type === 'number' || type === 'string' ? type : 'object';
}

/** type_of(value) → "null", "boolean", "number", "string", "array" or "object"; a missing path is "null". */
export const typeOf: FunctionSpec = {
  name: 'type_of',
  signature: 'type_of(value)',
  description:
    'The JSON type of the value: `"null"` (also for a missing path), `"boolean"`, `"number"`, `"string"`, ' +
    '`"array"` or `"object"`. Never fails, so `match type_of($.v) { number: …, string: …, _: … }` handles ' +
    'a vendor that sends one field in several types.',
  examples: [
    { call: 'type_of("42")', result: 'string' },
    { call: 'type_of([1])', result: 'array' },
    { call: 'type_of(null)', result: 'null' },
  ],
  params: [{ name: 'value', required: true }],
  compile([value]) {
    const read = value!.evaluate;
    return (s) => jsonTypeOf(read(s));
  },
};

function typeTest(type: JsonType, examples: FunctionExample[]): FunctionSpec {
  const name = `is_${type}`;
  return {
    name,
    signature: `${name}(value)`,
    description: `Whether the value is ${type === 'null' ? 'null or a missing path' : `a${type === 'array' || type === 'object' ? 'n' : ''} ${type}`}; never fails. \`${name}(v)\` is \`type_of(v) == "${type}"\`.`,
    examples,
    params: [{ name: 'value', required: true }],
    compile([value]) {
      const read = value!.evaluate;
      return (s) => jsonTypeOf(read(s)) === type;
    },
  };
}

export const isNull = typeTest('null', [{ call: 'is_null(null)', result: true }]);
export const isBoolean = typeTest('boolean', [{ call: 'is_boolean("true")', result: false }]);
export const isNumber = typeTest('number', [
  { call: 'is_number(4.2)', result: true },
  { call: 'is_number("4.2")', result: false },
]);
export const isString = typeTest('string', [{ call: 'is_string("4.2")', result: true }]);
export const isArray = typeTest('array', [{ call: 'is_array([1, 2])', result: true }]);
export const isObject = typeTest('object', [{ call: 'is_object({ a: 1 })', result: true }]);
