import { RE2JS } from 're2js';

/**
 * JSONata's RegexEngine option backed by RE2JS, a linear-time engine: `$match($.s, /(a+)+$/)` on a
 * hostile string takes microseconds instead of the minutes a backtracking engine can take. JSONata
 * constructs it with the literal's RegExp and uses lastIndex and exec() as on a global RegExp.
 * RE2 has no backreferences or lookahead; such a pattern fails with a message that says so.
 */
export class Re2RegexEngine {
  lastIndex = 0;
  private readonly pattern: RE2JS;

  constructor(regexp: RegExp) {
    this.pattern = compileRe2(regexp);
  }

  exec(text: string): RegExpExecArray | null {
    const matcher = this.pattern.matcher(text);
    if (this.lastIndex > text.length || !matcher.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: string[] = [matcher.group(0) ?? ''];
    for (let i = 1; i <= matcher.groupCount(); i++) groups.push(matcher.group(i) as string);
    const match = groups as unknown as RegExpExecArray;
    match.index = matcher.start();
    match.input = text;
    this.lastIndex = matcher.end();
    return match;
  }
}

/** A regex literal JSONata cannot run here, found at compile time: null when it is fine. */
export function re2Problem(regexp: RegExp): string | null {
  try {
    compileRe2(regexp);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// Regex literals live in mapping files, not payloads, so this cache is bounded by the mappings loaded.
const compiled = new Map<string, RE2JS>();

function compileRe2(regexp: RegExp): RE2JS {
  const key = `${regexp.flags}/${regexp.source}`;
  let pattern = compiled.get(key);
  if (!pattern) {
    let flags = 0;
    if (regexp.flags.includes('i')) flags |= RE2JS.CASE_INSENSITIVE;
    if (regexp.flags.includes('m')) flags |= RE2JS.MULTILINE;
    if (regexp.flags.includes('s')) flags |= RE2JS.DOTALL;
    try {
      pattern = RE2JS.compile(RE2JS.translateRegExp(regexp.source), flags);
    } catch (e) {
      throw new Error(
        `regular expression /${regexp.source}/ is not supported: ${e instanceof Error ? e.message : String(e)} ` +
          '(the hub runs JSONata regexes with RE2, which has no backreferences or lookaround, so matching stays linear-time)',
      );
    }
    compiled.set(key, pattern);
  }
  return pattern;
}
