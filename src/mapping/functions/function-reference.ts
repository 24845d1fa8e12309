import type { FunctionSpec } from './function-spec.ts';
import { FUNCTION_GROUPS } from './registry.ts';

/** Where the rendered reference lives, relative to the repository root. */
export const FUNCTION_REFERENCE_PATH = 'docs/mapping-functions.md';

/**
 * docs/mapping-functions.md, rendered from the function specs (signature, description, examples), so the
 * reference cannot drift from the code: a unit test compares the committed file with this, and
 * `npm run docs:functions` rewrites it.
 */
export function renderFunctionReference(
  groups: ReadonlyArray<{ title: string; functions: readonly FunctionSpec[] }> = FUNCTION_GROUPS,
): string {
  const lines = [
    '# Mapping expression functions',
    '',
    '<!-- Generated from src/mapping/functions/*.ts by `npm run docs:functions`; edit the specs, not this file. -->',
    '',
    'Every function a mapping expression can call (mappings/README.md, "Expressions"). Arguments are',
    'positional or named; a named argument is written `name: value` or `name=value`. The second form needs no',
    'YAML quoting: `ts: to_timestamp($.t, format="epoch_s")` is a plain scalar, while `format: "epoch_s"`',
    'must be quoted because YAML reads `: ` as a mapping. Arguments listed as literal must be written in the',
    'expression, not read from the message, so they are checked when the mapping loads.',
    '',
    'Unless a function says otherwise, null (or a missing path) gives null, and a value of the wrong type makes',
    "the field fail with the code named, which the field's `on_error` then handles. `try(value, fallback)`",
    'turns a failure into an intended fallback. A call whose arguments are all constant is evaluated once',
    'when the mapping loads, so `to_number("n/a")` is refused there rather than failing every record.',
    '',
    'Anything these functions cannot express can be written in JSONata: `expr: { jsonata: "..." }`',
    '(mappings/README.md, "Expressions"). Every example below is run by `test/unit/mapping/lang-function-examples.test.ts`.',
    '',
  ];
  for (const group of groups) {
    lines.push(`- ${group.title}: ${group.functions.map((f) => `[${f.name}](#${f.name})`).join(', ')}`);
  }
  for (const group of groups) {
    lines.push('', `## ${group.title}`);
    for (const f of group.functions) {
      lines.push('', `### ${f.name}`, '', '```', f.signature, '```', '', f.description, '');
      const literals = f.params.filter((p) => p.literal).map((p) => `\`${p.name}\``);
      if (literals.length) lines.push(`Literal: ${literals.join(', ')}.`, '');
      lines.push('| call | result |', '|---|---|');
      for (const example of f.examples) {
        lines.push(`| \`${cell(example.call)}\` | \`${cell(JSON.stringify(example.result))}\` |`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

// A table cell: a pipe would end the cell early.
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}
