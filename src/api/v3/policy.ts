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

/** Built-in tier orders (resources.md §3.8). */
export const DEFAULT_TIER_ORDER = 1_000_000;
export const WELL_KNOWN_TIER_ORDERS: Readonly<Record<string, number>> = {
  default: DEFAULT_TIER_ORDER,
  'kube-admin': 1_000,
  'kube-baseline': 10_000_000,
};
