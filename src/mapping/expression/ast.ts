/** Expression syntax tree. Every node keeps `pos`, its character offset in the expression text. */
export type Expr =
  | { type: 'literal'; value: string | number | boolean | null; pos: number }
  | { type: 'current'; pos: number } // $  (the exploded element, or the message)
  | { type: 'root'; pos: number } // $$ (the whole message)
  | { type: 'meta'; pos: number } // $meta
  | { type: 'var'; name: string; pos: number } // $name from let
  | { type: 'member'; object: Expr; key: string; pos: number } // a.b, a."b c", a["b"]
  | { type: 'index'; object: Expr; index: number; pos: number } // a[0], a[-1]
  | { type: 'lookup'; object: Expr; key: Expr; pos: number } // a[$.i], a[$name]: index or key computed per record
  | { type: 'wildcard'; object: Expr; pos: number } // a[*], only at the end of explode
  | { type: 'unary'; op: '-' | '!'; operand: Expr; pos: number }
  | { type: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { type: 'call'; name: string; args: Expr[]; named: NamedArg[]; pos: number }
  | { type: 'array'; items: Expr[]; pos: number }
  | { type: 'object'; entries: Array<{ key: string; value: Expr; pos: number }>; pos: number }
  | { type: 'match'; subject: Expr | null; cases: MatchCase[]; fallback: Expr | null; pos: number };

export type BinaryOp =
  | '??'
  | '||'
  | '&&'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | '/'
  | '%';

export interface NamedArg {
  name: string;
  value: Expr;
  pos: number;
}

/** With a subject, `key` is a literal compared as text; without one, `key` is a condition. */
export type MatchCase =
  | { kind: 'literal'; key: string | null; value: Expr; pos: number }
  | { kind: 'condition'; key: Expr; value: Expr; pos: number };

/** The direct children of a node, for walks that must not recurse (the depth check). */
export function childrenOf(expr: Expr): Expr[] {
  switch (expr.type) {
    case 'member':
    case 'index':
    case 'wildcard':
      return [expr.object];
    case 'lookup':
      return [expr.object, expr.key];
    case 'unary':
      return [expr.operand];
    case 'binary':
      return [expr.left, expr.right];
    case 'call':
      return [...expr.args, ...expr.named.map((n) => n.value)];
    case 'array':
      return expr.items;
    case 'object':
      return expr.entries.map((e) => e.value);
    case 'match': {
      const out = expr.cases.flatMap((c) => (c.kind === 'condition' ? [c.key, c.value] : [c.value]));
      if (expr.subject) out.push(expr.subject);
      if (expr.fallback) out.push(expr.fallback);
      return out;
    }
    default:
      return [];
  }
}
