// Brings a syntax tree built in code into the form the parser produces — sorted, de-duplicated sets, no double
// negation, no one-operand groups — and checks that every key and value could be written as selector text.
import { negate, normaliseSet, type SelectorNode } from './ast.js';
import { MAX_LABEL_LENGTH } from './tokenizer.js';

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
export function normaliseTree(node: SelectorNode): SelectorNode {
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
      return negate(normaliseTree(node.operand));
    case 'and':
    case 'or':
      if (node.operands.length === 0) throw new Error(`selector ${node.kind} group needs at least one operand`);
      if (node.operands.length === 1) return normaliseTree(node.operands[0]);
      return { kind: node.kind, operands: node.operands.map(normaliseTree) };
  }
}
