// Builds selectors from trees and rewrites them the way Calico's policy compilation does (prefixing every label
// key, as its PrefixVisitor does for namespace and service-account selectors; ANDing selectors together).
import type { SelectorNode } from './ast.js';
import { CompiledSelector, type Selector } from './selector.js';

/** A Selector for a syntax tree built in code; throws when a key or value could not be written as text. */
export function selectorFromAst(node: SelectorNode): Selector {
  return new CompiledSelector(node);
}

function prefixNode(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node;
    case 'not':
      return { kind: 'not', operand: prefixNode(node.operand, prefix) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map((o) => prefixNode(o, prefix)) };
    default:
      return { ...node, label: prefix + node.label };
  }
}

/** The same selector with every label key prefixed, e.g. `pcns.` for a namespaceSelector. */
export function withLabelPrefix(selector: Selector, prefix: string): Selector {
  return selectorFromAst(prefixNode(selector.ast, prefix));
}

/** `(a) && (b) && …` — what parsing that text would give; a single selector is returned unchanged. */
export function andSelectors(...selectors: Selector[]): Selector {
  if (selectors.length === 0) throw new Error('andSelectors needs at least one selector');
  if (selectors.length === 1) return selectors[0];
  return new CompiledSelector({ kind: 'and', operands: selectors.map((s) => s.ast) });
}
