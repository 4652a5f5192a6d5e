// A parsed selector: its syntax tree, a compiled matcher, its canonical text and Calico's unique ID for it.
import { createHash } from 'node:crypto';
import type { SelectorNode } from './ast.js';
import { canonicalText } from './canonical.js';
import { compileMatcher, type Labels } from './compile.js';
import { parseToAst } from './parser.js';

export interface Selector {
  readonly ast: SelectorNode;
  /** True when the labels satisfy the selector; a label is present when it has a string value. */
  matches(labels: Labels): boolean;
  /** Canonical form in Calico's format, e.g. `(app == "web" && has(tier))`; the empty selector prints `all()`. */
  toString(): string;
  /** True when the selector contains global() anywhere. */
  usesGlobal(): boolean;
  /** Calico's selector ID: `s:` + base64url(sha224("s:" + canonical text)), used to name IP sets. */
  uniqueId(): string;
}

function containsGlobal(node: SelectorNode): boolean {
  switch (node.kind) {
    case 'global':
      return true;
    case 'not':
      return containsGlobal(node.operand);
    case 'and':
    case 'or':
      return node.operands.some(containsGlobal);
    default:
      return false;
  }
}

export class CompiledSelector implements Selector {
  readonly ast: SelectorNode;
  readonly matches: (labels: Labels) => boolean;
  #text: string | undefined;
  #id: string | undefined;

  constructor(ast: SelectorNode) {
    this.ast = ast;
    this.matches = compileMatcher(ast);
  }

  toString(): string {
    return (this.#text ??= canonicalText(this.ast));
  }

  usesGlobal(): boolean {
    return containsGlobal(this.ast);
  }

  uniqueId(): string {
    this.#id ??=
      's:' +
      createHash('sha224')
        .update('s:' + this.toString())
        .digest('base64url');
    return this.#id;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Parses Calico selector text; throws SelectorParseError (with `.position`) when it is not valid. */
export function parseSelector(text: string): Selector {
  return new CompiledSelector(parseToAst(text));
}
