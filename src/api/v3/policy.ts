// Policy kinds: NetworkPolicy, GlobalNetworkPolicy, their staged variants, StagedKubernetesNetworkPolicy and Tier —
// types and field tables. Rules share the model in common.ts.
import { bool, list, num, oneOf, selector, str, type FieldsOf } from '../schema.js';
import { kubernetesNetworkPolicySpecFields, type KubernetesNetworkPolicySpec } from '../k8s/types.js';
import { rulesField, type Rule } from './common.js';

export type PolicyType = 'Ingress' | 'Egress';
export const POLICY_TYPES: readonly PolicyType[] = ['Ingress', 'Egress'];
export type StagedAction = 'Set' | 'Delete' | 'Learn' | 'Ignore';
export const STAGED_ACTIONS: readonly StagedAction[] = ['Set', 'Delete', 'Learn', 'Ignore'];

export interface NetworkPolicySpec {
  tier?: string;
  order?: number;
  selector?: string;
  serviceAccountSelector?: string;
  types?: PolicyType[];
  ingress?: Rule[];
  egress?: Rule[];
  performanceHints?: 'AssumeNeededOnEveryNode'[];
}

export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
}

export interface StagedNetworkPolicySpec extends NetworkPolicySpec {
  stagedAction?: StagedAction;
}

export interface StagedGlobalNetworkPolicySpec extends GlobalNetworkPolicySpec {
  stagedAction?: StagedAction;
}

export interface StagedKubernetesNetworkPolicySpec extends KubernetesNetworkPolicySpec {
  stagedAction?: StagedAction;
}

export interface TierSpec {
  order?: number;
  defaultAction?: 'Deny' | 'Pass';
}

export const networkPolicySpecFields = {
  tier: str('dnsLabel'),
  order: num,
  selector,
  serviceAccountSelector: selector,
  types: list(oneOf(POLICY_TYPES)),
  ingress: rulesField,
  egress: rulesField,
  performanceHints: list(oneOf(['AssumeNeededOnEveryNode'])),
} satisfies FieldsOf<NetworkPolicySpec>;

export const globalNetworkPolicySpecFields = {
  ...networkPolicySpecFields,
  namespaceSelector: selector,
  doNotTrack: bool,
  preDNAT: bool,
  applyOnForward: bool,
} satisfies FieldsOf<GlobalNetworkPolicySpec>;

const stagedAction = oneOf(STAGED_ACTIONS);

export const stagedNetworkPolicySpecFields = {
  ...networkPolicySpecFields,
  stagedAction,
} satisfies FieldsOf<StagedNetworkPolicySpec>;
export const stagedGlobalNetworkPolicySpecFields = {
  ...globalNetworkPolicySpecFields,
  stagedAction,
} satisfies FieldsOf<StagedGlobalNetworkPolicySpec>;
export const stagedKubernetesNetworkPolicySpecFields = {
  ...kubernetesNetworkPolicySpecFields,
  stagedAction,
} satisfies FieldsOf<StagedKubernetesNetworkPolicySpec>;

export const tierSpecFields = {
  order: num,
  defaultAction: oneOf(['Deny', 'Pass']),
} satisfies FieldsOf<TierSpec>;

/** The default tier's order (resources.md §3.8). */
export const DEFAULT_TIER_ORDER = 1_000_000;

/**
 * The tiers Calico's datastore initialisation creates (libcalico-go EnsureInitialized): `default` ends with Deny,
 * the two Kubernetes cluster-policy tiers with Pass. None of them can be deleted.
 */
export const BUILT_IN_TIERS: readonly { name: string; spec: Required<TierSpec> }[] = [
  { name: 'default', spec: { order: DEFAULT_TIER_ORDER, defaultAction: 'Deny' } },
  { name: 'kube-admin', spec: { order: 1_000, defaultAction: 'Pass' } },
  { name: 'kube-baseline', spec: { order: 10_000_000, defaultAction: 'Pass' } },
];

/** Built-in tier orders, which validation pins. */
export const WELL_KNOWN_TIER_ORDERS: Readonly<Record<string, number>> = Object.fromEntries(
  BUILT_IN_TIERS.map((t) => [t.name, t.spec.order]),
);
