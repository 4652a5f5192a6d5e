// Prints a syntax tree in Calico's canonical selector format: double quotes (single quotes only when the value
// holds a double quote), `&&`/`||` groups in parentheses, set members sorted and de-duplicated, `!` before its operand.
import type { SelectorNode } from './ast.js';

const VALUE_OPERATOR_TEXT = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

function quote(value: string): string {
  const q = value.includes('"') ? "'" : '"';
  return q + value + q;
}

export function canonicalText(node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.label})`;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return node.label + VALUE_OPERATOR_TEXT[node.kind] + quote(node.value);
    case 'in':
    case 'notIn':
      return `${node.label} ${node.kind === 'in' ? 'in' : 'not in'} {${node.values.map(quote).join(', ')}}`;
    case 'not':
      return '!' + canonicalText(node.operand);
    case 'and':
      return '(' + node.operands.map(canonicalText).join(' && ') + ')';
    case 'or':
      return '(' + node.operands.map(canonicalText).join(' || ') + ')';
  }
}
