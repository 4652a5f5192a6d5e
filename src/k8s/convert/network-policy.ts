// networking.k8s.io/v1 NetworkPolicy -> Calico NetworkPolicy `knp.default.<name>`, exactly as libcalico-go's
// K8sNetworkPolicyToCalico (policy.md §6). In: a NetworkPolicy (raw or defaulted; kube-apiserver's defaults are applied
// first). Out: the Calico policy plus one problem per k8s rule that could not be converted (that rule is dropped —
// dropping an Allow rule only ever allows less; the rest of the policy stays).
import { CALICO_API_VERSION } from '../../api/resource.js';
import { defaultKubernetesObject } from '../../api/k8s/defaults.js';
import type { KubernetesNetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from '../../api/k8s/types.js';
import type { EntityRule, Rule } from '../../api/v3/common.js';
import type { NetworkPolicy } from '../../api/v3/index.js';
import { canonicalCidr, IpParseError } from '../../net/ip.js';
import { namespaceSelectorToCalico, podSelectorToCalico } from './selector.js';

export const K8S_POLICY_PREFIX = 'knp.default.';
export const K8S_POLICY_ORDER = 1000;
export const K8S_POLICY_TIER = 'default';

export const k8sPolicyName = (name: string): string => K8S_POLICY_PREFIX + name;

export interface PolicyConversion {
  policy: NetworkPolicy;
  /** One line per dropped rule: `spec.ingress[0]: <reason>`. */
  problems: string[];
}

export class PolicyConversionError extends Error {}

type CalicoPort = number | string;
type K8sRule = { from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] };

/** A numeric port range, or a named port (min/max unused). */
interface ParsedPort {
  name?: string;
  min: number;
  max: number;
}

function parsePortNumber(text: string, field: string): number {
  if (!/^\d+$/.test(text)) throw new PolicyConversionError(`${field}: invalid port "${text}"`);
  const n = Number(text);
  if (n < 0 || n > 65535) throw new PolicyConversionError(`${field}: port ${n} is outside 0-65535`);
  return n;
}

/** Calico's numorstring.PortFromString on `<port>` or `<port>:<endPort>`. */
function parsePort(port: NetworkPolicyPort, field: string): ParsedPort {
  const text = String(port.port);
  if (port.endPort !== undefined && port.endPort !== null) {
    const min = parsePortNumber(text, `${field}.port`);
    const max = parsePortNumber(String(port.endPort), `${field}.endPort`);
    if (min > max) {
      throw new PolicyConversionError(`${field}: port range ${min}:${max} has its minimum above its maximum`);
    }
    return { min, max };
  }
  if (/^\d+$/.test(text)) {
    const n = parsePortNumber(text, `${field}.port`);
    return { min: n, max: n };
  }
  if (text === '' || /[:\s]/.test(text)) throw new PolicyConversionError(`${field}.port: invalid port "${text}"`);
  return { name: text, min: 0, max: 0 };
}

function formatPort(p: ParsedPort): CalicoPort {
  if (p.name !== undefined) return p.name;
  return p.min === p.max ? p.min : `${p.min}:${p.max}`;
}

/** Calico's SimplifyPorts: named ports first, then numeric ports merged into the fewest ranges. */
export function simplifyPorts(ports: ParsedPort[]): ParsedPort[] {
  if (ports.length <= 1) return ports;
  const named = ports.filter((p) => p.name !== undefined);
  const numeric = ports.filter((p) => p.name === undefined);
  if (numeric.length <= 1) return ports;
  numeric.sort((a, b) => a.min - b.min || a.max - b.max);
  const out = [...named];
  let last = { ...numeric[0]! };
  for (const p of numeric.slice(1)) {
    if (p.min <= last.max + 1) last.max = Math.max(last.max, p.max);
    else {
      out.push(last);
      last = { ...p };
    }
  }
  out.push(last);
  return out;
}

interface PeerFields {
  selector?: string;
  namespaceSelector?: string;
  nets?: string[];
  notNets?: string[];
}

function normaliseCidr(text: string, field: string): string {
  try {
    return canonicalCidr(String(text));
  } catch (e) {
    const why = e instanceof IpParseError || e instanceof Error ? e.message : String(e);
    throw new PolicyConversionError(`${field}: invalid CIDR "${text}": ${why}`);
  }
}

function peerFields(peer: NetworkPolicyPeer | undefined, field: string): PeerFields {
  if (!peer) return {};
  if (peer.ipBlock) {
    const nets = [normaliseCidr(peer.ipBlock.cidr, `${field}.ipBlock.cidr`)];
    const notNets = (peer.ipBlock.except ?? []).map((c, i) => normaliseCidr(c, `${field}.ipBlock.except[${i}]`));
    return notNets.length ? { nets, notNets } : { nets };
  }
  const out: PeerFields = { selector: podSelectorToCalico(peer.podSelector) };
  const ns = namespaceSelectorToCalico(peer.namespaceSelector);
  if (ns) out.namespaceSelector = ns;
  return out;
}

/** One k8s rule -> Calico rules: one per (protocol, peer), protocols sorted by name. */
function convertRule(
  peers: NetworkPolicyPeer[] | undefined,
  ports: NetworkPolicyPort[] | undefined,
  ingress: boolean,
  field: string,
): Rule[] {
  // Protocol ('' = any) -> ports (undefined = all ports of that protocol).
  let byProtocol = new Map<string, ParsedPort[] | undefined>();
  const portList = ports ?? [];
  if (portList.length === 0) byProtocol.set('', undefined);
  for (const [i, p] of portList.entries()) {
    const hasPort = p.port !== undefined && p.port !== null;
    const protocol = p.protocol ? String(p.protocol) : hasPort ? 'TCP' : '';
    if (!protocol) {
      // An empty port entry allows everything: one rule with neither protocol nor ports.
      byProtocol = new Map([['', undefined]]);
      break;
    }
    if (!hasPort) {
      byProtocol.set(protocol, undefined);
      continue;
    }
    const parsed = parsePort(p, `${field}.ports[${i}]`);
    if (!byProtocol.has(protocol)) byProtocol.set(protocol, [parsed]);
    else byProtocol.get(protocol)?.push(parsed); // an "all ports" entry (undefined) stays all ports
  }

  const peerList: (NetworkPolicyPeer | undefined)[] = peers && peers.length ? peers : [undefined];
  const peerName = ingress ? 'from' : 'to';
  const peerConverted = peerList.map((p, i) => peerFields(p, `${field}.${peerName}[${i}]`));
  const rules: Rule[] = [];
  for (const protocol of [...byProtocol.keys()].sort()) {
    const parsed = byProtocol.get(protocol);
    const calicoPorts = parsed ? simplifyPorts(parsed).map(formatPort) : undefined;
    for (const peer of peerConverted) {
      const rule: Rule = { action: 'Allow' };
      if (protocol) rule.protocol = protocol as Rule['protocol'];
      const entity: EntityRule = { ...peer };
      const portsEntity: EntityRule = calicoPorts?.length ? { ports: calicoPorts } : {};
      if (ingress) {
        if (Object.keys(entity).length) rule.source = entity;
        if (Object.keys(portsEntity).length) rule.destination = portsEntity;
      } else {
        const dest = { ...entity, ...portsEntity };
        if (Object.keys(dest).length) rule.destination = dest;
      }
      rules.push(rule);
    }
  }
  return rules;
}

export function networkPolicyToCalico(input: KubernetesNetworkPolicy): PolicyConversion {
  const np = defaultKubernetesObject({ ...input, kind: 'NetworkPolicy' });
  const { name, namespace = 'default' } = np.metadata;
  const spec = np.spec ?? { podSelector: {} };
  const problems: string[] = [];
  const collect = (dir: 'ingress' | 'egress'): Rule[] => {
    const out: Rule[] = [];
    const rules: K8sRule[] = spec[dir] ?? [];
    for (const [i, r] of rules.entries()) {
      const field = `spec.${dir}[${i}]`;
      try {
        out.push(...convertRule(dir === 'ingress' ? r.from : r.to, r.ports, dir === 'ingress', field));
      } catch (e) {
        if (!(e instanceof PolicyConversionError)) throw e;
        problems.push(`${e.message} (rule dropped)`);
      }
    }
    return out;
  };
  const ingress = collect('ingress');
  const egress = collect('egress');

  const declared = new Set(spec.policyTypes ?? []);
  const types: ('Ingress' | 'Egress')[] = [];
  if (declared.has('Ingress')) types.push('Ingress');
  if (declared.has('Egress')) types.push('Egress');
  if (types.length === 0) types.push('Ingress');

  const policy: NetworkPolicy = {
    apiVersion: CALICO_API_VERSION,
    kind: 'NetworkPolicy',
    metadata: { name: k8sPolicyName(name), namespace },
    spec: {
      tier: K8S_POLICY_TIER,
      order: K8S_POLICY_ORDER,
      selector: podSelectorToCalico(spec.podSelector),
      types,
    },
  };
  if (ingress.length) policy.spec.ingress = ingress;
  if (egress.length) policy.spec.egress = egress;
  return { policy, problems };
}
