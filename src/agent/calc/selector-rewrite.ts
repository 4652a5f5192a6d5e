// Rewrites policy selectors into endpoint-label selectors, as Calico's update processors do (policy.md §1.4):
// namespaceSelector keys get `pcns.`, serviceAccounts become `pcsa.`/`projectcalico.org/serviceaccount` terms, and
// namespaced policies are restricted to their namespace. In: selector text; out: compiled Selectors. Pure.
import { parseSelector, type Selector, type SelectorNode } from '../../selector/index.js';
import { FieldError } from './field-error.js';
import { canonicalText } from '../../selector/canonical.js';
import { CompiledSelector } from '../../selector/selector.js';

export const NAMESPACE_LABEL = 'projectcalico.org/namespace';
export const SERVICE_ACCOUNT_LABEL = 'projectcalico.org/serviceaccount';
export const ORCHESTRATOR_LABEL = 'projectcalico.org/orchestrator';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';

export function parseField(text: string, field: string): Selector {
  try {
    return parseSelector(text);
  } catch (e) {
    throw new FieldError(field, (e as Error).message);
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

/** Replaces every `kind` node (all() / global()) in the tree, as Calico's text replacement on the printed selector does. */
export function replaceNodes(node: SelectorNode, kind: 'all' | 'global', by: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node.kind === kind ? by : node;
    case 'not':
      return { kind: 'not', operand: replaceNodes(node.operand, kind, by) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map((o) => replaceNodes(o, kind, by)) };
    default:
      return node;
  }
}

export const HAS_NAMESPACE: SelectorNode = { kind: 'has', label: NAMESPACE_LABEL };
export const NOT_NAMESPACED: SelectorNode = { kind: 'not', operand: HAS_NAMESPACE };
export const HAS_SERVICE_ACCOUNT: SelectorNode = { kind: 'has', label: SERVICE_ACCOUNT_LABEL };

/**
 * A rule's namespaceSelector as an endpoint selector (updateprocessors/rules.go): keys prefixed `pcns.`, then every
 * `all()` means "any namespaced entity" (`has(projectcalico.org/namespace)`) and every `global()` "not namespaced".
 */
export function namespaceSelectorNode(text: string, field: string): SelectorNode {
  const ast = prefixLabels(parseField(text, field).ast, NAMESPACE_LABEL_PREFIX);
  return replaceNodes(replaceNodes(ast, 'all', HAS_NAMESPACE), 'global', NOT_NAMESPACED);
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

function flattenAnd(node: SelectorNode): SelectorNode[] {
  return node.kind === 'and' ? node.operands.flatMap(flattenAnd) : [node];
}

/** ANDs the parts (dropping all() terms); undefined when there are none. */
export function andNodes(parts: readonly (SelectorNode | undefined)[]): SelectorNode | undefined {
  const present: SelectorNode[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    if (part === undefined) continue;
    for (const term of flattenAnd(part)) {
      if (term.kind === 'all') continue;
      // Identical terms (e.g. the same namespace restriction twice) are kept once.
      const text = canonicalText(term);
      if (seen.has(text)) continue;
      seen.add(text);
      present.push(term);
    }
  }
  if (present.length === 0) return parts.some((p) => p !== undefined) ? { kind: 'all' } : undefined;
  if (present.length === 1) return present[0];
  return { kind: 'and', operands: present };
}

export function toSelector(node: SelectorNode): Selector {
  return new CompiledSelector(node);
}
