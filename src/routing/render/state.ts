// The routing view of the cluster: Nodes, IP pools, blocks (affinity + which node holds each address), BGP
// configuration and peers, and local workload endpoints, decoded from projectcalico.org/v3 resources and IPAM
// records. In: raw resource/IPAM JSON. Out: plain typed records every routing renderer reads. Pure.
import type { Resource } from '../../api/resource.js';
import { parseCidr, parseIp, formatCidr, formatIp, addressAt, type Cidr } from '../../net/ip.js';

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';

export interface RoutingNode {
  name: string;
  labels: Record<string, string>;
  /** Node's own AS, when set on the Node. */
  asNumber?: number;
  /** CIDR form, e.g. 10.0.0.5/24 (node IP + subnet). */
  ipv4Address?: string;
  ipv6Address?: string;
  routeReflectorClusterID?: string;
  ipipTunnelAddr?: string;
  vxlanTunnelAddr?: string;
  vxlanTunnelMAC?: string;
  vxlanTunnelAddrV6?: string;
  vxlanTunnelMACV6?: string;
}

export interface RoutingPool {
  name: string;
  cidr: string;
  family: 4 | 6;
  vxlanMode: EncapMode;
  ipipMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
}

export interface RoutingBlock {
  cidr: string;
  /** Node the block is affine to (affinity "host:<node>"), if any. */
  affinityHost?: string;
  /** Allocated addresses and the node that holds each (the `node` attribute), when known. */
  allocations: { ip: string; node?: string }[];
}

export interface BgpConfig {
  nodeToNodeMeshEnabled: boolean;
  asNumber: number;
  listenPort?: number;
  logSeverityScreen: string;
  nodeMeshMaxRestartTime?: string;
  /** Secret holding the TCP-MD5 password of every mesh session. */
  nodeMeshPassword?: { name: string; key: string };
  ignoredInterfaces: string[];
  /** bindMode NodeIP: BGP sessions bind strictly to the node address. */
  bindNodeIP: boolean;
  /** serviceClusterIPs, serviceExternalIPs and serviceLoadBalancerIPs CIDRs every node announces. */
  serviceCidrs: string[];
  /** prefixAdvertisements resolved to community values ("aa:nn" or "aa:nn:mm"). */
  prefixCommunities: { cidr: string; communities: string[] }[];
}

export interface BgpPeer {
  name: string;
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  asNumber?: number;
  peerSelector?: string;
  keepaliveTime?: string;
  holdTime?: string;
  maxRestartTime?: string;
  ttlSecurity?: number;
  sourceAddress: 'UseNodeIP' | 'None';
  passwordSecret?: { name: string; key: string };
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  localASNumber?: number;
  numAllowedLocalASNumbers?: number;
  /** BGPFilter names, applied in order before Calico's own filters. */
  filters: string[];
  /** Gateway through which the peer is reached (a static /32 or /128 route to the peer). */
  reachableBy?: string;
}

export interface BgpFilterRule {
  action: 'Accept' | 'Reject';
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  cidr?: string;
  prefixLength?: { min?: number; max?: number };
  /** RemotePeers: only routes learnt from BGP peers. */
  source?: 'RemotePeers';
  /** Interface glob, e.g. `*.calico`. */
  interface?: string;
}

export interface BgpFilter {
  name: string;
  exportV4: BgpFilterRule[];
  importV4: BgpFilterRule[];
  exportV6: BgpFilterRule[];
  importV6: BgpFilterRule[];
}

export interface LocalWorkload {
  name: string;
  interfaceName: string;
  /** /32 and /128 CIDRs. */
  ipNetworks: string[];
}

export interface RoutingState {
  nodes: RoutingNode[];
  pools: RoutingPool[];
  blocks: RoutingBlock[];
  /** `default` merged with `node.<this node>` (node-level fields win). */
  bgp: BgpConfig;
  peers: BgpPeer[];
  /** BGPFilter resources, applied to the BGPPeers that name them. */
  filters?: BgpFilter[];
  /** Workload endpoints on this node. */
  workloads: LocalWorkload[];
}

export class RoutingInputError extends Error {}

export const DEFAULT_AS = 64512;

const asInt = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v));
  if (!Number.isInteger(n) || n < 0 || n > 4294967295) throw new RoutingInputError(`invalid AS number "${String(v)}"`);
  return n;
};

const encap = (v: unknown): EncapMode => (v === 'Always' || v === 'CrossSubnet' ? v : 'Never');

export function nodeFromResource(r: Resource): RoutingNode {
  const spec = r.spec ?? {};
  const bgp = spec.bgp ?? {};
  return {
    name: r.metadata.name,
    labels: r.metadata.labels ?? {},
    asNumber: asInt(bgp.asNumber),
    ipv4Address: bgp.ipv4Address || undefined,
    ipv6Address: bgp.ipv6Address || undefined,
    routeReflectorClusterID: bgp.routeReflectorClusterID || undefined,
    ipipTunnelAddr: bgp.ipv4IPIPTunnelAddr || undefined,
    vxlanTunnelAddr: spec.ipv4VXLANTunnelAddr || undefined,
    vxlanTunnelMAC: spec.vxlanTunnelMACAddr || undefined,
    vxlanTunnelAddrV6: spec.ipv6VXLANTunnelAddr || undefined,
    vxlanTunnelMACV6: spec.vxlanTunnelMACAddrV6 || undefined,
  };
}

export function poolFromResource(r: Resource): RoutingPool {
  const s = r.spec ?? {};
  if (typeof s.cidr !== 'string') throw new RoutingInputError(`IPPool ${r.metadata.name}: spec.cidr is required`);
  const c = parseCidr(s.cidr);
  return {
    name: r.metadata.name,
    cidr: formatCidr(c),
    family: c.family,
    vxlanMode: encap(s.vxlanMode),
    ipipMode: encap(s.ipipMode),
    natOutgoing: s.natOutgoing === true,
    disabled: s.disabled === true,
    disableBGPExport: s.disableBGPExport === true,
  };
}

/** Decodes an AllocationBlock JSON record (ipam.md §3). */
export function blockFromRecord(json: any): RoutingBlock {
  if (typeof json?.cidr !== 'string') throw new RoutingInputError('IPAM block without a cidr');
  const cidr: Cidr = parseCidr(json.cidr);
  const affinity =
    typeof json.affinity === 'string' && json.affinity.startsWith('host:') ? json.affinity.slice(5) : undefined;
  const attrs: any[] = Array.isArray(json.attributes) ? json.attributes : [];
  const allocations: RoutingBlock['allocations'] = [];
  (Array.isArray(json.allocations) ? json.allocations : []).forEach((a: unknown, ordinal: number) => {
    if (typeof a !== 'number') return;
    const node = attrs[a]?.secondary?.node;
    allocations.push({ ip: formatIp(addressAt(cidr, ordinal)), node: typeof node === 'string' ? node : undefined });
  });
  return { cidr: formatCidr(cidr), affinityHost: affinity, allocations };
}

/** Merges BGPConfiguration `default` and `node.<name>`; absent fields take Calico's defaults. */
export function bgpConfigFrom(defaultCfg?: Resource, nodeCfg?: Resource): BgpConfig {
  const d = defaultCfg?.spec ?? {};
  const n = nodeCfg?.spec ?? {};
  const pick = (k: string): any => (n[k] !== undefined ? n[k] : d[k]);
  return {
    nodeToNodeMeshEnabled: d.nodeToNodeMeshEnabled !== false,
    asNumber: asInt(d.asNumber) ?? DEFAULT_AS,
    listenPort: asInt(pick('listenPort')),
    logSeverityScreen: pick('logSeverityScreen') ?? 'Info',
    nodeMeshMaxRestartTime: d.nodeMeshMaxRestartTime,
    nodeMeshPassword: secretRef(d.nodeMeshPassword),
    ignoredInterfaces: pick('ignoredInterfaces') ?? [],
    bindNodeIP: pick('bindMode') === 'NodeIP',
    serviceCidrs: ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'].flatMap((f) =>
      (Array.isArray(d[f]) ? d[f] : []).map((x: any, i: number) =>
        checkedCidr(x?.cidr, `BGPConfiguration.spec.${f}[${i}].cidr`),
      ),
    ),
    prefixCommunities: prefixCommunities(d),
  };
}

function checkedCidr(v: unknown, field: string): string {
  try {
    return formatCidr(parseCidr(String(v)));
  } catch {
    throw new RoutingInputError(`${field}: "${String(v)}" is not a CIDR`);
  }
}

/** prefixAdvertisements with community names resolved through spec.communities (Calico's apply_communities). */
function prefixCommunities(spec: any): { cidr: string; communities: string[] }[] {
  const named = new Map<string, string>();
  for (const c of Array.isArray(spec.communities) ? spec.communities : []) named.set(c?.name, c?.value);
  return (Array.isArray(spec.prefixAdvertisements) ? spec.prefixAdvertisements : []).map((pa: any, i: number) => {
    const where = `BGPConfiguration.spec.prefixAdvertisements[${i}]`;
    const communities = (Array.isArray(pa?.communities) ? pa.communities : []).map((c: string) => {
      const value = named.get(c) ?? c;
      if (!/^\d+:\d+(:\d+)?$/.test(String(value))) {
        throw new RoutingInputError(
          `${where}.communities: "${c}" is neither a defined community name nor aa:nn / aa:nn:mm`,
        );
      }
      return String(value);
    });
    return { cidr: checkedCidr(pa?.cidr, `${where}.cidr`), communities };
  });
}

export function peerFromResource(r: Resource): BgpPeer {
  const s = r.spec ?? {};
  const where = `BGPPeer ${r.metadata.name}`;
  if (s.peerSelector && (s.peerIP || s.asNumber !== undefined)) {
    throw new RoutingInputError(`${where}: spec.peerSelector cannot be combined with spec.peerIP or spec.asNumber`);
  }
  if (!s.peerSelector && !s.peerIP)
    throw new RoutingInputError(`${where}: spec.peerIP or spec.peerSelector is required`);
  return {
    name: r.metadata.name,
    node: s.node || undefined,
    nodeSelector: s.nodeSelector || undefined,
    peerIP: s.peerIP || undefined,
    asNumber: asInt(s.asNumber),
    peerSelector: s.peerSelector || undefined,
    keepaliveTime: s.keepaliveTime,
    holdTime: s.holdTime,
    maxRestartTime: s.maxRestartTime,
    ttlSecurity: s.ttlSecurity === undefined ? undefined : Number(s.ttlSecurity),
    sourceAddress: s.sourceAddress === 'None' ? 'None' : 'UseNodeIP',
    passwordSecret: secretRef(s.password),
    nextHopMode: s.nextHopMode ?? (s.keepOriginalNextHop ? 'Keep' : undefined),
    localASNumber: asInt(s.localASNumber),
    numAllowedLocalASNumbers: s.numAllowedLocalASNumbers ? Number(s.numAllowedLocalASNumbers) : undefined,
    filters: Array.isArray(s.filters) ? s.filters.map(String) : [],
    reachableBy: s.reachableBy ? checkedIp(s.reachableBy, `${where}: spec.reachableBy`) : undefined,
  };
}

function checkedIp(v: unknown, field: string): string {
  try {
    return formatIp(parseIp(String(v)));
  } catch {
    throw new RoutingInputError(`${field}: "${String(v)}" is not an IP address`);
  }
}

/** Decodes a BGPFilter; each rule is checked against its family, the error names the rule. */
export function filterFromResource(r: Resource): BgpFilter {
  const s = r.spec ?? {};
  const rules = (field: 'exportV4' | 'importV4' | 'exportV6' | 'importV6'): BgpFilterRule[] =>
    (Array.isArray(s[field]) ? s[field] : []).map((x: any, i: number) => {
      const where = `BGPFilter ${r.metadata.name}: spec.${field}[${i}]`;
      if (x?.action !== 'Accept' && x?.action !== 'Reject')
        throw new RoutingInputError(`${where}.action must be Accept or Reject`);
      const rule: BgpFilterRule = { action: x.action };
      if (x.cidr !== undefined || x.matchOperator !== undefined) {
        if (!['Equal', 'NotEqual', 'In', 'NotIn'].includes(x.matchOperator)) {
          throw new RoutingInputError(`${where}.matchOperator must be Equal, NotEqual, In or NotIn when cidr is set`);
        }
        const c = checkedCidr(x.cidr, `${where}.cidr`);
        if (parseCidr(c).family !== (field.endsWith('V4') ? 4 : 6)) {
          throw new RoutingInputError(`${where}.cidr: "${x.cidr}" is not an IPv${field.endsWith('V4') ? 4 : 6} CIDR`);
        }
        rule.matchOperator = x.matchOperator;
        rule.cidr = c;
      }
      if (x.prefixLength) {
        const bits = field.endsWith('V4') ? 32 : 128;
        for (const k of ['min', 'max'] as const) {
          const v = x.prefixLength[k];
          if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > bits)) {
            throw new RoutingInputError(`${where}.prefixLength.${k} must be from 0 to ${bits}`);
          }
        }
        rule.prefixLength = { min: x.prefixLength.min, max: x.prefixLength.max };
      }
      if (x.source !== undefined) {
        if (x.source !== 'RemotePeers') throw new RoutingInputError(`${where}.source must be RemotePeers`);
        rule.source = 'RemotePeers';
      }
      if (x.interface !== undefined) {
        if (!/^[A-Za-z0-9_.*?-]+$/.test(String(x.interface))) {
          throw new RoutingInputError(`${where}.interface: "${x.interface}" is not an interface name or glob`);
        }
        rule.interface = String(x.interface);
      }
      return rule;
    });
  return {
    name: r.metadata.name,
    exportV4: rules('exportV4'),
    importV4: rules('importV4'),
    exportV6: rules('exportV6'),
    importV6: rules('importV6'),
  };
}

/** `{secretKeyRef: {name, key}}` (BGPPeer password, BGPConfiguration nodeMeshPassword). */
function secretRef(v: any): { name: string; key: string } | undefined {
  const ref = v?.secretKeyRef;
  return ref?.name && ref?.key ? { name: String(ref.name), key: String(ref.key) } : undefined;
}

export function workloadFromResource(r: Resource): LocalWorkload | undefined {
  const s = r.spec ?? {};
  if (!s.interfaceName || !Array.isArray(s.ipNetworks)) return undefined;
  return { name: r.metadata.name, interfaceName: s.interfaceName, ipNetworks: s.ipNetworks };
}

/** The node's IP without prefix, e.g. "10.0.0.5/24" -> "10.0.0.5". */
export const hostIp = (cidrForm: string | undefined): string | undefined => cidrForm?.split('/')[0];

/** Go duration text ("90s", "1m30s", "2h") to whole seconds. */
export function durationSeconds(text: string, field: string): number {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    const v = Number(m[1]);
    total += m[2] === 'h' ? v * 3600 : m[2] === 'm' ? v * 60 : m[2] === 's' ? v : v / 1000;
    consumed += m[0].length;
  }
  if (consumed !== text.length || consumed === 0) {
    throw new RoutingInputError(`${field}: "${text}" is not a duration (e.g. "90s", "2m")`);
  }
  return Math.round(total);
}
