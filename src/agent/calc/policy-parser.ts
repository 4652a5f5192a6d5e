// Parses policy-like resources (NetworkPolicy, GlobalNetworkPolicy, the staged kinds, Profile, Tier) into the
// calculation graph's internal form: id, tier, order, endpoint selector (rewritten per policy.md §1.4), types with
// their defaults, host-endpoint flags and parsed rules. In: a v3 resource; out: ParsedPolicy or a FieldError. Pure.
import type { Selector, SelectorNode } from '../../selector/index.js';
import { policyIdOf, type PolicyId, type PolicyKind, type TierDefaultAction } from './model.js';
import { FieldError } from './field-error.js';
import { parseRule, type ParsedRule } from './rule-parser.js';
import {
  andNodes,
  HAS_NAMESPACE,
  HAS_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  namespaceIs,
  ORCHESTRATOR_LABEL,
  parseField,
  prefixLabels,
  replaceNodes,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  toSelector,
} from './selector-rewrite.js';

export const DEFAULT_TIER = 'default';
export const DEFAULT_TIER_ORDER = 1_000_000;

export interface ParsedPolicy {
  id: PolicyId;
  kind: PolicyKind;
  tier: string;
  name: string;
  namespace?: string;
  /** undefined sorts after every ordered policy. */
  order?: number;
  /** Endpoints the policy applies to. */
  selector: Selector;
  ingress: boolean;
  egress: boolean;
  inbound: ParsedRule[];
  outbound: ParsedRule[];
  staged: boolean;
  stagedAction?: string;
  doNotTrack: boolean;
  preDNAT: boolean;
  applyOnForward: boolean;
  /** performanceHints AssumeNeededOnEveryNode: program the policy even before a local endpoint needs it. */
  assumeNeeded: boolean;
}

export interface ParsedProfile {
  id: string;
  labelsToApply: Record<string, string>;
  inbound: ParsedRule[];
  outbound: ParsedRule[];
}

export interface ParsedTier {
  name: string;
  order?: number;
  defaultAction: TierDefaultAction;
}

interface ResourceLike {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
}

const STAGED_KINDS = new Set(['StagedNetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedKubernetesNetworkPolicy']);
const NAMESPACED_KINDS = new Set(['NetworkPolicy', 'StagedNetworkPolicy', 'StagedKubernetesNetworkPolicy']);

function parseOrder(raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n)) throw new FieldError(field, `${JSON.stringify(raw)} is not a number`);
  return n;
}

function parseRules(raw: unknown, field: string, namespace: string | undefined): ParsedRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FieldError(field, 'must be a list of rules');
  return raw.map((r, i) => parseRule(r, { namespace, field: `${field}[${i}]`, ruleIndex: i }));
}

/** Kubernetes LabelSelector -> Calico selector terms (policy.md §6), for StagedKubernetesNetworkPolicy. */
function k8sPodSelectorNode(sel: any): SelectorNode {
  const terms: SelectorNode[] = [{ kind: 'eq', label: ORCHESTRATOR_LABEL, value: 'k8s' }];
  const ml = (sel?.matchLabels ?? {}) as Record<string, string>;
  for (const k of Object.keys(ml).sort()) terms.push({ kind: 'eq', label: k, value: String(ml[k]) });
  for (const [i, ex] of ((sel?.matchExpressions ?? []) as any[]).entries()) {
    const values = [...new Set((ex.values ?? []) as string[])].sort();
    switch (ex.operator) {
      case 'In':
        terms.push({ kind: 'in', label: ex.key, values });
        break;
      case 'NotIn':
        terms.push({ kind: 'notIn', label: ex.key, values });
        break;
      case 'Exists':
        terms.push({ kind: 'has', label: ex.key });
        break;
      case 'DoesNotExist':
        terms.push({ kind: 'not', operand: { kind: 'has', label: ex.key } });
        break;
      default:
        throw new FieldError(`spec.podSelector.matchExpressions[${i}].operator`, `unknown operator ${ex.operator}`);
    }
  }
  return andNodes(terms)!;
}

/** Parses NetworkPolicy, GlobalNetworkPolicy and the staged kinds. Throws FieldError naming the field. */
export function parsePolicy(res: ResourceLike): ParsedPolicy {
  const kind = res.kind as PolicyKind;
  const spec = res.spec ?? {};
  const staged = STAGED_KINDS.has(kind);
  const namespaced = NAMESPACED_KINDS.has(kind);
  const namespace = namespaced ? res.metadata.namespace : undefined;
  if (namespaced && !namespace) throw new FieldError('metadata.namespace', `a ${kind} needs a namespace`);
  const tier = spec.tier ? String(spec.tier) : DEFAULT_TIER;
  const name = res.metadata.name;
  const id = policyIdOf(namespace !== undefined ? { kind, tier, name, namespace } : { kind, tier, name });

  let selectorNode: SelectorNode;
  let types: string[];
  let inbound: ParsedRule[] = [];
  let outbound: ParsedRule[] = [];
  if (kind === 'StagedKubernetesNetworkPolicy') {
    selectorNode = andNodes([k8sPodSelectorNode(spec.podSelector), namespaceIs(namespace!)])!;
    types = Array.isArray(spec.policyTypes) && spec.policyTypes.length > 0 ? spec.policyTypes : ['Ingress'];
  } else {
    let node: SelectorNode = spec.selector ? parseField(String(spec.selector), 'spec.selector').ast : { kind: 'all' };
    if (namespaced) {
      node = andNodes([node, namespaceIs(namespace!)])!;
    } else if (spec.namespaceSelector) {
      // As Calico's GNP processor: AND the pcns.-prefixed namespaceSelector, then every all() in the result means
      // "namespaced" (global() keeps its label-selector meaning, true).
      const nsSel = prefixLabels(
        parseField(String(spec.namespaceSelector), 'spec.namespaceSelector').ast,
        NAMESPACE_LABEL_PREFIX,
      );
      node = replaceNodes({ kind: 'and', operands: [node, nsSel] }, 'all', HAS_NAMESPACE);
    }
    if (spec.serviceAccountSelector) {
      const saSel = prefixLabels(
        parseField(String(spec.serviceAccountSelector), 'spec.serviceAccountSelector').ast,
        SERVICE_ACCOUNT_LABEL_PREFIX,
      );
      node = { kind: 'and', operands: [node, saSel] };
      // GlobalNetworkPolicy only: all() then means "has a service account".
      if (!namespaced) node = replaceNodes(node, 'all', HAS_SERVICE_ACCOUNT);
    }
    selectorNode = andNodes([node])!;
    if (!staged) {
      inbound = parseRules(spec.ingress, 'spec.ingress', namespace);
      outbound = parseRules(spec.egress, 'spec.egress', namespace);
    }
    const hasIngress = Array.isArray(spec.ingress) && spec.ingress.length > 0;
    const hasEgress = Array.isArray(spec.egress) && spec.egress.length > 0;
    if (Array.isArray(spec.types) && spec.types.length > 0) types = spec.types;
    else if (hasEgress && !hasIngress) types = ['Egress'];
    else if (hasEgress && hasIngress) types = ['Ingress', 'Egress'];
    else types = ['Ingress'];
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress')
      throw new FieldError(`spec.types[${i}]`, `${JSON.stringify(t)} must be Ingress or Egress`);
  });

  const doNotTrack = spec.doNotTrack === true;
  const preDNAT = spec.preDNAT === true;
  const applyOnForward = spec.applyOnForward === true;
  if (!staged) {
    if (doNotTrack && preDNAT) throw new FieldError('spec.preDNAT', 'cannot be combined with doNotTrack');
    if ((doNotTrack || preDNAT) && !applyOnForward) {
      throw new FieldError('spec.applyOnForward', `must be true when ${doNotTrack ? 'doNotTrack' : 'preDNAT'} is set`);
    }
    if (preDNAT && (types.includes('Egress') || outbound.length > 0)) {
      throw new FieldError('spec.egress', 'a preDNAT policy may only have ingress rules');
    }
  }

  const out: ParsedPolicy = {
    id,
    kind,
    tier,
    name,
    selector: toSelector(selectorNode),
    ingress: types.includes('Ingress'),
    egress: types.includes('Egress'),
    inbound,
    outbound,
    staged,
    doNotTrack,
    preDNAT,
    applyOnForward,
    assumeNeeded: Array.isArray(spec.performanceHints) && spec.performanceHints.includes('AssumeNeededOnEveryNode'),
  };
  if (namespace !== undefined) out.namespace = namespace;
  const order = parseOrder(spec.order, 'spec.order');
  if (order !== undefined) out.order = order;
  if (staged) out.stagedAction = String(spec.stagedAction ?? 'Set');
  return out;
}

export function parseProfile(res: ResourceLike): ParsedProfile {
  const spec = res.spec ?? {};
  const labelsToApply: Record<string, string> = {};
  for (const [k, v] of Object.entries((spec.labelsToApply ?? {}) as Record<string, unknown>)) {
    labelsToApply[k] = String(v);
  }
  return {
    id: res.metadata.name,
    labelsToApply,
    inbound: parseRules(spec.ingress, 'spec.ingress', undefined),
    outbound: parseRules(spec.egress, 'spec.egress', undefined),
  };
}

export function parseTier(res: ResourceLike): ParsedTier {
  const spec = res.spec ?? {};
  const name = res.metadata.name;
  let order = parseOrder(spec.order, 'spec.order');
  if (order === undefined && name === DEFAULT_TIER) order = DEFAULT_TIER_ORDER;
  const da = spec.defaultAction ?? 'Deny';
  if (da !== 'Deny' && da !== 'Pass')
    throw new FieldError('spec.defaultAction', `${JSON.stringify(da)} must be Deny or Pass`);
  return order === undefined ? { name, defaultAction: da } : { name, order, defaultAction: da };
}

/** The tier a policy names when no Tier resource exists for it (the default tier exists implicitly). */
export function implicitTier(name: string): ParsedTier {
  return name === DEFAULT_TIER
    ? { name, order: DEFAULT_TIER_ORDER, defaultAction: 'Deny' }
    : { name, defaultAction: 'Deny' };
}

/** Felix's order: order ascending with unset last, then name. */
export function compareOrdered(a: { order?: number; key: string }, b: { order?: number; key: string }): number {
  const ao = a.order ?? Infinity;
  const bo = b.order ?? Infinity;
  if (ao !== bo) return ao < bo ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
