// Test support for the calculation graph, in Felix's calc-graph test style: builders for datastore resources, a
// readable view of a DataplaneSnapshot (IP sets named by their selector), and the state-transition driver that
// replays a state sequence forwards, backwards, with duplicated updates and one-by-one vs batched.
import type { CalcGraph } from '../graph.js';
import type { CalcUpdate, CompiledRule, DataplaneSnapshot, DirectionPolicies, LocalEndpoint } from '../model.js';
import { protocolName } from '../model.js';

export interface Res {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: any;
}

export const NODE = 'node1';

export function wep(
  name: string,
  opts: {
    ns?: string;
    node?: string;
    labels?: Record<string, string>;
    ips?: string[];
    profiles?: string[];
    ports?: { name: string; protocol?: string; port: number }[];
    iface?: string;
    sa?: string;
    extra?: Record<string, unknown>;
  } = {},
): Res {
  const ns = opts.ns ?? 'ns1';
  return {
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: ns, labels: opts.labels ?? {} },
    spec: {
      orchestrator: 'k8s',
      node: opts.node ?? NODE,
      pod: name,
      endpoint: 'eth0',
      interfaceName: opts.iface ?? `cali${name}`.slice(0, 15),
      ipNetworks: opts.ips ?? [],
      profiles: opts.profiles ?? [`kns.${ns}`],
      ...(opts.ports ? { ports: opts.ports } : {}),
      ...(opts.sa ? { serviceAccountName: opts.sa } : {}),
      ...(opts.extra ?? {}),
    },
  };
}

export function hep(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): Res {
  return { kind: 'HostEndpoint', metadata: { name, labels }, spec: { node: NODE, ...spec } };
}

export function profile(name: string, spec: Record<string, unknown> = {}): Res {
  return { kind: 'Profile', metadata: { name }, spec };
}

/** The `kns.<ns>` profile Calico writes for a namespace: allow all, namespace labels as pcns.* */
export function nsProfile(ns: string, nsLabels: Record<string, string> = {}): Res {
  const labelsToApply: Record<string, string> = { 'pcns.projectcalico.org/name': ns };
  for (const [k, v] of Object.entries(nsLabels)) labelsToApply[`pcns.${k}`] = v;
  return profile(`kns.${ns}`, { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply });
}

export function np(name: string, ns: string, spec: Record<string, unknown>): Res {
  return { kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}

export function gnp(name: string, spec: Record<string, unknown>): Res {
  return { kind: 'GlobalNetworkPolicy', metadata: { name }, spec };
}

export function tier(name: string, spec: Record<string, unknown>): Res {
  return { kind: 'Tier', metadata: { name }, spec };
}

export function netset(name: string, ns: string, nets: string[], labels: Record<string, string>): Res {
  return { kind: 'NetworkSet', metadata: { name, namespace: ns, labels }, spec: { nets } };
}

export function gnetset(name: string, nets: string[], labels: Record<string, string>): Res {
  return { kind: 'GlobalNetworkSet', metadata: { name, labels }, spec: { nets } };
}

export function felixConfig(name: string, spec: Record<string, unknown>): Res {
  return { kind: 'FelixConfiguration', metadata: { name }, spec };
}

export function node(name: string, ipv4Address: string): Res {
  return { kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address } } };
}

export const resKey = (r: Res): string => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
export const put = (r: Res): CalcUpdate => ({ type: 'put', resource: structuredClone(r) });
export const del = (r: Res): CalcUpdate => ({
  type: 'delete',
  kind: r.kind,
  name: r.metadata.name,
  ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}),
});

// ---- the readable view ---------------------------------------------------------------------------------------

function setName(snap: DataplaneSnapshot, id: string): string {
  const s = snap.ipSets.get(id);
  if (!s) return `MISSING(${id})`;
  if (!s.selector) return id;
  return s.namedPort ? `{${s.selector}}:${s.namedPort.protocol}/${s.namedPort.name}` : `{${s.selector}}`;
}

const ports = (p: { first: number; last: number }[]): string =>
  p.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`)).join(',');

/** One rule as a line, e.g. `allow tcp src in {role == "x"} dport 80,8000-8080`. */
export function ruleLine(snap: DataplaneSnapshot, r: CompiledRule): string {
  const parts: string[] = [r.action];
  const proto = (n: number): string => protocolName(n) ?? String(n);
  if (r.ipVersion) parts.push(`ipv${r.ipVersion}`);
  if (r.protocol !== undefined) parts.push(proto(r.protocol));
  if (r.notProtocol !== undefined) parts.push(`!${proto(r.notProtocol)}`);
  if (r.icmpType !== undefined)
    parts.push(`type ${r.icmpType}${r.icmpCode !== undefined ? ` code ${r.icmpCode}` : ''}`);
  if (r.notIcmpType !== undefined) {
    parts.push(`!type ${r.notIcmpType}${r.notIcmpCode !== undefined ? ` code ${r.notIcmpCode}` : ''}`);
  }
  for (const side of ['src', 'dst'] as const) {
    const nets = r[`${side}Nets`];
    const notNets = r[side === 'src' ? 'notSrcNets' : 'notDstNets'];
    const sets = r[`${side}IpSetIds`];
    const notSets = r[side === 'src' ? 'notSrcIpSetIds' : 'notDstIpSetIds'];
    const named = r[`${side}NamedPortIpSetIds`];
    const notNamed = r[side === 'src' ? 'notSrcNamedPortIpSetIds' : 'notDstNamedPortIpSetIds'];
    const p = r[`${side}Ports`];
    const notP = r[side === 'src' ? 'notSrcPorts' : 'notDstPorts'];
    if (nets.length) parts.push(`${side} net ${nets.join(',')}`);
    if (notNets.length) parts.push(`${side} !net ${notNets.join(',')}`);
    for (const id of sets) parts.push(`${side} in ${setName(snap, id)}`);
    for (const id of notSets) parts.push(`${side} !in ${setName(snap, id)}`);
    if (p.length) parts.push(`${side}port ${ports(p)}`);
    for (const id of named) parts.push(`${side}port in ${setName(snap, id)}`);
    if (notP.length) parts.push(`${side}port !${ports(notP)}`);
    for (const id of notNamed) parts.push(`${side}port !in ${setName(snap, id)}`);
  }
  if (r.logPrefix !== undefined) parts.push(`prefix ${r.logPrefix}`);
  return parts.join(' ');
}

function directionView(d: DirectionPolicies): string[] {
  return [
    ...d.tiers.map((t) => `tier ${t.name}${t.endOfTierDrop ? '' : ' (pass)'}: ${t.policyIds.join(' ')}`),
    ...d.profileIds.map((p) => `profile ${p}`),
  ];
}

function endpointView(e: LocalEndpoint): Record<string, unknown> {
  const v: Record<string, unknown> = {
    iface: e.interfaceName,
    ips: [...e.ipv4Nets, ...e.ipv6Nets],
    in: directionView(e.ingress),
    out: directionView(e.egress),
  };
  const staged = [...e.staged.ingress.map((t) => `in ${t.tier}: ${t.policyIds.join(' ')}`)].concat(
    e.staged.egress.map((t) => `out ${t.tier}: ${t.policyIds.join(' ')}`),
  );
  if (staged.length) v.staged = staged;
  if (e.kind === 'host') {
    for (const [k, d] of [
      ['fwdIn', e.forward.ingress],
      ['fwdOut', e.forward.egress],
      ['preDnatIn', e.preDnat.ingress],
      ['untrackedIn', e.untracked.ingress],
      ['untrackedOut', e.untracked.egress],
    ] as const) {
      if (d.tiers.length) v[k] = directionView(d);
    }
  } else {
    if (e.allowSpoofedSourcePrefixes.length) v.spoof = e.allowSpoofedSourcePrefixes;
    const nat = [...e.ipv4Nat, ...e.ipv6Nat].map((n) => `${n.externalIp}->${n.internalIp}`);
    if (nat.length) v.nat = nat;
  }
  return v;
}

export interface View {
  endpoints: Record<string, Record<string, unknown>>;
  policies: Record<string, { in: string[]; out: string[] }>;
  profiles: Record<string, { in: string[]; out: string[] }>;
  /** Selector-set name -> members (v4 then v6); fixed sets only when non-empty. */
  ipSets: Record<string, string[]>;
  staged: string[];
  problems: string[];
}

export function view(snap: DataplaneSnapshot): View {
  const rules = (p: { inbound: CompiledRule[]; outbound: CompiledRule[] }) => ({
    in: p.inbound.map((r) => ruleLine(snap, r)),
    out: p.outbound.map((r) => ruleLine(snap, r)),
  });
  const ipSets: Record<string, string[]> = {};
  for (const [id, s] of snap.ipSets) {
    const members = [...s.v4Members, ...s.v6Members];
    if (!s.selector && members.length === 0) continue;
    ipSets[setName(snap, id)] = members;
  }
  return {
    endpoints: Object.fromEntries([...snap.endpoints].map(([id, e]) => [id, endpointView(e)])),
    policies: Object.fromEntries([...snap.policies].map(([id, p]) => [id, rules(p)])),
    profiles: Object.fromEntries([...snap.profiles].map(([id, p]) => [id, rules(p)])),
    ipSets,
    staged: [...snap.stagedPolicies.keys()],
    problems: snap.problems.map((p) => `${p.resource}: ${p.message}`),
  };
}

/** The whole snapshot as canonical JSON (Maps as sorted entry lists): equal text = equal dataplane. */
export function snapshotJson(snap: DataplaneSnapshot): string {
  return JSON.stringify(snap, (_k, v) => (v instanceof Map ? [...v.entries()] : v));
}

// ---- transitions -----------------------------------------------------------------------------------------------

export interface Delivery {
  name: string;
  reverse: boolean;
  duplicate: boolean;
  batched: boolean;
}

export const DELIVERIES: Delivery[] = [];
for (const reverse of [false, true]) {
  for (const duplicate of [false, true]) {
    for (const batched of [false, true]) {
      DELIVERIES.push({
        name: `${reverse ? 'reversed' : 'in order'}, ${duplicate ? 'every update twice' : 'once'}, ${batched ? 'batched' : 'one by one'}`,
        reverse,
        duplicate,
        batched,
      });
    }
  }
}

/** The updates taking the datastore from `from` to `to`: deletes of what goes, puts of everything in `to`. */
export function transition(from: readonly Res[], to: readonly Res[]): CalcUpdate[] {
  const keep = new Set(to.map(resKey));
  return [...from.filter((r) => !keep.has(resKey(r))).map(del), ...to.map(put)];
}

export function deliver(graph: CalcGraph, updates: CalcUpdate[], how: Delivery): void {
  let list = how.reverse ? [...updates].reverse() : [...updates];
  if (how.duplicate) list = list.flatMap((u) => [u, u]);
  if (how.batched) graph.onUpdates(list);
  else for (const u of list) graph.onUpdate(u);
}
