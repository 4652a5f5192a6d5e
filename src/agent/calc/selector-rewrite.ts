// Rewrites policy selectors into endpoint-label selectors, as Calico's update processors do (policy.md §1.4):
// namespaceSelector keys get `pcns.`, serviceAccounts become `pcsa.`/`projectcalico.org/serviceaccount` terms, and
// namespaced policies are restricted to their namespace. In: selector text; out: compiled Selectors. Pure.
import { parseSelector, type Selector, type SelectorNode } from '../../selector/index.js';
import { CompiledSelector } from '../../selector/selector.js';

export const NAMESPACE_LABEL = 'projectcalico.org/namespace';
export const SERVICE_ACCOUNT_LABEL = 'projectcalico.org/serviceaccount';
export const ORCHESTRATOR_LABEL = 'projectcalico.org/orchestrator';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';

/** Thrown for selector text that does not parse; `field` names the resource field (e.g. `ingress[0].source.selector`). */
export class SelectorFieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export function parseField(text: string, field: string): Selector {
  try {
    return parseSelector(text);
  } catch (e) {
    throw new SelectorFieldError(field, (e as Error).message);
  }
}

/** Prefixes every label key the selector tests. */
export function prefixLabels(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node;
    case 'has':
      return { kind: 'has', label: prefix + node.label };
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return { kind: node.kind, label: prefix + node.label, value: node.value };
    case 'in':
    case 'notIn':
      return { kind: node.kind, label: prefix + node.label, values: node.values };
    case 'not':
      return { kind: 'not', operand: prefixLabels(node.operand, prefix) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map((o) => prefixLabels(o, prefix)) };
  }
}

/** `global()` anywhere -> `!has(projectcalico.org/namespace)` (only non-namespaced entities). */
function replaceGlobal(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'global':
      return { kind: 'not', operand: { kind: 'has', label: NAMESPACE_LABEL } };
    case 'not':
      return { kind: 'not', operand: replaceGlobal(node.operand) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map(replaceGlobal) };
    default:
      return node;
  }
}

/**
 * A namespaceSelector as an endpoint selector: keys prefixed `pcns.`; the literal `all()` means "any namespaced
 * entity" (`has(projectcalico.org/namespace)`); `global()` means "not namespaced".
 */
export function namespaceSelectorNode(text: string, field: string): SelectorNode {
  const ast = parseField(text, field).ast;
  if (ast.kind === 'all') return { kind: 'has', label: NAMESPACE_LABEL };
  return replaceGlobal(prefixLabels(ast, NAMESPACE_LABEL_PREFIX));
}

/** serviceAccounts {names, selector} as an endpoint selector (both given: ANDed); undefined when empty. */
export function serviceAccountNode(
  sa: { names?: string[]; selector?: string } | undefined,
  field: string,
): SelectorNode | undefined {
  if (!sa) return undefined;
  const parts: SelectorNode[] = [];
  if (sa.names && sa.names.length > 0) {
    parts.push({ kind: 'in', label: SERVICE_ACCOUNT_LABEL, values: [...new Set(sa.names)].sort() });
  }
  if (sa.selector) {
    parts.push(prefixLabels(parseField(sa.selector, `${field}.selector`).ast, SERVICE_ACCOUNT_LABEL_PREFIX));
  }
  return andNodes(parts);
}

export const namespaceIs = (ns: string): SelectorNode => ({ kind: 'eq', label: NAMESPACE_LABEL, value: ns });

/** ANDs the parts (dropping all() terms); undefined when there are none. */
export function andNodes(parts: readonly (SelectorNode | undefined)[]): SelectorNode | undefined {
  const present = parts
    .filter((p): p is SelectorNode => p !== undefined && p.kind !== 'all')
    .flatMap((p) => (p.kind === 'and' ? p.operands : [p]));
  if (present.length === 0) return parts.some((p) => p !== undefined) ? { kind: 'all' } : undefined;
  if (present.length === 1) return present[0];
  return { kind: 'and', operands: present };
}

export function toSelector(node: SelectorNode): Selector {
  return new CompiledSelector(node);
}
