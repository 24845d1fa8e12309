import { MappingErrorCode } from '../errors.ts';
import { type BinaryOp, childrenOf, type Expr, type MatchCase, type NamedArg } from './ast.ts';
import { ExpressionFault } from './fault.ts';
import { type Token, tokenize } from './tokenizer.ts';

// Binding powers, loosest first: ?? < || < && < equality < comparison < additive < multiplicative < unary.
const INFIX: Record<string, number> = {
  '??': 10,
  '||': 20,
  '&&': 30,
  '==': 40,
  '!=': 40,
  '<': 50,
  '<=': 50,
  '>': 50,
  '>=': 50,
  '+': 60,
  '-': 60,
  '*': 70,
  '/': 70,
  '%': 70,
};
const UNARY_POWER = 80;
const KEYWORDS = new Set(['true', 'false', 'null', 'match']);
/** Words from other languages, with what this one writes instead. */
const FOREIGN_OPERATORS: Record<string, string> = { and: '&&', or: '||', not: '!' };

/**
 * How deeply an expression may nest. Parsing, compiling and evaluating all recurse over the tree, so a
 * generated 10,000-deep expression would overflow the stack; no hand-written mapping comes near 200.
 */
export const MAX_EXPRESSION_DEPTH = 200;

/**
 * Parses one expression (a Pratt parser over tokenize's output). Throws ExpressionFault with the offset
 * of the offending token and what would have been valid there, or of the node nested deeper than
 * MAX_EXPRESSION_DEPTH.
 */
export function parseExpression(text: string): Expr {
  const parser = new Parser(tokenize(text));
  const expr = parser.expression(0);
  parser.expectEnd();
  checkDepth(expr);
  return expr;
}

function tooDeep(pos: number): ExpressionFault {
  return new ExpressionFault(
    MappingErrorCode.PARSE_ERROR,
    `expression is nested more than ${MAX_EXPRESSION_DEPTH} levels deep; split it into let variables`,
    pos,
  );
}

// Operator chains (1 + 1 + ... + 1) nest without recursing in the parser, so the tree is measured too,
// with an explicit stack rather than recursion.
function checkDepth(root: Expr): void {
  const stack: Array<[Expr, number]> = [[root, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (depth > MAX_EXPRESSION_DEPTH) throw tooDeep(node.pos);
    for (const child of childrenOf(node)) stack.push([child, depth + 1]);
  }
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  expression(minPower: number): Expr {
    if (++this.depth > MAX_EXPRESSION_DEPTH) throw tooDeep(this.peek().pos);
    let left = this.prefix();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'ident' && FOREIGN_OPERATORS[t.text]) throw this.foreignOperator(t);
      if (t.kind !== 'op') break;
      if (t.text === '=') {
        throw new ExpressionFault(
          MappingErrorCode.PARSE_ERROR,
          "'=' does not compare; use == (name=value is only for a function's named arguments)",
          t.pos,
        );
      }
      const power = INFIX[t.text];
      if (power === undefined || power <= minPower) break;
      this.index++;
      // ?? is right-associative (a ?? b ?? c = a ?? (b ?? c)); the others are left-associative.
      const right = this.expression(t.text === '??' ? power - 1 : power);
      left = { type: 'binary', op: t.text as BinaryOp, left, right, pos: t.pos };
    }
    this.depth--;
    return left;
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== 'eof') throw this.unexpected(t, 'an operator or the end of the expression');
  }

  private foreignOperator(t: Token): ExpressionFault {
    return new ExpressionFault(
      MappingErrorCode.PARSE_ERROR,
      `'${t.text}' is not an operator here; write ${FOREIGN_OPERATORS[t.text]} (operators: && || ! == != < <= > >= + - * / % ??)`,
      t.pos,
    );
  }

  private prefix(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return this.postfix({ type: 'literal', value: Number(t.text), pos: t.pos });
      case 'string':
        return this.postfix({ type: 'literal', value: t.text, pos: t.pos });
      case 'current':
        return this.postfix({ type: 'current', pos: t.pos });
      case 'root':
        return this.postfix({ type: 'root', pos: t.pos });
      case 'var':
        return this.postfix(
          t.text === 'meta' ? { type: 'meta', pos: t.pos } : { type: 'var', name: t.text, pos: t.pos },
        );
      case 'op':
        if (t.text === '-' || t.text === '!') {
          return { type: 'unary', op: t.text, operand: this.expression(UNARY_POWER), pos: t.pos };
        }
        throw this.unexpected(t, 'a value, a path ($, $$, $name) or a function call');
      case 'punct':
        if (t.text === '(') {
          const inner = this.expression(0);
          this.expectPunct(')');
          return this.postfix(inner);
        }
        if (t.text === '[') return this.postfix(this.arrayLiteral(t.pos));
        if (t.text === '{') return this.postfix(this.objectLiteral(t.pos));
        throw this.unexpected(t, 'a value, a path ($, $$, $name) or a function call');
      case 'ident':
        return this.identifier(t);
      default:
        throw this.unexpected(t, 'a value, a path ($, $$, $name) or a function call');
    }
  }

  private identifier(t: Token): Expr {
    if (t.text === 'true' || t.text === 'false')
      return { type: 'literal', value: t.text === 'true', pos: t.pos };
    if (t.text === 'null') return { type: 'literal', value: null, pos: t.pos };
    if (t.text === 'match') return this.postfix(this.matchExpression(t.pos));
    if (this.peekPunct('(')) return this.postfix(this.call(t));
    if (FOREIGN_OPERATORS[t.text]) throw this.foreignOperator(t);
    throw new ExpressionFault(
      MappingErrorCode.UNKNOWN_IDENTIFIER,
      `unknown name '${t.text}'; an expression reads only $ (the element), $$ (the message), $meta and $name variables, ` +
        `and calls functions as name(...); write a string as "${t.text}"`,
      t.pos,
    );
  }

  private postfix(base: Expr): Expr {
    let expr = base;
    for (;;) {
      if (this.peekPunct('.')) {
        this.next();
        const key = this.next();
        if (key.kind === 'ident' || key.kind === 'string') {
          expr = { type: 'member', object: expr, key: key.text, pos: key.pos };
        } else {
          throw this.unexpected(
            key,
            'a field name after "." (quote it if it has spaces or dots: ."odd key")',
          );
        }
      } else if (this.peekPunct('[')) {
        const open = this.next();
        expr = this.subscript(expr, open.pos);
      } else {
        return expr;
      }
    }
  }

  // A literal subscript ([0], [-1], ["key"], [*]) is a path step checked against the contract; anything
  // else ([$.i], [$name + 1]) is a lookup computed per record.
  private subscript(object: Expr, pos: number): Expr {
    const t = this.peek();
    const closesAt = (offset: number) => {
      const close = this.tokens[this.index + offset];
      return close?.kind === 'punct' && close.text === ']';
    };
    let result: Expr;
    if (t.kind === 'op' && t.text === '*' && closesAt(1)) {
      this.next();
      result = { type: 'wildcard', object, pos };
    } else if (t.kind === 'string' && closesAt(1)) {
      this.next();
      result = { type: 'member', object, key: t.text, pos: t.pos };
    } else if (t.kind === 'number' && Number.isInteger(Number(t.text)) && closesAt(1)) {
      this.next();
      result = { type: 'index', object, index: Number(t.text), pos: t.pos };
    } else if (
      t.kind === 'op' &&
      t.text === '-' &&
      this.tokens[this.index + 1]?.kind === 'number' &&
      closesAt(2)
    ) {
      this.next();
      result = { type: 'index', object, index: -Number(this.next().text), pos: t.pos };
    } else if (t.kind === 'punct' && t.text === ']') {
      throw this.unexpected(t, 'an index (0, -1, $.i), a key ("name") or * inside [ ]');
    } else {
      result = { type: 'lookup', object, key: this.expression(0), pos: t.pos };
    }
    this.expectPunct(']');
    return result;
  }

  private call(name: Token): Expr {
    this.expectPunct('(');
    const args: Expr[] = [];
    const named: NamedArg[] = [];
    while (!this.peekPunct(')')) {
      const t = this.peek();
      // name: value, or name=value, which YAML leaves alone in a plain scalar.
      const after = this.tokens[this.index + 1];
      const isNamed =
        t.kind === 'ident' &&
        (after?.text === ':' || after?.text === '=') &&
        after.kind !== 'string' &&
        !KEYWORDS.has(t.text);
      if (isNamed) {
        this.index += 2;
        named.push({ name: t.text, value: this.expression(0), pos: t.pos });
      } else if (named.length > 0) {
        throw new ExpressionFault(
          MappingErrorCode.PARSE_ERROR,
          `positional argument after named arguments in ${name.text}(); put positional arguments first`,
          t.pos,
        );
      } else {
        args.push(this.expression(0));
      }
      if (!this.peekPunct(')')) this.expectPunct(',', "',' or ')'");
    }
    this.next();
    return { type: 'call', name: name.text, args, named, pos: name.pos };
  }

  private arrayLiteral(pos: number): Expr {
    const items: Expr[] = [];
    while (!this.peekPunct(']')) {
      items.push(this.expression(0));
      if (!this.peekPunct(']')) this.expectPunct(',', "',' or ']'");
    }
    this.next();
    return { type: 'array', items, pos };
  }

  private objectLiteral(pos: number): Expr {
    const entries: Array<{ key: string; value: Expr; pos: number }> = [];
    while (!this.peekPunct('}')) {
      const key = this.next();
      if (key.kind !== 'ident' && key.kind !== 'string')
        throw this.unexpected(key, 'a key (name or "quoted")');
      this.expectPunct(':');
      entries.push({ key: key.text, value: this.expression(0), pos: key.pos });
      if (!this.peekPunct('}')) this.expectPunct(',', "',' or '}'");
    }
    this.next();
    return { type: 'object', entries, pos };
  }

  // match <subject> { key: value, ..., _: fallback }   or   match { condition: value, ..., _: fallback }
  private matchExpression(pos: number): Expr {
    const subject = this.peekPunct('{') ? null : this.expression(0);
    this.expectPunct('{', "'{' to start the cases");
    const cases: MatchCase[] = [];
    let fallback: Expr | null = null;
    while (!this.peekPunct('}')) {
      const t = this.peek();
      if (t.kind === 'ident' && t.text === '_') {
        this.next();
        this.expectPunct(':');
        fallback = this.expression(0);
      } else if (subject) {
        const key = this.literalKey();
        this.expectPunct(':');
        cases.push({ kind: 'literal', key, value: this.expression(0), pos: t.pos });
      } else {
        const key = this.expression(0);
        this.expectPunct(':');
        cases.push({ kind: 'condition', key, value: this.expression(0), pos: t.pos });
      }
      if (!this.peekPunct('}')) this.expectPunct(',', "',' or '}'");
    }
    this.next();
    return { type: 'match', subject, cases, fallback, pos };
  }

  // Case keys are compared as text, so 1, "1" and true/"true" are the same key.
  private literalKey(): string | null {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return t.text;
    if (t.kind === 'op' && t.text === '-' && this.peek().kind === 'number') return `-${this.next().text}`;
    if (t.kind === 'ident') return t.text === 'null' ? null : t.text;
    throw this.unexpected(t, 'a case key (a word, "text", a number, or _ for the fallback)');
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const t = this.tokens[this.index]!;
    if (t.kind !== 'eof') this.index++;
    return t;
  }

  private peekPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expectPunct(text: string, what = `'${text}'`): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) throw this.unexpected(t, what);
  }

  private unexpected(t: Token, expected: string): ExpressionFault {
    const found =
      t.kind === 'eof' ? 'end of expression' : t.kind === 'string' ? JSON.stringify(t.text) : `'${t.text}'`;
    return new ExpressionFault(
      MappingErrorCode.PARSE_ERROR,
      `unexpected ${found}; expected ${expected}`,
      t.pos,
    );
  }
}
