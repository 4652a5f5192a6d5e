// A parsed selector: its syntax tree, a compiled matcher, its canonical text and Calico's unique ID for it.
import { createHash } from 'node:crypto';
import type { SelectorNode } from './ast.js';
import { canonicalText } from './canonical.js';
import { compileMatcher, type Labels } from './compile.js';
import { normaliseTree } from './normalise.js';
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

/** Marks trees straight from the parser, which are already normal. */
const PARSED: unique symbol = Symbol('parsed');

export class CompiledSelector implements Selector {
  readonly ast: SelectorNode;
  readonly matches: (labels: Labels) => boolean;
  #text: string | undefined;
  #id: string | undefined;

  /**
   * Builds a selector from a tree made in code: the tree is normalised as the parser would leave it (so the
   * canonical text re-parses to the same tree); throws when a key or value could not be written as text.
   */
  constructor(ast: SelectorNode, parsed?: typeof PARSED) {
    this.ast = parsed === PARSED ? ast : normaliseTree(ast);
    this.matches = compileMatcher(this.ast);
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
  return new CompiledSelector(parseToAst(text), PARSED);
}
