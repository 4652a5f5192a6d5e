// Create-time defaults that Calico stores (libcalico-go's clientv3 and api defaults): IPPool block size,
// encapsulation modes, node selector, allowed uses and assignment mode; policy tier, types and tier label.
// FelixConfiguration, BGPConfiguration and every other kind keep exactly what the user wrote.
import { canonicalCidr, hasHostBits, parseCidr } from '../net/ip.js';
import type { Resource } from './resource.js';
import { isPlainObject } from './schema.js';

export const DEFAULT_TIER = 'default';
export const TIER_LABEL = 'projectcalico.org/tier';
const POLICY_KINDS = new Set([
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedGlobalNetworkPolicy',
]);

const nonEmpty = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/** Calico's policy types defaulting: Ingress unless only egress rules exist; both when both exist. */
export function defaultPolicyTypes(spec: { ingress?: unknown; egress?: unknown }): ('Ingress' | 'Egress')[] {
  const ingress = nonEmpty(spec.ingress);
  const egress = nonEmpty(spec.egress);
  if (ingress && egress) return ['Ingress', 'Egress'];
  if (egress) return ['Egress'];
  return ['Ingress'];
}

function defaultIPPool(spec: Record<string, any>): void {
  let family: 4 | 6 | undefined;
  if (typeof spec.cidr === 'string') {
    try {
      family = parseCidr(spec.cidr).family;
      // Normalise the text (Calico stores the parsed network); a CIDR with host bits is left for validation to refuse.
      if (!hasHostBits(spec.cidr)) spec.cidr = canonicalCidr(spec.cidr);
    } catch {
      // invalid CIDRs are reported by validation
    }
  }
  // The deprecated v1 fields become their v3 equivalents (as Calico's client converts them), so readers only
  // ever look at ipipMode and natOutgoing.
  if (isPlainObject(spec.ipip)) {
    if (!spec.ipipMode && spec.ipip.enabled === true) {
      spec.ipipMode = spec.ipip.mode === 'cross-subnet' ? 'CrossSubnet' : 'Always';
    }
    delete spec.ipip;
  }
  if (spec['nat-outgoing'] !== undefined) {
    if (spec.natOutgoing === undefined && spec['nat-outgoing'] === true) spec.natOutgoing = true;
    delete spec['nat-outgoing'];
  }
  if ((spec.blockSize === undefined || spec.blockSize === 0) && family) spec.blockSize = family === 4 ? 26 : 122;
  if (!spec.ipipMode) spec.ipipMode = 'Never';
  if (!spec.vxlanMode) spec.vxlanMode = 'Never';
  if (!spec.nodeSelector) spec.nodeSelector = 'all()';
  if (!nonEmpty(spec.allowedUses)) spec.allowedUses = ['Workload', 'Tunnel'];
  if (!spec.assignmentMode) spec.assignmentMode = 'Automatic';
}

function defaultPolicy(res: Resource<Record<string, any>>): void {
  const spec = res.spec;
  if (!spec.tier) spec.tier = DEFAULT_TIER;
  const deleting = spec.stagedAction === 'Delete';
  if (res.kind.startsWith('Staged') && !spec.stagedAction) spec.stagedAction = 'Set';
  if (!deleting && !nonEmpty(spec.types)) spec.types = defaultPolicyTypes(spec);
  res.metadata.labels = { ...(res.metadata.labels ?? {}), [TIER_LABEL]: spec.tier };
}

/** Returns a copy of res with the defaults Calico stores at create time; the input is not changed. */
export function applyCreateDefaults<T extends Resource<any>>(res: T): T {
  const out = structuredClone(res);
  if (!isPlainObject(out.spec)) (out as Resource<any>).spec = {};
  if (!isPlainObject(out.metadata)) (out as Resource<any>).metadata = { name: '' };
  if (out.kind === 'IPPool') defaultIPPool(out.spec);
  else if (POLICY_KINDS.has(out.kind)) defaultPolicy(out);
  else if (out.kind === 'StagedKubernetesNetworkPolicy' && !out.spec.stagedAction) out.spec.stagedAction = 'Set';
  return out;
}
