// Parses the label-carrying resources (WorkloadEndpoint, HostEndpoint, NetworkSet, GlobalNetworkSet) and Nodes into
// what the graph indexes: the labels selectors see (policy.md §1.4: synthesized namespace / orchestrator /
// service-account labels; parents = profiles), the addresses and named ports IP sets need, and the local-endpoint
// fields. In: a v3 resource. Out: ParsedEndpoint / ParsedNetworkSet / node addresses, or a FieldError. Pure.
import { canonicalCidr, isCidr, isIp, parseCidr, formatIp } from '../../net/ip.js';
import type { NatMapping } from './model.js';
import { hostEndpointId, workloadEndpointId } from './model.js';
import type { NamedPortDecl } from './ipset-members.js';
import { FieldError } from './field-error.js';
import { NAMESPACE_LABEL, ORCHESTRATOR_LABEL, SERVICE_ACCOUNT_LABEL } from './selector-rewrite.js';

interface ResourceLike {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
}

export interface ParsedEndpoint {
  kind: 'workload' | 'host';
  id: string;
  name: string;
  namespace?: string;
  node: string;
  interfaceName: string;
  labels: Record<string, string>;
  profileIds: string[];
  ipv4Nets: string[];
  ipv6Nets: string[];
  ports: NamedPortDecl[];
  mac?: string;
  allowSpoofedSourcePrefixes: string[];
  ipv4Nat: NatMapping[];
  ipv6Nat: NatMapping[];
}

export interface ParsedNetworkSet {
  id: string;
  labels: Record<string, string>;
  parents: string[];
  nets: string[];
}

/** Dotted-quad with optional prefix: the common endpoint address, parsed without the general CIDR parser. */
const V4_HOST = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
/** Label values as strings; a label map that is not an object is an error naming the field. */
function labelsOf(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new FieldError('metadata.labels', 'must be a map of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string')
      throw new FieldError(`metadata.labels.${k}`, `must be a string, not ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

const INTERFACE_NAME = /^[a-zA-Z0-9_.-]{1,15}$/;

function strings(raw: unknown, field: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FieldError(field, 'must be a list');
  return raw.map(String);
}

function hostNets(raw: unknown, field: string): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  strings(raw, field).forEach((s, i) => {
    const fast = V4_HOST.exec(s);
    if (fast && fast.slice(1, 5).every((o) => o.length === 1 || (o[0] !== '0' && Number(o) <= 255))) {
      if (fast[5] === undefined || Number(fast[5]) <= 32) {
        v4.push(`${fast[1]}.${fast[2]}.${fast[3]}.${fast[4]}/32`);
        return;
      }
    }
    if (!isCidr(s)) throw new FieldError(`${field}[${i}]`, `${JSON.stringify(s)} is not an IP address or CIDR`);
    const c = parseCidr(s, { keepHostBits: true });
    // An endpoint address: keep the address itself as a host route.
    const host = `${formatIp({ family: c.family, value: c.address })}/${c.family === 4 ? 32 : 128}`;
    (c.family === 4 ? v4 : v6).push(host);
  });
  return {
    v4: v4.length > 1 ? [...new Set(v4)].sort() : v4,
    v6: v6.length > 1 ? [...new Set(v6)].sort() : v6,
  };
}

function namedPorts(raw: unknown, field: string): NamedPortDecl[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FieldError(field, 'must be a list');
  return raw.map((p: any, i) => {
    const protocol = String(p?.protocol ?? 'TCP').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
      throw new FieldError(`${field}[${i}].protocol`, `${JSON.stringify(p?.protocol)} must be TCP, UDP or SCTP`);
    }
    const port = Number(p?.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new FieldError(`${field}[${i}].port`, 'must be 1..65535');
    if (!p?.name) throw new FieldError(`${field}[${i}].name`, 'is required');
    return { name: String(p.name), protocol, port };
  });
}

function natMappings(raw: unknown, field: string): { v4: NatMapping[]; v6: NatMapping[] } {
  const v4: NatMapping[] = [];
  const v6: NatMapping[] = [];
  if (raw === undefined || raw === null) return { v4, v6 };
  if (!Array.isArray(raw)) throw new FieldError(field, 'must be a list');
  raw.forEach((n: any, i) => {
    const internalIp = String(n?.internalIP ?? '');
    const externalIp = String(n?.externalIP ?? '');
    if (!isIp(internalIp))
      throw new FieldError(`${field}[${i}].internalIP`, `${JSON.stringify(internalIp)} is not an IP`);
    if (!isIp(externalIp))
      throw new FieldError(`${field}[${i}].externalIP`, `${JSON.stringify(externalIp)} is not an IP`);
    if (internalIp.includes(':') !== externalIp.includes(':')) {
      throw new FieldError(`${field}[${i}]`, 'internalIP and externalIP must be of the same family');
    }
    (internalIp.includes(':') ? v6 : v4).push({ internalIp, externalIp });
  });
  return { v4, v6 };
}

export function parseWorkloadEndpoint(res: ResourceLike): ParsedEndpoint {
  const spec = res.spec ?? {};
  const namespace = res.metadata.namespace;
  if (!namespace) throw new FieldError('metadata.namespace', 'a WorkloadEndpoint needs a namespace');
  const labels = labelsOf(res.metadata.labels);
  labels[NAMESPACE_LABEL] = namespace;
  if (spec.orchestrator && labels[ORCHESTRATOR_LABEL] === undefined)
    labels[ORCHESTRATOR_LABEL] = String(spec.orchestrator);
  const sa = spec.serviceAccountName ? String(spec.serviceAccountName) : '';
  if (sa && sa.length < 63 && labels[SERVICE_ACCOUNT_LABEL] === undefined) labels[SERVICE_ACCOUNT_LABEL] = sa;
  const nets = hostNets(spec.ipNetworks, 'spec.ipNetworks');
  const ifname = String(spec.interfaceName ?? '');
  if (ifname !== '' && !INTERFACE_NAME.test(ifname)) {
    throw new FieldError('spec.interfaceName', `${JSON.stringify(ifname)} must be 1-15 characters of [a-zA-Z0-9_.-]`);
  }
  const nat = natMappings(spec.ipNATs, 'spec.ipNATs');
  const spoof = strings(spec.allowSpoofedSourcePrefixes, 'spec.allowSpoofedSourcePrefixes').map((s, i) => {
    if (!isCidr(s)) throw new FieldError(`spec.allowSpoofedSourcePrefixes[${i}]`, `${JSON.stringify(s)} is not a CIDR`);
    return canonicalCidr(s);
  });
  const out: ParsedEndpoint = {
    kind: 'workload',
    id: workloadEndpointId(namespace, res.metadata.name),
    name: res.metadata.name,
    namespace,
    node: String(spec.node ?? ''),
    interfaceName: ifname,
    labels,
    profileIds: strings(spec.profiles, 'spec.profiles'),
    ipv4Nets: nets.v4,
    ipv6Nets: nets.v6,
    ports: namedPorts(spec.ports, 'spec.ports'),
    allowSpoofedSourcePrefixes: spoof,
    ipv4Nat: nat.v4,
    ipv6Nat: nat.v6,
  };
  if (spec.mac) out.mac = String(spec.mac).toLowerCase();
  return out;
}

export function parseHostEndpoint(res: ResourceLike): ParsedEndpoint {
  const spec = res.spec ?? {};
  const ifname = String(spec.interfaceName ?? '');
  if (ifname !== '' && ifname !== '*' && !INTERFACE_NAME.test(ifname)) {
    throw new FieldError(
      'spec.interfaceName',
      `${JSON.stringify(ifname)} must be "*" or 1-15 characters of [a-zA-Z0-9_.-]`,
    );
  }
  const nets = hostNets(spec.expectedIPs, 'spec.expectedIPs');
  if (ifname === '' && nets.v4.length + nets.v6.length === 0) {
    throw new FieldError('spec.interfaceName', 'either interfaceName or expectedIPs is required');
  }
  if (!spec.node) throw new FieldError('spec.node', 'is required');
  return {
    kind: 'host',
    id: hostEndpointId(res.metadata.name),
    name: res.metadata.name,
    node: String(spec.node),
    interfaceName: ifname,
    labels: labelsOf(res.metadata.labels),
    profileIds: strings(spec.profiles, 'spec.profiles'),
    ipv4Nets: nets.v4,
    ipv6Nets: nets.v6,
    ports: namedPorts(spec.ports, 'spec.ports'),
    allowSpoofedSourcePrefixes: [],
    ipv4Nat: [],
    ipv6Nat: [],
  };
}

/** NetworkSet (namespaced: gets the namespace label and the namespace profile `kns.<ns>` as parent) / GlobalNetworkSet. */
export function parseNetworkSet(res: ResourceLike): ParsedNetworkSet {
  const spec = res.spec ?? {};
  const nets = strings(spec.nets, 'spec.nets').map((s, i) => {
    if (!isCidr(s)) throw new FieldError(`spec.nets[${i}]`, `${JSON.stringify(s)} is not a CIDR`);
    return canonicalCidr(s);
  });
  const labels = labelsOf(res.metadata.labels);
  if (res.kind === 'NetworkSet') {
    const ns = res.metadata.namespace;
    if (!ns) throw new FieldError('metadata.namespace', 'a NetworkSet needs a namespace');
    labels[NAMESPACE_LABEL] = ns;
    return { id: `netset/${ns}/${res.metadata.name}`, labels, parents: [`kns.${ns}`], nets: [...new Set(nets)] };
  }
  return { id: `gnetset/${res.metadata.name}`, labels, parents: [], nets: [...new Set(nets)] };
}

/** A Node's host addresses (BGP addresses and spec.addresses), without prefix lengths. */
export function parseNodeAddresses(res: ResourceLike): { v4: string[]; v6: string[] } {
  const spec = res.spec ?? {};
  const raw: string[] = [];
  if (spec.bgp?.ipv4Address) raw.push(String(spec.bgp.ipv4Address));
  if (spec.bgp?.ipv6Address) raw.push(String(spec.bgp.ipv6Address));
  for (const a of Array.isArray(spec.addresses) ? spec.addresses : []) if (a?.address) raw.push(String(a.address));
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const r of raw) {
    if (!isCidr(r)) continue;
    const c = parseCidr(r, { keepHostBits: true });
    (c.family === 4 ? v4 : v6).add(formatIp({ family: c.family, value: c.address }));
  }
  return { v4: [...v4].sort(), v6: [...v6].sort() };
}
