// Validates the policy kinds: selectors (global() placement), types, GlobalNetworkPolicy's host-endpoint flags
// (preDNAT, doNotTrack, applyOnForward), staged Delete semantics, every rule, and Tier names/orders.
import { validateKubernetesNetworkPolicySpec } from '../k8s/validate.js';
import type { ProblemSink } from '../problems.js';
import { WELL_KNOWN_TIER_ORDERS } from '../v3/policy.js';
import { validateRules, type RuleScope } from './rules.js';
import { asArray, isSet } from './values.js';

function checkTypes(spec: Record<string, unknown>, sink: ProblemSink): void {
  const seen = new Set<unknown>();
  for (const t of asArray(spec.types)) {
    if (seen.has(t)) sink.add('spec.types', `'${String(t)}' type specified more than once`);
    seen.add(t);
  }
}

export function validatePolicySpec(spec: Record<string, unknown>, sink: ProblemSink, scope: RuleScope): void {
  checkTypes(spec, sink);
  validateRules(spec.ingress, 'spec.ingress', sink, 'ingress', scope);
  validateRules(spec.egress, 'spec.egress', sink, 'egress', scope);

  if (scope === 'global') {
    const { preDNAT, doNotTrack, applyOnForward } = spec;
    if (preDNAT === true && doNotTrack === true) sink.add('spec.preDNAT', 'preDNAT and doNotTrack cannot both be true');
    if ((preDNAT === true || doNotTrack === true) && applyOnForward !== true) {
      sink.add('spec.applyOnForward', `must be true when ${preDNAT === true ? 'preDNAT' : 'doNotTrack'} is true`);
    }
    if (preDNAT === true) {
      if (asArray(spec.egress).length > 0) sink.add('spec.egress', 'a preDNAT policy cannot have egress rules');
      if (asArray(spec.types).includes('Egress'))
        sink.add('spec.types', "a preDNAT policy's types cannot include Egress");
    }
  }
}

/** A staged policy with stagedAction Delete names the policy to delete: every other spec field must be empty. */
function checkStagedDelete(spec: Record<string, unknown>, keep: readonly string[], sink: ProblemSink): boolean {
  if (spec.stagedAction !== 'Delete') return false;
  for (const [k, v] of Object.entries(spec)) {
    if (!keep.includes(k) && isSet(v) && v !== false) {
      sink.add(`spec.${k}`, 'must be empty when stagedAction is Delete');
    }
  }
  return true;
}

export function validateNetworkPolicy(spec: Record<string, unknown>, sink: ProblemSink): void {
  validatePolicySpec(spec, sink, 'namespaced');
}

export function validateGlobalNetworkPolicy(spec: Record<string, unknown>, sink: ProblemSink): void {
  validatePolicySpec(spec, sink, 'global');
}

export function validateStagedNetworkPolicy(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (!checkStagedDelete(spec, ['stagedAction', 'tier'], sink)) validatePolicySpec(spec, sink, 'namespaced');
}

export function validateStagedGlobalNetworkPolicy(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (!checkStagedDelete(spec, ['stagedAction', 'tier'], sink)) validatePolicySpec(spec, sink, 'global');
}

export function validateStagedKubernetesNetworkPolicy(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (!checkStagedDelete(spec, ['stagedAction'], sink)) validateKubernetesNetworkPolicySpec(spec, 'spec', sink);
}

export function validateTier(spec: Record<string, unknown>, name: string, sink: ProblemSink): void {
  const wellKnown = WELL_KNOWN_TIER_ORDERS[name];
  if (wellKnown !== undefined && typeof spec.order === 'number' && spec.order !== wellKnown) {
    sink.add('spec.order', `the ${name} tier's order must be ${wellKnown}, got ${spec.order}`);
  }
}
