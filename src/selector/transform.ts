// Builds selectors from trees and rewrites them the way Calico's policy compilation does (prefixing every label
// key, as its PrefixVisitor does for namespace and service-account selectors; ANDing selectors together).
import type { SelectorNode } from './ast.js';
import { negate, normaliseSet } from './ast.js';
import { MAX_LABEL_LENGTH } from './tokenizer.js';
import { CompiledSelector, type Selector } from './selector.js';

const LABEL_KEY = /^[a-zA-Z0-9_./-]+$/;

function checkLabel(label: string): void {
  if (!LABEL_KEY.test(label) || label.length > MAX_LABEL_LENGTH) {
    throw new Error(
      `selector label key ${JSON.stringify(label)} is not valid: use 1-${MAX_LABEL_LENGTH} characters from a-z A-Z 0-9 _ . / -`,
    );
  }
}

function checkValue(value: string): void {
  if (value.includes('"') && value.includes("'")) {
    throw new Error(`selector value ${JSON.stringify(value)} cannot hold both kinds of quote: it could not be written`);
  }
}

/** Normalises a tree (sorted sets, no double negation, no single-operand groups), checking keys and values. */
function normalise(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node;
    case 'has':
      checkLabel(node.label);
      return node;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      checkLabel(node.label);
      checkValue(node.value);
      return node;
    case 'in':
    case 'notIn':
      checkLabel(node.label);
      node.values.forEach(checkValue);
      return { kind: node.kind, label: node.label, values: normaliseSet(node.values) };
    case 'not':
      return negate(normalise(node.operand));
    case 'and':
    case 'or':
      if (node.operands.length === 0) throw new Error(`selector ${node.kind} group needs at least one operand`);
      if (node.operands.length === 1) return normalise(node.operands[0]);
      return { kind: node.kind, operands: node.operands.map(normalise) };
  }
}

/** A Selector for a syntax tree built in code; throws when a key or value could not be written as text. */
export function selectorFromAst(node: SelectorNode): Selector {
  return new CompiledSelector(normalise(node));
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
