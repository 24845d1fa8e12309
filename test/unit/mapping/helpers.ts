import {
  type CompiledMapping,
  compileMappingText,
  type MappingError,
  MappingInvalidError,
} from '../../../src/mapping/index.ts';

/** Lines before the body in `mappingWith`, so a body line n sits on file line n + HEADER_LINES. */
export const HEADER_LINES = 6;

/** A minimal FactMapping with `body` appended (fields, let, explode, ...); the file is test.yaml. */
export function mappingText(body: string): string {
  return [
    'apiVersion: hub.mapping/v1',
    'kind: FactMapping',
    'id: test-mapping',
    'version: 3',
    'source: { topic: t }',
    'target: { table: dw.x }',
    body,
  ].join('\n');
}

export function mappingWith(body: string): CompiledMapping {
  return compileMappingText(mappingText(body), 'test.yaml');
}

/** The errors compiling `text` reports; fails the test when it compiles. */
export function compileErrors(text: string, file = 'test.yaml'): MappingError[] {
  try {
    compileMappingText(text, file);
  } catch (e) {
    if (e instanceof MappingInvalidError) return e.errors;
    throw e;
  }
  throw new Error('expected the mapping not to compile');
}

/** [code, message] pairs, the form a person sees them in. */
export function seen(errors: readonly MappingError[]): Array<[string, string]> {
  return errors.map((e) => [e.code, e.message]);
}
