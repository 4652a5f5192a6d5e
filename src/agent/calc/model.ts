// The desired dataplane of one node: what the calculation graph emits and the nftables dataplane renders.
// Everything here is plain, immutable data keyed by stable string ids, so a renderer can diff two snapshots by id
// and by reference (an object that did not change is the same object in the next snapshot). Pure: no I/O.
import type { IpFamily } from '../../net/ip.js';

// ---------------------------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------------------------

/** `wep/<namespace>/<name>` for a WorkloadEndpoint, `hep/<name>` for a HostEndpoint. */
export type EndpointId = string;
/**
 * Encodes kind, tier, namespace and name (names cannot contain `/`):
 * `np/<tier>/<namespace>/<name>` NetworkPolicy, `gnp/<tier>/<name>` GlobalNetworkPolicy, and for the staged kinds
 * `snp/<tier>/<namespace>/<name>`, `sgnp/<tier>/<name>`, `sknp/<tier>/<namespace>/<name>`.
 */
export type PolicyId = string;
/** A Profile's id is its name (`kns.default`, `ksa.default.default`, ...). */
export type ProfileId = string;
/**
 * `s:<hash>` selector set (addresses of endpoints / network-set nets matching a selector),
 * `n:<hash>` named-port set (address,protocol,port of endpoints matching a selector that have the named port),
 * `all-hosts-net` (every Calico node's addresses), `this-host` (this node's addresses).
 * Hashes are base64url of sha224 of the canonical selector (plus port name and protocol), truncated as Felix does,
 * so the same rule yields the same id on every node and after every restart.
 */
export type IpSetId = string;

export type PolicyKind =
  | 'NetworkPolicy'
  | 'GlobalNetworkPolicy'
  | 'StagedNetworkPolicy'
  | 'StagedGlobalNetworkPolicy'
  | 'StagedKubernetesNetworkPolicy';

const POLICY_KIND_SHORT: Record<PolicyKind, string> = {
  NetworkPolicy: 'np',
  GlobalNetworkPolicy: 'gnp',
  StagedNetworkPolicy: 'snp',
  StagedGlobalNetworkPolicy: 'sgnp',
  StagedKubernetesNetworkPolicy: 'sknp',
};

export interface PolicyName {
  kind: PolicyKind;
  tier: string;
  name: string;
  namespace?: string;
}

export function policyIdOf(p: PolicyName): PolicyId {
  const short = POLICY_KIND_SHORT[p.kind];
  return p.namespace !== undefined ? `${short}/${p.tier}/${p.namespace}/${p.name}` : `${short}/${p.tier}/${p.name}`;
}

export function parsePolicyId(id: PolicyId): PolicyName {
  const parts = id.split('/');
  const kind = (Object.keys(POLICY_KIND_SHORT) as PolicyKind[]).find((k) => POLICY_KIND_SHORT[k] === parts[0]);
  if (!kind || parts.length < 3 || parts.length > 4) throw new Error(`malformed policy id "${id}"`);
  return parts.length === 4
    ? { kind, tier: parts[1]!, namespace: parts[2]!, name: parts[3]! }
    : { kind, tier: parts[1]!, name: parts[2]! };
}

export const workloadEndpointId = (namespace: string, name: string): EndpointId => `wep/${namespace}/${name}`;
export const hostEndpointId = (name: string): EndpointId => `hep/${name}`;

// ---------------------------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------------------------

export type RuleAction = 'allow' | 'deny' | 'pass' | 'log';

/** Inclusive port range; a single port has first === last. */
export interface PortRange {
  first: number;
  last: number;
}

/** IANA numbers of the protocols the rule syntax names; any other protocol is carried as its number. */
export const PROTOCOL_NUMBERS = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136 } as const;
export type ProtocolName = keyof typeof PROTOCOL_NUMBERS;
export function protocolName(n: number): ProtocolName | undefined {
  return (Object.keys(PROTOCOL_NUMBERS) as ProtocolName[]).find((k) => PROTOCOL_NUMBERS[k] === n);
}

/**
 * One Calico rule, compiled. A packet matches when EVERY present criterion matches:
 * - lists named `...Nets`/`...IpSetIds`/`...Ports` match when the packet matches ANY entry; `not...` lists when it
 *   matches NONE. An empty list is no criterion.
 * - `dstPorts` and `dstNamedPortIpSetIds` together form one "ANY of" (a numeric port OR a named port), as Calico's
 *   `ports` mixes both; the same for the source side. `not...NamedPortIpSetIds` are NONE-of like `notPorts`.
 * - ip sets of type `net,port` (named ports) match address, protocol and port together.
 * Family: render the rule for family F only when `ruleAppliesToFamily(rule, F)`; then use only the nets of family F
 * (see `netsOfFamily`) and the family-F version of every IP set.
 */
export interface CompiledRule {
  action: RuleAction;
  /** Index of the rule in the policy's ingress or egress list (for the `<policy> rule <n>` comment). */
  ruleIndex: number;
  /** Set when the rule says `ipVersion`, or when it is implied by protocol ICMP (4) / ICMPv6 (6). */
  ipVersion?: IpFamily;
  /** IANA protocol number (see PROTOCOL_NUMBERS). */
  protocol?: number;
  notProtocol?: number;
  icmpType?: number;
  icmpCode?: number;
  notIcmpType?: number;
  notIcmpCode?: number;

  srcNets: string[];
  notSrcNets: string[];
  dstNets: string[];
  notDstNets: string[];
  /** Selector sets (type `net`). */
  srcIpSetIds: IpSetId[];
  notSrcIpSetIds: IpSetId[];
  dstIpSetIds: IpSetId[];
  notDstIpSetIds: IpSetId[];
  /** Named-port sets (type `net,port`). */
  srcNamedPortIpSetIds: IpSetId[];
  notSrcNamedPortIpSetIds: IpSetId[];
  dstNamedPortIpSetIds: IpSetId[];
  notDstNamedPortIpSetIds: IpSetId[];
  srcPorts: PortRange[];
  notSrcPorts: PortRange[];
  dstPorts: PortRange[];
  notDstPorts: PortRange[];

  /** For `log` rules: the log prefix (FelixConfiguration logPrefix, default `calico-packet`). */
  logPrefix?: string;
}

/** A rule with no criteria (it matches every packet) and the given fields set; ruleIndex defaults to 0. */
export function compiledRule(fields: Partial<CompiledRule> & Pick<CompiledRule, 'action'>): CompiledRule {
  return {
    ruleIndex: 0,
    srcNets: [],
    notSrcNets: [],
    dstNets: [],
    notDstNets: [],
    srcIpSetIds: [],
    notSrcIpSetIds: [],
    dstIpSetIds: [],
    notDstIpSetIds: [],
    srcNamedPortIpSetIds: [],
    notSrcNamedPortIpSetIds: [],
    dstNamedPortIpSetIds: [],
    notDstNamedPortIpSetIds: [],
    srcPorts: [],
    notSrcPorts: [],
    dstPorts: [],
    notDstPorts: [],
    ...fields,
  };
}

/** A policy or profile as the dataplane programs it: one chain per direction. */
export interface CompiledPolicy {
  /** PolicyId for policies, ProfileId for profiles. */
  id: string;
  /** Rules for traffic TO the endpoint (ingress) and FROM it (egress), in order. */
  inbound: CompiledRule[];
  outbound: CompiledRule[];
}

/** Nets of one family from a CIDR list (v6 CIDRs contain ':'). */
export function netsOfFamily(nets: readonly string[], family: IpFamily): string[] {
  return nets.filter((n) => (n.includes(':') ? 6 : 4) === family);
}

/**
 * Whether the rule is rendered for a family (Felix renders each rule once per IP version): not when `ipVersion` says
 * otherwise, and not when a positive nets list (srcNets/dstNets) has no entry of that family. `notNets` of the other
 * family are just ignored.
 */
export function ruleAppliesToFamily(rule: CompiledRule, family: IpFamily): boolean {
  if (rule.ipVersion !== undefined && rule.ipVersion !== family) return false;
  if (rule.srcNets.length > 0 && netsOfFamily(rule.srcNets, family).length === 0) return false;
  if (rule.dstNets.length > 0 && netsOfFamily(rule.dstNets, family).length === 0) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// IP sets
// ---------------------------------------------------------------------------------------------------------------

/** `net`: members are CIDRs (`10.0.0.1/32`, `fd00::/64`). `net,port`: members are `<ip>,<proto>:<port>`, e.g.
 * `10.0.0.1,tcp:8080` (proto one of tcp, udp, sctp), as for ipset's hash:ip,port. */
export type IpSetType = 'net' | 'net,port';

export interface IpSetSpec {
  id: IpSetId;
  type: IpSetType;
  /** The canonical selector whose matches the set holds (absent for the fixed sets); for comments and debugging. */
  selector?: string;
  /** For `net,port` sets: the port name and the protocol the endpoints must declare it with. */
  namedPort?: { name: string; protocol: 'tcp' | 'udp' | 'sctp' };
  /** Members of each family, sorted; a renderer creates the v4 and the v6 set (Felix's cali40… / cali60…). */
  v4Members: readonly string[];
  v6Members: readonly string[];
}

/** Splits a `net,port` member into its parts. */
export function parseNamedPortMember(member: string): { ip: string; protocol: 'tcp' | 'udp' | 'sctp'; port: number } {
  const comma = member.lastIndexOf(',');
  const colon = member.lastIndexOf(':');
  const protocol = member.slice(comma + 1, colon) as 'tcp' | 'udp' | 'sctp';
  return { ip: member.slice(0, comma), protocol, port: Number(member.slice(colon + 1)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------------------------

export type TierDefaultAction = 'Deny' | 'Pass';

/** One tier as it applies to one endpoint in one direction. Only tiers with at least one applying policy appear. */
export interface TierPolicies {
  name: string;
  defaultAction: TierDefaultAction;
  /** Enforced policies that apply, in evaluation order (policy order, then name). Never empty. */
  policyIds: PolicyId[];
  /**
   * True when the tier ends with a drop: defaultAction Deny (a tier whose default is Pass goes on to the next tier,
   * or to the profiles). Rendered as Felix's "End of tier <name>. Drop if no policies passed packet".
   */
  endOfTierDrop: boolean;
}

/** The policy evaluation of one direction of one endpoint. */
export interface DirectionPolicies {
  /** Applying tiers in tier order. Empty: no policy selects the endpoint in this direction. */
  tiers: TierPolicies[];
  /**
   * Profiles, evaluated when no tier applies or every applying tier was left by Pass; each profile may Allow/Deny/Pass;
   * no verdict -> drop ("Drop if no profiles matched"). Empty for host-endpoint forward/preDNAT/untracked lists.
   */
  profileIds: ProfileId[];
}

/** Staged policies that select the endpoint: reported, never enforced. */
export interface StagedPolicies {
  ingress: { tier: string; policyIds: PolicyId[] }[];
  egress: { tier: string; policyIds: PolicyId[] }[];
}

export interface NatMapping {
  internalIp: string;
  externalIp: string;
}

interface EndpointCommon {
  id: EndpointId;
  name: string;
  /** Host-side interface name; `*` for a host endpoint on all interfaces; '' for a host endpoint with only expectedIPs. */
  interfaceName: string;
  /** Host CIDRs (/32) of the endpoint's IPv4 and IPv6 addresses, sorted. */
  ipv4Nets: string[];
  ipv6Nets: string[];
  /** Policy for traffic to the endpoint (ingress) and from it (egress). */
  ingress: DirectionPolicies;
  egress: DirectionPolicies;
  staged: StagedPolicies;
}

export interface LocalWorkloadEndpoint extends EndpointCommon {
  kind: 'workload';
  namespace: string;
  mac?: string;
  /** CIDRs the workload may use as source besides its own addresses (anti-spoofing exemptions). */
  allowSpoofedSourcePrefixes: string[];
  /** Floating IPs (only when FelixConfiguration floatingIPs is Enabled): DNAT external->internal, SNAT back. */
  ipv4Nat: NatMapping[];
  ipv6Nat: NatMapping[];
}

export interface LocalHostEndpoint extends EndpointCommon {
  kind: 'host';
  /** Policies with applyOnForward (not preDNAT/doNotTrack): traffic forwarded through the interface. No profiles. */
  forward: { ingress: DirectionPolicies; egress: DirectionPolicies };
  /** preDNAT policies (ingress only), evaluated in mangle PREROUTING. No profiles; tiers end with Pass (Felix). */
  preDnat: { ingress: DirectionPolicies };
  /** doNotTrack policies, evaluated in raw before conntrack. No profiles; tiers end with Pass (Felix). */
  untracked: { ingress: DirectionPolicies; egress: DirectionPolicies };
}

export type LocalEndpoint = LocalWorkloadEndpoint | LocalHostEndpoint;

// ---------------------------------------------------------------------------------------------------------------
// Felix configuration (the values the dataplane needs; see config.ts for precedence and the full list)
// ---------------------------------------------------------------------------------------------------------------

export interface HostPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  /** Optional CIDR restricting the remote address. */
  net?: string;
}

/** Mark bits carved out of iptablesMarkMask, lowest bit first (Felix's allocation order). */
export interface MarkBits {
  accept: number;
  pass: number;
  drop: number;
  scratch0: number;
  scratch1: number;
  /** The remaining bits of the mask (Felix's endpoint-mark block). */
  endpoint: number;
  /** All bits Calico owns (= iptablesMarkMask). */
  all: number;
}

export interface DataplaneConfig {
  defaultEndpointToHostAction: 'Drop' | 'Return' | 'Accept';
  failsafeInboundHostPorts: HostPort[];
  failsafeOutboundHostPorts: HostPort[];
  chainInsertMode: 'insert' | 'append';
  logPrefix: string;
  iptablesMarkMask: number;
  marks: MarkBits;
  filterAllowAction: 'Accept' | 'Return';
  mangleAllowAction: 'Accept' | 'Return';
  filterDenyAction: 'Drop' | 'Reject';
  interfacePrefixes: string[];
  /** Interface names (exact) or /regex/ patterns that are never treated as endpoints. */
  interfaceExclude: string[];
  disableConntrackInvalidCheck: boolean;
  allowVXLANPacketsFromWorkloads: boolean;
  allowIPIPPacketsFromWorkloads: boolean;
  vxlanPort: number;
  ipv6Support: boolean;
  floatingIPs: 'Enabled' | 'Disabled';
  workloadSourceSpoofing: 'Disabled' | 'Any';
  /** Seconds between full resyncs of the table against the kernel. */
  nftablesRefreshInterval: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The snapshot and the diff
// ---------------------------------------------------------------------------------------------------------------

/** What a staged policy is, for reporting. */
export interface StagedPolicyInfo {
  id: PolicyId;
  tier: string;
  stagedAction: string;
  types: ('Ingress' | 'Egress')[];
}

/** A resource the graph could not use, and why (field and reason). The rest of the state is still programmed. */
export interface ResourceProblem {
  /** `<Kind> <namespace>/<name>` or `<Kind> <name>`. */
  resource: string;
  message: string;
}

/**
 * The whole desired dataplane. Maps iterate in sorted key order; objects that did not change between two snapshots
 * are the identical (===) objects, so `a !== b` is a cheap "changed" test.
 */
export interface DataplaneSnapshot {
  nodeName: string;
  endpoints: ReadonlyMap<EndpointId, LocalEndpoint>;
  /** Only active policies: enforced policies that apply to a local endpoint (or carry AssumeNeededOnEveryNode). */
  policies: ReadonlyMap<PolicyId, CompiledPolicy>;
  /** Only profiles some local endpoint references; a referenced profile that does not exist is here with no rules. */
  profiles: ReadonlyMap<ProfileId, CompiledPolicy>;
  /** Only sets some active policy or profile rule uses, plus the fixed sets. */
  ipSets: ReadonlyMap<IpSetId, IpSetSpec>;
  stagedPolicies: ReadonlyMap<PolicyId, StagedPolicyInfo>;
  /** This node's addresses (from its Node resource). */
  hostIps: { v4: string[]; v6: string[] };
  config: DataplaneConfig;
  problems: readonly ResourceProblem[];
}

export interface IdChanges<Id extends string> {
  /** Added or changed since the last flush. */
  updated: Id[];
  removed: Id[];
}

/** What changed since the previous flush; ids are sorted. */
export interface DataplaneChanges {
  endpoints: IdChanges<EndpointId>;
  policies: IdChanges<PolicyId>;
  profiles: IdChanges<ProfileId>;
  ipSets: IdChanges<IpSetId>;
  stagedPolicies: IdChanges<PolicyId>;
  hostIpsChanged: boolean;
  configChanged: boolean;
}

export function changesAreEmpty(c: DataplaneChanges): boolean {
  return (
    !c.hostIpsChanged &&
    !c.configChanged &&
    [c.endpoints, c.policies, c.profiles, c.ipSets, c.stagedPolicies].every(
      (x) => x.updated.length === 0 && x.removed.length === 0,
    )
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------------------------

/** Kinds the graph consumes; other kinds are ignored. */
export const CALC_GRAPH_KINDS = [
  'WorkloadEndpoint',
  'HostEndpoint',
  'Profile',
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
  'Tier',
  'NetworkSet',
  'GlobalNetworkSet',
  'FelixConfiguration',
  'Node',
] as const;

/**
 * One datastore change, as decoded projectcalico.org/v3 resources. `put` carries the whole new resource (create or
 * update); `delete` names it. Updates are idempotent: a put of an unchanged resource changes nothing.
 */
export type CalcUpdate =
  | {
      type: 'put';
      resource: {
        kind: string;
        metadata: { name: string; namespace?: string; labels?: Record<string, string> };
        spec?: any;
      };
    }
  | { type: 'delete'; kind: string; name: string; namespace?: string };

/** The calculation graph's interface (implemented by CalcGraph in graph.ts). Synchronous; never does I/O. */
export interface CalcGraphApi {
  /** Records one datastore change; bad resources are reported in `problems`, never thrown. */
  onUpdate(update: CalcUpdate): void;
  onUpdates(updates: readonly CalcUpdate[]): void;
  /** The current desired dataplane (cheap: unchanged objects are shared with the previous snapshot). */
  snapshot(): DataplaneSnapshot;
  /** The ids that changed since the previous flush (and resets that record). */
  flush(): DataplaneChanges;
}

export interface CalcGraphOptions {
  /** This node's name: only endpoints with spec.node equal to it are programmed. */
  nodeName: string;
  /** Environment variables (FELIX_* are read; highest configuration precedence). Pass process.env from the edge. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Felix config-file parameters (name = value), between the environment and the datastore in precedence. */
  configFile?: Readonly<Record<string, string>>;
}
