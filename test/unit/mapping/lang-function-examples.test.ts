import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileExpression, normalize } from '../../../src/mapping/expression/compile.ts';
import { parseExpression } from '../../../src/mapping/expression/parser.ts';
import {
  FUNCTION_REFERENCE_PATH,
  renderFunctionReference,
} from '../../../src/mapping/functions/function-reference.ts';
import { FUNCTIONS } from '../../../src/mapping/functions/registry.ts';
import { UnitConverter } from '../../../src/mapping/units/unit-converter.ts';

const specs = [...FUNCTIONS.values()];
const examples = specs.flatMap((f) => f.examples.map((e) => [f.name, e.call, e.result] as const));

function run(call: string): unknown {
  const ctx = { functions: FUNCTIONS, variables: new Map(), units: new UnitConverter() };
  const compiled = compileExpression(parseExpression(call), ctx);
  return normalize(compiled.evaluate({ root: {}, cur: {}, meta: {}, vars: [] }));
}

describe('function specs document themselves', () => {
  it.each(specs.map((f) => [f.name, f] as const))('%s has a description and an example', (_name, f) => {
    expect(f.description.length).toBeGreaterThan(20);
    expect(f.examples.length).toBeGreaterThan(0);
  });

  it.each(examples)('%s: %s', (name, call, result) => {
    expect(call).toContain(`${name}(`);
    expect(run(call)).toEqual(result);
  });

  it('docs/mapping-functions.md is what the specs render (run `npm run docs:functions` after a change)', () => {
    const committed = readFileSync(new URL(`../../../${FUNCTION_REFERENCE_PATH}`, import.meta.url), 'utf8');
    expect(committed).toBe(renderFunctionReference());
  });

  it('the reference shows every function with its signature and examples', () => {
    const doc = renderFunctionReference();
    for (const f of specs) {
      expect(doc).toContain(`### ${f.name}\n`);
      expect(doc).toContain(f.signature);
      for (const e of f.examples) expect(doc).toContain(e.call.replaceAll('|', '\\|'));
    }
  });
});
