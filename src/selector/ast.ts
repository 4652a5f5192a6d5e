// The selector syntax tree: one node type per operator of Calico's selector language.
// Set members are held sorted (code-point order) and de-duplicated, so equal sets compare equal.

export interface AllNode {
  readonly kind: 'all';
}
export interface GlobalNode {
  readonly kind: 'global';
}
export interface HasNode {
  readonly kind: 'has';
  readonly label: string;
}
/** `label == "v"`, `label != "v"`, `label contains "v"`, `label starts with "v"`, `label ends with "v"`. */
export interface ValueNode {
  readonly kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
  readonly label: string;
  readonly value: string;
}
/** `label in {...}` and `label not in {...}`. */
export interface SetNode {
  readonly kind: 'in' | 'notIn';
  readonly label: string;
  readonly values: readonly string[];
}
export interface NotNode {
  readonly kind: 'not';
  readonly operand: SelectorNode;
}
/** Two or more operands; nesting is kept as written, as Calico keeps it. */
export interface AndNode {
  readonly kind: 'and';
  readonly operands: readonly SelectorNode[];
}
export interface OrNode {
  readonly kind: 'or';
  readonly operands: readonly SelectorNode[];
}

export type SelectorNode = AllNode | GlobalNode | HasNode | ValueNode | SetNode | NotNode | AndNode | OrNode;
export type LabelTestNode = HasNode | ValueNode | SetNode;

/** Orders strings by Unicode code point, i.e. as Go's sort.Strings orders their UTF-8 bytes. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, which sort after 0xE000-0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Sorted, de-duplicated copy of a set literal's members. */
export function normaliseSet(values: Iterable<string>): string[] {
  const sorted = [...new Set(values)].sort(compareCodePoints);
  return sorted;
}

/** Wraps a node in `!`, collapsing a double negation so the tree stays canonical. */
export function negate(node: SelectorNode): SelectorNode {
  return node.kind === 'not' ? node.operand : { kind: 'not', operand: node };
}
