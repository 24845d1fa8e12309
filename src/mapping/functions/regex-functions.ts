import { RE2JS } from 're2js';
import { MappingErrorCode } from '../errors.ts';
import { describeValue, ExpressionFault } from '../expression/fault.ts';
import type { CompiledArg, FunctionSpec } from './function-spec.ts';
import { readText } from './text-functions.ts';

// Patterns run on RE2JS, a linear-time engine (RE2 syntax: no backreferences, no lookaround), so a hostile
// payload cannot make a pattern backtrack for minutes; the JSONata escape hatch uses the same engine
// (src/mapping/jsonata-regex.ts). Patterns are literals, compiled once per call site.
const RE2_NOTE =
  'patterns are RE2 syntax, which has no backreferences or lookaround so matching stays linear-time';

function compilePattern(fn: string, arg: CompiledArg): RE2JS {
  const pattern = arg.constant!.value;
  if (typeof pattern !== 'string') {
    throw new ExpressionFault(
      MappingErrorCode.BAD_ARGUMENTS,
      `${fn}() needs the pattern as text, got ${describeValue(pattern)}`,
      arg.pos,
    );
  }
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    throw new ExpressionFault(
      MappingErrorCode.BAD_ARGUMENTS,
      `${fn}() pattern ${JSON.stringify(pattern)} is not valid: ${e instanceof Error ? e.message : String(e)} (${RE2_NOTE})`,
      arg.pos,
    );
  }
}

/** regex_match(text, pattern) → whether the pattern matches anywhere in the text; null gives null. */
export const regexMatch: FunctionSpec = {
  name: 'regex_match',
  signature: 'regex_match(text, "<RE2 pattern>")',
  description:
    'Whether the pattern matches somewhere in the text; anchor it with `^…$` to test the whole text, ' +
    '`(?i)` ignores case. The pattern is a literal in RE2 syntax, checked when the mapping loads; RE2 has no ' +
    'backreferences or lookaround, so matching takes linear time on any input. ' +
    'In an expression string a backslash is doubled: `"\\\\d+"`. null gives null; a value that is not text is ' +
    '`NOT_A_STRING`.',
  examples: [
    { call: 'regex_match("P-101", "^[A-Z]-\\\\d+$")', result: true },
    { call: 'regex_match("p-101", "(?i)^P-")', result: true },
  ],
  params: [
    { name: 'text', required: true },
    { name: 'pattern', required: true, literal: true },
  ],
  compile([textArg, patternArg], site) {
    const pattern = compilePattern('regex_match', patternArg!);
    const read = readText('regex_match', textArg!, site.pos);
    return (s) => {
      const text = read(s);
      return text === null ? null : pattern.test(text);
    };
  },
};

/**
 * regex_extract(text, pattern, group) → the text of `group` in the first match, or null when nothing
 * matches; group defaults to 1 when the pattern has a group, else 0 (the whole match).
 */
export const regexExtract: FunctionSpec = {
  name: 'regex_extract',
  signature: 'regex_extract(text, "<RE2 pattern>", group: <1 if the pattern has a group, else 0>)',
  description:
    'The part of the text the first match captured: group `group` (a literal), by default group 1 when the ' +
    'pattern has one and the whole match (0) when not. No match, or a group that took no part in it, gives ' +
    'null. Patterns as in regex_match. null gives null; a value that is not text is `NOT_A_STRING`.',
  examples: [
    { call: 'regex_extract("fw v2.14.1 (build 7)", "v(\\\\d+)\\\\.(\\\\d+)")', result: '2' },
    { call: 'regex_extract("fw v2.14.1", "v(\\\\d+)\\\\.(\\\\d+)", group: 2)', result: '14' },
    { call: 'regex_extract("no version", "v\\\\d+")', result: null },
  ],
  params: [
    { name: 'text', required: true },
    { name: 'pattern', required: true, literal: true },
    { name: 'group', literal: true },
  ],
  compile([textArg, patternArg, groupArg], site) {
    const pattern = compilePattern('regex_extract', patternArg!);
    const groups = pattern.matcher('').groupCount();
    const group = groupArg ? groupArg.constant!.value : groups > 0 ? 1 : 0;
    if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group > groups) {
      throw new ExpressionFault(
        MappingErrorCode.BAD_ARGUMENTS,
        `regex_extract() group must be a whole number from 0 to ${groups} (the pattern has ${groups} group${groups === 1 ? '' : 's'}), got ${describeValue(group)}`,
        groupArg!.pos,
      );
    }
    const read = readText('regex_extract', textArg!, site.pos);
    return (s) => {
      const text = read(s);
      if (text === null) return null;
      const matcher = pattern.matcher(text);
      return matcher.find() ? matcher.group(group) : null;
    };
  },
};

/** regex_replace(text, pattern, replacement) → every match replaced; $1 in the replacement is group 1. */
export const regexReplace: FunctionSpec = {
  name: 'regex_replace',
  signature: 'regex_replace(text, "<RE2 pattern>", replacement)',
  description:
    'The text with every match of the pattern replaced; in `replacement`, `$1` … `$9` insert a group, `$&` ' +
    'the whole match and `$$` a dollar sign. Patterns as in regex_match. null in any argument gives null; ' +
    'a value that is not text is `NOT_A_STRING`.',
  examples: [
    { call: 'regex_replace("HAM  L1   P-101", " +", "/")', result: 'HAM/L1/P-101' },
    {
      call: 'regex_replace("20.08.2026", "(\\\\d+)\\\\.(\\\\d+)\\\\.(\\\\d+)", "$3-$2-$1")',
      result: '2026-08-20',
    },
  ],
  params: [
    { name: 'text', required: true },
    { name: 'pattern', required: true, literal: true },
    { name: 'replacement', required: true },
  ],
  compile([textArg, patternArg, replacementArg], site) {
    const pattern = compilePattern('regex_replace', patternArg!);
    const read = readText('regex_replace', textArg!, site.pos);
    const readReplacement = readText('regex_replace', replacementArg!, site.pos);
    return (s) => {
      const text = read(s);
      const replacement = readReplacement(s);
      if (text === null || replacement === null) return null;
      return pattern.matcher(text).replaceAll(replacement);
    };
  },
};
