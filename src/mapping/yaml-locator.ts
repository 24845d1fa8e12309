import { type Document, isMap, isScalar, type LineCounter, type Node, type Scalar } from 'yaml';
import type { SourceLocation } from './errors.ts';

export type YamlPath = ReadonlyArray<string | number>;

/**
 * Turns a path in a parsed YAML document (and an offset inside a scalar) into `file:line:col`, so every
 * error can point at the text a person wrote.
 */
export class YamlLocator {
  readonly file: string;
  private readonly text: string;
  private readonly doc: Document;
  private readonly lineCounter: LineCounter;

  constructor(file: string, text: string, doc: Document, lineCounter: LineCounter) {
    this.file = file;
    this.text = text;
    this.doc = doc;
    this.lineCounter = lineCounter;
  }

  /** Location of a byte offset in the file. */
  atOffset(offset: number): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Location of the value at `path`; for a missing path, the nearest existing parent. */
  at(path: YamlPath): SourceLocation {
    return this.atOffset(this.nearest(path)?.range?.[0] ?? 0);
  }

  /** Location of the key that holds `path` (used for unknown keys); falls back to the value. */
  keyAt(path: YamlPath): SourceLocation {
    const parent = this.node(path.slice(0, -1));
    const last = path[path.length - 1];
    if (isMap(parent)) {
      for (const pair of parent.items) {
        const key = pair.key as Node | null;
        if (isScalar(key) && String(key.value) === String(last) && key.range)
          return this.atOffset(key.range[0]);
      }
    }
    return this.at(path);
  }

  /**
   * Location of character `offset` inside the string scalar at `path`: expressions report offsets in the
   * scalar's value, and the scalar's quoting or block style decides where that text sits in the file.
   */
  inScalar(path: YamlPath, offset: number): SourceLocation {
    const node = this.node(path);
    if (!isScalar(node) || !node.range || typeof node.value !== 'string') return this.at(path);
    return this.atOffset(scalarOffset(node as Scalar<string>, offset, this.text));
  }

  node(path: YamlPath): Node | null {
    if (path.length === 0) return this.doc.contents as Node | null;
    return (this.doc.getIn(path as Array<string | number>, true) as Node | undefined) ?? null;
  }

  private nearest(path: YamlPath): Node | null {
    for (let n = path.length; n >= 0; n--) {
      const node = this.node(path.slice(0, n));
      if (node) return node;
    }
    return null;
  }
}

function scalarOffset(node: Scalar<string>, offset: number, text: string): number {
  const start = node.range![0];
  switch (node.type) {
    case 'QUOTE_DOUBLE':
    case 'QUOTE_SINGLE':
      // Escapes shift columns slightly; expressions rarely contain them, so the opening quote is the only offset.
      return start + 1 + offset;
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED':
      return blockOffset(node, offset, text);
    default:
      return start + offset;
  }
}

// A block scalar's text starts on the line after its `|` or `>` header. Walk the source, skipping each
// line's indentation, one value character per source character (a folded line break is one space).
function blockOffset(node: Scalar<string>, offset: number, text: string): number {
  let pos = text.indexOf('\n', node.range![0]) + 1;
  if (pos === 0) return node.range![0];
  let indent = 0;
  while (text[pos + indent] === ' ') indent++;
  let atLineStart = true;
  for (let consumed = 0; pos < node.range![1]; pos++) {
    if (atLineStart) {
      pos += Math.min(indent, countSpaces(text, pos));
      atLineStart = false;
    }
    if (consumed === offset) return pos;
    if (text[pos] === '\n') atLineStart = true;
    consumed++;
  }
  return pos;
}

function countSpaces(text: string, pos: number): number {
  let n = 0;
  while (text[pos + n] === ' ') n++;
  return n;
}
