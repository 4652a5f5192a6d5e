// Named desired-dataplane states (calc/model.ts snapshots built by hand) for the ruleset golden files and the nft
// driver tests. Each is small enough that its golden ruleset can be read in review.
import { allocateMarks } from '../../calc/config.js';
import { compiledRule } from '../../calc/model.js';
import type {
  CompiledPolicy,
  DataplaneConfig,
  DataplaneSnapshot,
  DirectionPolicies,
  IpSetSpec,
  LocalHostEndpoint,
  LocalWorkloadEndpoint,
} from '../../calc/model.js';

export const baseConfig: DataplaneConfig = {
  defaultEndpointToHostAction: 'Accept',
  failsafeInboundHostPorts: [
    { protocol: 'tcp', port: 22 },
    { protocol: 'tcp', port: 179 },
  ],
  failsafeOutboundHostPorts: [{ protocol: 'udp', port: 53 }],
  chainInsertMode: 'insert',
  logPrefix: 'calico-packet',
  iptablesMarkMask: 0xffff0000,
  marks: allocateMarks(0xffff0000),
  filterAllowAction: 'Accept',
  mangleAllowAction: 'Accept',
  filterDenyAction: 'Drop',
  interfacePrefixes: ['cali'],
  interfaceExclude: [],
  disableConntrackInvalidCheck: false,
  allowVXLANPacketsFromWorkloads: false,
  allowIPIPPacketsFromWorkloads: false,
  vxlanPort: 4789,
  ipv6Support: true,
  floatingIPs: 'Disabled',
  workloadSourceSpoofing: 'Disabled',
  nftablesRefreshInterval: 90,
};

export const rule = compiledRule;

const noPolicies = (profileIds: string[] = []): DirectionPolicies => ({ tiers: [], profileIds });

export function workload(
  name: string,
  iface: string,
  ip: string,
  opts: Partial<LocalWorkloadEndpoint> = {},
): LocalWorkloadEndpoint {
  return {
    kind: 'workload',
    id: `wep/default/${name}`,
    name,
    namespace: 'default',
    interfaceName: iface,
    ipv4Nets: [`${ip}/32`],
    ipv6Nets: [],
    ingress: noPolicies(['kns.default']),
    egress: noPolicies(['kns.default']),
    staged: { ingress: [], egress: [] },
    allowSpoofedSourcePrefixes: [],
    ipv4Nat: [],
    ipv6Nat: [],
    ...opts,
  };
}

export const allowAllProfile: CompiledPolicy = {
  id: 'kns.default',
  inbound: [rule({ action: 'allow' })],
  outbound: [rule({ action: 'allow' })],
};

export function snapshot(parts: {
  endpoints?: (LocalWorkloadEndpoint | LocalHostEndpoint)[];
  policies?: CompiledPolicy[];
  profiles?: CompiledPolicy[];
  ipSets?: IpSetSpec[];
  config?: Partial<DataplaneConfig>;
}): DataplaneSnapshot {
  const byId = <T extends { id: string }>(xs: T[] = []): Map<string, T> =>
    new Map([...xs].sort((a, b) => (a.id < b.id ? -1 : 1)).map((x) => [x.id, x]));
  return {
    nodeName: 'node1',
    endpoints: byId(parts.endpoints),
    policies: byId(parts.policies),
    profiles: byId(parts.profiles ?? [allowAllProfile]),
    ipSets: byId(parts.ipSets),
    stagedPolicies: new Map(),
    hostIps: { v4: ['172.31.255.11'], v6: [] },
    config: { ...baseConfig, ...parts.config },
    problems: [],
  };
}

// --- The named states --------------------------------------------------------------------------------------------

/** Two pods, no policy: only the allow-all namespace profile. */
export function stateTwoPods(): DataplaneSnapshot {
  return snapshot({
    endpoints: [workload('pod-a', 'cali1111', '10.65.0.2'), workload('pod-b', 'cali2222', '10.65.0.3')],
  });
}

/** pod-b selected by a policy allowing TCP 80 from `app == 'a'` (an IP set) and ICMP; default tier drop at the end. */
export function stateAllowFromLabel(): DataplaneSnapshot {
  const policy: CompiledPolicy = {
    id: 'np/default/default/allow-a',
    inbound: [
      rule({
        action: 'allow',
        ruleIndex: 0,
        protocol: 6,
        srcIpSetIds: ['s:appA'],
        dstPorts: [{ first: 80, last: 80 }],
      }),
      rule({ action: 'allow', ruleIndex: 1, protocol: 1, ipVersion: 4, icmpType: 8 }),
    ],
    outbound: [],
  };
  const tiers = [{ name: 'default', defaultAction: 'Deny' as const, policyIds: [policy.id], endOfTierDrop: true }];
  return snapshot({
    endpoints: [
      workload('pod-a', 'cali1111', '10.65.0.2'),
      workload('pod-b', 'cali2222', '10.65.0.3', { ingress: { tiers, profileIds: ['kns.default'] } }),
    ],
    policies: [policy],
    ipSets: [{ id: 's:appA', type: 'net', v4Members: ['10.65.0.2/32'], v6Members: [] }],
  });
}

/** Two tiers (security passes to default), Deny before Allow by order, nets/notNets, a named port, a Log rule. */
export function stateTiers(): DataplaneSnapshot {
  const sec: CompiledPolicy = {
    id: 'gnp/security/pass-web',
    inbound: [
      rule({ action: 'log', ruleIndex: 0, protocol: 6, logPrefix: 'calico-packet' }),
      rule({ action: 'deny', ruleIndex: 1, srcNets: ['192.0.2.0/24'], notSrcNets: ['192.0.2.128/25'] }),
      rule({ action: 'pass', ruleIndex: 2 }),
    ],
    outbound: [],
  };
  const web: CompiledPolicy = {
    id: 'np/default/default/web',
    inbound: [
      rule({
        action: 'allow',
        ruleIndex: 0,
        protocol: 6,
        dstNamedPortIpSetIds: ['n:http'],
        dstPorts: [{ first: 8000, last: 8080 }],
      }),
    ],
    outbound: [
      rule({ action: 'allow', ruleIndex: 0, dstNets: ['10.65.0.0/16', 'fd00:65::/64'] }),
      rule({ action: 'deny', ruleIndex: 1, dstIpSetIds: ['s:blocked'] }),
    ],
  };
  const ingress: DirectionPolicies = {
    tiers: [
      { name: 'security', defaultAction: 'Deny', policyIds: [sec.id], endOfTierDrop: true },
      { name: 'default', defaultAction: 'Deny', policyIds: [web.id], endOfTierDrop: true },
    ],
    profileIds: ['kns.default'],
  };
  const egress: DirectionPolicies = {
    tiers: [{ name: 'default', defaultAction: 'Deny', policyIds: [web.id], endOfTierDrop: true }],
    profileIds: ['kns.default'],
  };
  return snapshot({
    endpoints: [workload('web', 'cali3333', '10.65.0.4', { ingress, egress, ipv6Nets: ['fd00:65::4/128'] })],
    policies: [sec, web],
    ipSets: [
      { id: 'n:http', type: 'net,port', v4Members: ['10.65.0.4,tcp:80'], v6Members: ['fd00:65::4,tcp:80'] },
      // a network set's CIDRs plus an endpoint inside one of them: an interval set (`_net`), the /32 coalesced away
      { id: 's:blocked', type: 'net', v4Members: ['10.66.0.0/16', '10.66.1.1/32', '203.0.113.9/32'], v6Members: [] },
    ],
  });
}

/** A named host endpoint and the `*` endpoint with normal, applyOnForward, preDNAT and doNotTrack policies. */
export function stateHostEndpoints(): DataplaneSnapshot {
  const ssh: CompiledPolicy = {
    id: 'gnp/default/host-ssh',
    inbound: [rule({ action: 'allow', ruleIndex: 0, protocol: 6, dstPorts: [{ first: 2222, last: 2222 }] })],
    outbound: [rule({ action: 'allow', ruleIndex: 0 })],
  };
  const fwd: CompiledPolicy = {
    id: 'gnp/default/fwd',
    inbound: [rule({ action: 'deny', ruleIndex: 0, srcNets: ['198.51.100.0/24'] })],
    outbound: [],
  };
  const pre: CompiledPolicy = {
    id: 'gnp/default/prednat',
    inbound: [rule({ action: 'deny', ruleIndex: 0, protocol: 6, dstPorts: [{ first: 30000, last: 32767 }] })],
    outbound: [],
  };
  const untracked: CompiledPolicy = {
    id: 'gnp/default/untracked',
    inbound: [rule({ action: 'allow', ruleIndex: 0, protocol: 17, dstPorts: [{ first: 53, last: 53 }] })],
    outbound: [rule({ action: 'allow', ruleIndex: 0, protocol: 17, srcPorts: [{ first: 53, last: 53 }] })],
  };
  const tier = (ids: string[]): DirectionPolicies => ({
    tiers: [{ name: 'default', defaultAction: 'Deny', policyIds: ids, endOfTierDrop: true }],
    profileIds: [],
  });
  const none: DirectionPolicies = { tiers: [], profileIds: [] };
  const eth0: LocalHostEndpoint = {
    kind: 'host',
    id: 'hep/node1-eth0',
    name: 'node1-eth0',
    interfaceName: 'eth0',
    ipv4Nets: ['172.31.255.11/32'],
    ipv6Nets: [],
    ingress: tier([ssh.id]),
    egress: tier([ssh.id]),
    staged: { ingress: [], egress: [] },
    forward: { ingress: tier([fwd.id]), egress: none },
    preDnat: { ingress: tier([pre.id]) },
    untracked: { ingress: tier([untracked.id]), egress: tier([untracked.id]) },
  };
  const all: LocalHostEndpoint = {
    ...eth0,
    id: 'hep/node1-all',
    name: 'node1-all',
    interfaceName: '*',
    ipv4Nets: [],
    ingress: { tiers: [], profileIds: [] },
    egress: { tiers: [], profileIds: [] },
    forward: { ingress: none, egress: none },
    preDnat: { ingress: none },
    untracked: { ingress: none, egress: none },
  };
  return snapshot({
    endpoints: [
      eth0,
      all,
      workload('pod-a', 'cali1111', '10.65.0.2', { ipv4Nat: [{ internalIp: '10.65.0.2', externalIp: '203.0.113.7' }] }),
    ],
    policies: [ssh, fwd, pre, untracked],
    config: { floatingIPs: 'Enabled', defaultEndpointToHostAction: 'Drop' },
  });
}

export const NAMED_STATES: Record<string, () => DataplaneSnapshot> = {
  'two-pods': stateTwoPods,
  'allow-from-label': stateAllowFromLabel,
  tiers: stateTiers,
  'host-endpoints': stateHostEndpoints,
};
