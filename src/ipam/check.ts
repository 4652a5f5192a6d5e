// `calicoctl ipam check`'s analysis: compares every block allocation with the addresses actually in use (workload
// endpoints' ipNetworks and Nodes' IPv4 tunnel addresses) and counts Calico's problems — leaked addresses, in-use
// addresses outside active pools or without an allocation, leaked handles, invalid blocks. Affinities of nodes that
// are gone, addresses with several owners and handles missing as objects are reported but not counted, as Calico.
// Addresses cooling down after their release (ipCooldownSeconds) are listed with coolingDown and never count as leaks;
// a releasedAt in the future makes the block invalid.
//   datastore -> IpamCheckReport (JSON, as Calico's report file) + the printed lines
import type { Datastore } from '../datastore/types.js';
import { resourceKey, resourcePrefix } from '../datastore/keys.js';
import { IpamStore } from './store.js';
import { affinityHost, allocationsOf, blockProblems, coolingOf } from './core/block.js';
import { poolServes, poolContaining } from './core/pool.js';
import { formatIp, isIp, parseIp } from '../net/ip.js';

export interface ReportAllocation {
  ip: string;
  handle: string | null;
  sequenceNumber: bigint | null;
  pod: string;
  namespace: string;
  node: string;
  type: string;
  creationTimestamp: string;
  inUse: boolean;
  borrowed: boolean;
  coolingDown: boolean;
}

export interface IpamCheckReport {
  version: string;
  clusterGUID: string;
  datastoreLocked: boolean;
  clusterInformationRevision: string;
  clusterType: string;
  /** Every allocation, by address. */
  allocations: Record<string, ReportAllocation[]>;
  leakedHandles: { id: string; revision: string }[];
}

export interface IpamCheckResult {
  report: IpamCheckReport;
  problems: number;
  lines: string[];
}

export const CHECK_REPORT_VERSION = 'calico-ts-0.1.0';

interface Owner {
  kind: 'workload' | 'tunnel';
  name: string;
}

/** Address -> owners, from the datastore's WorkloadEndpoints and Nodes. */
async function inUseAddresses(ds: Datastore): Promise<{ owners: Map<string, Owner[]>; weps: number; tunnels: number }> {
  const owners = new Map<string, Owner[]>();
  const add = (ip: string, o: Owner) => {
    const list = owners.get(ip) ?? [];
    list.push(o);
    owners.set(ip, list);
  };
  let weps = 0;
  let tunnels = 0;
  for (const kv of (await ds.list(resourcePrefix('WorkloadEndpoint'))).items) {
    const wep = JSON.parse(kv.value);
    const name = `${wep?.metadata?.namespace ?? ''}/${wep?.metadata?.name ?? ''}`;
    for (const net of wep?.spec?.ipNetworks ?? []) {
      const ip = String(net).split('/')[0];
      if (isIp(ip)) {
        add(formatIp(parseIp(ip)), { kind: 'workload', name });
        weps++;
      }
    }
  }
  for (const kv of (await ds.list(resourcePrefix('Node'))).items) {
    const node = JSON.parse(kv.value);
    const spec = node?.spec ?? {};
    // Calico's check only looks at the IPv4 tunnel fields.
    for (const ip of [spec.ipv4VXLANTunnelAddr, spec.wireguard?.interfaceIPv4Address, spec.bgp?.ipv4IPIPTunnelAddr]) {
      if (typeof ip === 'string' && isIp(ip)) {
        add(formatIp(parseIp(ip)), { kind: 'tunnel', name: node?.metadata?.name ?? '' });
        tunnels++;
      }
    }
  }
  return { owners, weps, tunnels };
}

export async function runIpamCheck(
  ds: Datastore,
  opts: { showAllIps?: boolean; showProblemIps?: boolean; now?: () => Date } = {},
): Promise<IpamCheckResult> {
  const nowMs = (opts.now ?? (() => new Date()))().getTime();
  const store = new IpamStore(ds);
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  const ci = await ds.get(resourceKey('ClusterInformation', 'default'));
  const ciSpec = ci ? (JSON.parse(ci.value)?.spec ?? {}) : {};

  say('Checking IPAM for inconsistencies...');
  say();
  say('Loading all IPAM blocks...');
  const blocks = await store.listBlocks();
  say(`Found ${blocks.length} IPAM blocks.`);
  const allocations = blocks.flatMap((b) => allocationsOf(b.value).map((a) => ({ a, b: b.value })));
  const cooling = blocks.flatMap((b) => coolingOf(b.value).map((a) => ({ a, b: b.value })));
  for (const b of blocks) say(` IPAM block ${b.value.cidr} affinity=${b.value.affinity ?? '<none>'}:`);
  say(`IPAM blocks record ${allocations.length} allocations.`);
  if (cooling.length) say(`IPAM blocks record ${cooling.length} released IPs cooling down.`);
  say();
  say('Loading all IPAM pools...');
  const pools = (await store.listPools()).filter(poolServes);
  for (const p of pools) say(`  ${p.cidrText}`);
  say(`Found ${pools.length} active IP pools.`);
  say();
  say('Loading all nodes and workload endpoints.');
  const { owners, weps, tunnels } = await inUseAddresses(ds);
  const nodes = await store.listNodeNames();
  say(`Found ${tunnels} node tunnel IPs.`);
  say(`Found ${weps} workload IPs.`);
  say(`Workloads and nodes are using ${owners.size} IPs.`);
  say();

  const report: IpamCheckReport = {
    version: CHECK_REPORT_VERSION,
    clusterGUID: String(ciSpec.clusterGUID ?? ''),
    datastoreLocked: ciSpec.datastoreReady === false,
    clusterInformationRevision: ci ? String(ci.revision) : '',
    clusterType: String(ciSpec.clusterType ?? ''),
    allocations: {},
    leakedHandles: [],
  };
  const perNode = new Map<string, number>();
  const allocated = new Set<string>();
  let leaks = 0;
  say('Scanning for IPs that are allocated but not actually in use...');
  for (const { a, b } of allocations) {
    const ip = formatIp(a.ip);
    allocated.add(ip);
    const node = a.attrs.node ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
    const inUse = owners.has(ip);
    const owner = affinityHost(b.affinity);
    const entry: ReportAllocation = {
      ip,
      handle: a.handle,
      sequenceNumber: a.sequenceNumber ?? null,
      pod: a.attrs.pod ?? '',
      namespace: a.attrs.namespace ?? '',
      node,
      type: a.attrs.type ?? '',
      creationTimestamp: a.attrs.timestamp ?? '',
      inUse,
      borrowed: Boolean(node) && owner !== node,
      coolingDown: false,
    };
    (report.allocations[ip] ??= []).push(entry);
    if (!inUse) {
      leaks++;
      if (opts.showProblemIps || opts.showAllIps)
        say(`  ${ip} leaked; attrs ${JSON.stringify(a.attrs)} handle ${a.handle}`);
    } else if (opts.showAllIps)
      say(
        `  ${ip} in use by ${owners
          .get(ip)!
          .map((o) => o.name)
          .join(', ')}`,
      );
  }
  for (const { a, b } of cooling) {
    const ip = formatIp(a.ip);
    const node = a.attrs.node ?? '';
    (report.allocations[ip] ??= []).push({
      ip,
      handle: a.handle,
      sequenceNumber: null,
      pod: a.attrs.pod ?? '',
      namespace: a.attrs.namespace ?? '',
      node,
      type: a.attrs.type ?? '',
      creationTimestamp: a.attrs.timestamp ?? '',
      inUse: owners.has(ip),
      borrowed: Boolean(node) && affinityHost(b.affinity) !== node,
      coolingDown: true,
    });
    if (opts.showAllIps) say(`  ${ip} released at ${a.releasedAt}, cooling down`);
  }
  say(`Found ${leaks} IPs that are allocated in IPAM but not actually in use.`);

  say('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  let outsidePools = 0;
  let unallocatedInUse = 0;
  let multiOwner = 0;
  for (const [ip, list] of owners) {
    if (list.length > 1) {
      multiOwner++;
      say(`  ${ip} has multiple owners: ${list.map((o) => `${o.kind} ${o.name}`).join(', ')}`);
    }
    const addr = parseIp(ip);
    if (!poolContaining(pools, addr)) {
      outsidePools++;
      if (opts.showProblemIps || opts.showAllIps) say(`  ${ip} in use by ${list[0].name} is not in any active IP pool`);
    } else if (!allocated.has(ip)) {
      unallocatedInUse++;
      if (opts.showProblemIps || opts.showAllIps) say(`  ${ip} in use by ${list[0].name} has no IPAM allocation`);
    }
  }
  say(`Found ${multiOwner} IPs with multiple owners.`);
  say(`Found ${outsidePools} in-use IPs that are not in active IP pools.`);
  say(`Found ${unallocatedInUse} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`);
  say();

  say('Scanning for IPAM handles with no matching IPs...');
  const handles = await store.listHandles();
  const handlesInBlocks = new Set(allocations.map(({ a }) => a.handle).filter((h): h is string => Boolean(h)));
  for (const h of handles) {
    if (!handlesInBlocks.has(h.id)) report.leakedHandles.push({ id: h.id, revision: String(h.revision) });
  }
  say(
    `Found ${report.leakedHandles.length} handles with no matching IPs (and ${handles.length - report.leakedHandles.length} handles with matching IPs).`,
  );
  const handleIds = new Set(handles.map((h) => h.id));
  const missingHandles = [...handlesInBlocks].filter((h) => !handleIds.has(h));
  say('Scanning for IPs with missing handle...');
  say(`Found ${missingHandles.length} handles mentioned in blocks with no matching handle resource.`);
  say();

  say('Scanning for invalid blocks...');
  let invalid = 0;
  for (const b of blocks) {
    const p = blockProblems(b.value, nowMs);
    if (p.length) {
      invalid++;
      for (const x of p) say(`  ${x}`);
    }
  }
  say(`Found ${invalid} invalid IPAM blocks.`);

  say('Scanning for affinities of nodes that no longer exist...');
  let goneAffinities = 0;
  for (const aff of await store.listAffinities()) {
    if (!nodes.has(aff.host)) {
      goneAffinities++;
      say(`  block ${aff.cidr} is affine to ${aff.host}, which does not exist`);
    }
  }
  say(`Found ${goneAffinities} block affinities of nodes that no longer exist.`);
  const top = [...perNode.entries()].sort((x, y) => y[1] - x[1]).slice(0, 20);
  if (top.length) {
    say('Looking for top (up to 20) nodes by allocations...');
    for (const [n, c] of top) say(`  ${n || '<no node>'} has ${c} allocations`);
  }
  const problems = leaks + outsidePools + unallocatedInUse + report.leakedHandles.length + invalid;
  say(`Check complete; found ${problems} problems.`);
  return { report, problems, lines };
}

/** JSON with bigint sequence numbers written as plain numbers (as Calico's uint64 fields). */
export function encodeCheckReport(report: IpamCheckReport): string {
  const text = JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? `__bigint__${v.toString()}` : v), 2);
  return text.replace(/"__bigint__(\d+)"/g, '$1') + '\n';
}

/** Reads a report file; sequence numbers are parsed exactly. */
export function decodeCheckReport(text: string): IpamCheckReport {
  const quoted = text.replace(/("sequenceNumber"\s*:\s*)(\d+)/g, '$1"$2"');
  const raw = JSON.parse(quoted) as IpamCheckReport;
  for (const list of Object.values(raw.allocations ?? {})) {
    for (const a of list)
      a.sequenceNumber =
        a.sequenceNumber === null || a.sequenceNumber === undefined
          ? null
          : BigInt(a.sequenceNumber as unknown as string);
  }
  raw.leakedHandles ??= [];
  return raw;
}
