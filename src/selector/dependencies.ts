// Which label changes can flip a selector's result — the key the label index files each selector under.
// A test on key k with a fixed value set (==, !=, in, not in) can only change when k's old or new value is in that
// set; has(k) only when k appears or disappears; contains/starts with/ends with on any change of k.
import type { SelectorNode } from './ast.js';

export interface LabelDependencies {
  /** key -> values whose appearance or disappearance can change the result. */
  readonly values: ReadonlyMap<string, ReadonlySet<string>>;
  /** keys whose presence (not value) matters. */
  readonly presence: ReadonlySet<string>;
  /** keys where any value change matters. */
  readonly anyValue: ReadonlySet<string>;
}

export function labelDependencies(root: SelectorNode): LabelDependencies {
  const values = new Map<string, Set<string>>();
  const presence = new Set<string>();
  const anyValue = new Set<string>();
  const addValue = (label: string, value: string): void => {
    let set = values.get(label);
    if (!set) values.set(label, (set = new Set()));
    set.add(value);
  };
  const visit = (node: SelectorNode): void => {
    switch (node.kind) {
      case 'all':
      case 'global':
        return;
      case 'has':
        presence.add(node.label);
        return;
      case 'eq':
      case 'ne':
        addValue(node.label, node.value);
        return;
      case 'in':
      case 'notIn':
        for (const v of node.values) addValue(node.label, v);
        return;
      case 'contains':
      case 'startsWith':
      case 'endsWith':
        anyValue.add(node.label);
        return;
      case 'not':
        visit(node.operand);
        return;
      case 'and':
      case 'or':
        node.operands.forEach(visit);
        return;
    }
  };
  visit(root);
  // A key watched for any change needs no finer registration.
  for (const k of anyValue) {
    values.delete(k);
    presence.delete(k);
  }
  return { values, presence, anyValue };
}

/**
 * A necessary condition for a match, as label tests an item must pass: a list of alternatives, each a key and
 * either the values it must hold or `null` (any value, but present). `undefined` means no such condition is known
 * (the selector can match items without any particular label), so every item must be checked.
 */
export type RequiredLabels = ReadonlyArray<{ readonly label: string; readonly values: readonly string[] | null }>;

export function requiredLabels(
  node: SelectorNode,
  cost: (alternatives: RequiredLabels) => number,
): RequiredLabels | undefined {
  switch (node.kind) {
    case 'eq':
      return [{ label: node.label, values: [node.value] }];
    case 'in':
      return [{ label: node.label, values: node.values }];
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return [{ label: node.label, values: null }];
    case 'and': {
      let best: RequiredLabels | undefined;
      let bestCost = Infinity;
      for (const operand of node.operands) {
        const req = requiredLabels(operand, cost);
        if (req === undefined) continue;
        const c = cost(req);
        if (c < bestCost) [best, bestCost] = [req, c];
      }
      return best;
    }
    case 'or': {
      const all: RequiredLabels[number][] = [];
      for (const operand of node.operands) {
        const req = requiredLabels(operand, cost);
        if (req === undefined) return undefined;
        all.push(...req);
      }
      return all;
    }
    default:
      return undefined;
  }
}
