import { MappingErrorCode } from '../errors.ts';
import { ExpressionFault } from './fault.ts';

export type TokenKind =
  | 'number'
  | 'string'
  | 'ident' // bare word: function name, keyword, match case key
  | 'root' // $$
  | 'current' // $
  | 'var' // $name (including $meta)
  | 'punct' // . , : ( ) [ ] { } *
  | 'op' // + - * / % == != < <= > >= && || ! ?? = (= only in name=value)
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** The token's text; for strings the decoded value, for numbers the source digits. */
  text: string;
  pos: number;
}

const OPERATORS = ['??', '==', '!=', '<=', '>=', '&&', '||', '+', '-', '*', '/', '%', '<', '>', '!', '='];
const PUNCTUATION = '.,:()[]{}';
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
};

/** Splits expression text into tokens; throws ExpressionFault(PARSE_ERROR) at the offending character. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      // A comment runs to the end of the line, handy in multi-line block scalars.
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isDigit(c)) {
      i = scanNumber(text, i);
      tokens.push({ kind: 'number', text: text.slice(start, i), pos: start });
    } else if (c === '"' || c === "'") {
      const [value, end] = scanString(text, i);
      tokens.push({ kind: 'string', text: value, pos: start });
      i = end;
    } else if (c === '$') {
      if (text[i + 1] === '$') {
        tokens.push({ kind: 'root', text: '$$', pos: start });
        i += 2;
      } else if (isIdentStart(text[i + 1])) {
        i++;
        while (isIdentPart(text[i])) i++;
        tokens.push({ kind: 'var', text: text.slice(start + 1, i), pos: start });
      } else {
        tokens.push({ kind: 'current', text: '$', pos: start });
        i++;
      }
    } else if (isIdentStart(c)) {
      while (isIdentPart(text[i])) i++;
      tokens.push({ kind: 'ident', text: text.slice(start, i), pos: start });
    } else if (PUNCTUATION.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: start });
      i++;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (!op) {
        throw new ExpressionFault(MappingErrorCode.PARSE_ERROR, `unexpected character '${c}'`, start);
      }
      tokens.push({ kind: 'op', text: op, pos: start });
      i += op.length;
    }
  }
  tokens.push({ kind: 'eof', text: '', pos: text.length });
  return tokens;
}

function scanNumber(text: string, i: number): number {
  while (isDigit(text[i])) i++;
  if (text[i] === '.' && isDigit(text[i + 1])) {
    i++;
    while (isDigit(text[i])) i++;
  }
  if (text[i] === 'e' || text[i] === 'E') {
    let j = i + 1;
    if (text[j] === '+' || text[j] === '-') j++;
    if (isDigit(text[j])) {
      i = j;
      while (isDigit(text[i])) i++;
    }
  }
  return i;
}

function scanString(text: string, start: number): [string, number] {
  const quote = text[start];
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) return [value, i + 1];
    if (c === '\\') {
      const next = text[i + 1] ?? '';
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      const decoded = ESCAPES[next];
      if (decoded === undefined) {
        throw new ExpressionFault(
          MappingErrorCode.PARSE_ERROR,
          `unknown escape '\\${next}' in string; use \\n, \\t, \\r, \\\\, \\${quote} or \\uXXXX ` +
            `(a regex needs its backslashes doubled: "\\\\d+")`,
          i,
        );
      }
      value += decoded;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new ExpressionFault(MappingErrorCode.PARSE_ERROR, `string is not closed; add ${quote}`, start);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}

function isIdentPart(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}
