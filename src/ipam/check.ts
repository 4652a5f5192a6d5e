// `calicoctl ipam check`'s analysis: compares every block allocation with the addresses actually in use (workload
// endpoints' ipNetworks and Nodes' IPv4 tunnel addresses) and counts Calico's problems — leaked addresses, in-use
// addresses outside active pools or without an allocation, leaked handles, invalid blocks. Affinities of nodes that
// are gone, addresses with several owners and handles missing as objects are reported but not counted, as Calico.
// The printed lines are Calico's (check.go), in its order; our own checks (cooling, invalid blocks, affinities of
// nodes that are gone) follow Calico's scans, before the closing `Check complete; found N problems.`
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
  /** Who uses the address: `Workload(<ns>/<name>)` or `Node(<name>)`. */
  owners: string[];
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

/** The version a report names when the caller gives none (calicoctl passes its own version, as Calico's does). */
export const CHECK_REPORT_VERSION = 'calico-ts-0.1.0';

/** An address's user, by Calico's friendly name: `Workload(<ns>/<name>)` or `Node(<name>)`. */
type Owner = string;

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
    const name = `Workload(${wep?.metadata?.namespace ?? ''}/${wep?.metadata?.name ?? ''})`;
    for (const net of wep?.spec?.ipNetworks ?? []) {
      const ip = String(net).split('/')[0];
      if (isIp(ip)) {
        add(formatIp(parseIp(ip)), name);
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
        add(formatIp(parseIp(ip)), `Node(${node?.metadata?.name ?? ''})`);
        tunnels++;
      }
    }
  }
  return { owners, weps, tunnels };
}

/** Calico's attribute text in check lines: `Main:<handle> Extra:k=v,k=v` (keys sorted). */
/** A report row for one allocated or cooling address (inUse and owners are filled in once the users are known). */
function reportEntry(
  ip: string,
  a: { handle: string | null; attrs: Record<string, string> },
  node: string,
  blockOwner: string,
  state: Pick<ReportAllocation, 'sequenceNumber' | 'coolingDown'>,
): ReportAllocation {
  return {
    ip,
    handle: a.handle,
    sequenceNumber: state.sequenceNumber,
    pod: a.attrs.pod ?? '',
    namespace: a.attrs.namespace ?? '',
    node,
    type: a.attrs.type ?? '',
    creationTimestamp: a.attrs.timestamp ?? '',
    inUse: false,
    borrowed: node !== blockOwner,
    coolingDown: state.coolingDown,
    owners: [],
  };
}

function attrText(handle: string | null, attrs: Record<string, string>): string {
  const extra = Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${attrs[k]}`)
    .join(',');
  return `Main:${handle ?? '<none>'} Extra:${extra}`;
}

export async function runIpamCheck(
  ds: Datastore,
  opts: { showAllIps?: boolean; showProblemIps?: boolean; now?: () => Date; version?: string } = {},
): Promise<IpamCheckResult> {
  const nowMs = (opts.now ?? (() => new Date()))().getTime();
  const showAll = Boolean(opts.showAllIps);
  const showProblems = showAll || Boolean(opts.showProblemIps);
  const store = new IpamStore(ds);
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  const ci = await ds.get(resourceKey('ClusterInformation', 'default'));
  const ciSpec = ci ? (JSON.parse(ci.value)?.spec ?? {}) : {};
  const report: IpamCheckReport = {
    version: opts.version ?? CHECK_REPORT_VERSION,
    clusterGUID: String(ciSpec.clusterGUID ?? ''),
    datastoreLocked: ciSpec.datastoreReady === false,
    clusterInformationRevision: ci ? String(ci.revision) : '',
    clusterType: String(ciSpec.clusterType ?? ''),
    allocations: {},
    leakedHandles: [],
  };

  say('Checking IPAM for inconsistencies...');
  say();
  say('Loading all IPAM blocks...');
  const blocks = await store.listBlocks();
  say(`Found ${blocks.length} IPAM blocks.`);
  const perNode = new Map<string, number>();
  const handlesInBlocks = new Set<string>();
  const attrTexts = new Map<ReportAllocation, string>();
  let allocationCount = 0;
  let coolingCount = 0;
  for (const { value: b } of blocks) {
    say(` IPAM block ${b.cidr} affinity=${b.affinity ?? '<none>'}:`);
    const owner = affinityHost(b.affinity) ?? '';
    for (const a of allocationsOf(b)) {
      allocationCount++;
      const ip = formatIp(a.ip);
      // As Calico: the allocation's node attribute, else the block's host.
      const node = a.attrs.node || owner;
      if (a.handle) handlesInBlocks.add(a.handle);
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
      const entry = reportEntry(ip, a, node, owner, { sequenceNumber: a.sequenceNumber ?? null, coolingDown: false });
      (report.allocations[ip] ??= []).push(entry);
      attrTexts.set(entry, attrText(a.handle, a.attrs));
      if (showAll) say(`  ${ip} allocated; attrs ${attrTexts.get(entry)}`);
    }
    for (const a of coolingOf(b)) {
      coolingCount++;
      const ip = formatIp(a.ip);
      const node = a.attrs.node || owner;
      (report.allocations[ip] ??= []).push(
        reportEntry(ip, a, node, owner, { sequenceNumber: null, coolingDown: true }),
      );
      if (showAll) say(`  ${ip} released at ${a.releasedAt}, cooling down`);
    }
  }
  say(`IPAM blocks record ${allocationCount} allocations.`);
  if (coolingCount) say(`IPAM blocks record ${coolingCount} released IPs cooling down.`);
  say();
  say('Loading all IPAM pools...');
  const pools = (await store.listPools()).filter(poolServes);
  for (const p of pools) say(`  ${p.cidrText}`);
  say(`Found ${pools.length} active IP pools.`);
  say();

  const { owners, weps, tunnels } = await inUseAddresses(ds);
  const markInUse = (ip: string, list: Owner[]) => {
    if (showAll) for (const o of list) say(`  ${ip} belongs to ${o}`);
    for (const a of report.allocations[ip] ?? []) {
      a.inUse = true;
      a.owners.push(...list);
    }
  };
  say('Loading all nodes.');
  for (const [ip, list] of owners) {
    const nodesUsing = list.filter((o) => o.startsWith('Node('));
    if (nodesUsing.length) markInUse(ip, nodesUsing);
  }
  say(`Found ${tunnels} node tunnel IPs.`);
  say();
  say('Loading all workload endpoints.');
  for (const [ip, list] of owners) {
    const wepsUsing = list.filter((o) => o.startsWith('Workload('));
    if (wepsUsing.length) markInUse(ip, wepsUsing);
  }
  say(`Found ${weps} workload IPs.`);
  say(`Workloads and nodes are using ${owners.size} IPs.`);
  say();

  say('Loading all handles');
  const handles = await store.listHandles();
  say('Looking for top (up to 20) nodes by allocations...');
  const byCount = [...perNode.entries()].sort((x, y) => y[1] - x[1]);
  for (const [n, c] of byCount.slice(0, 20)) say(`  ${n} has ${c} allocations`);
  if (byCount.length) {
    say(`Node with most allocations has ${byCount[0][1]}; median is ${byCount[Math.floor(byCount.length / 2)][1]}`);
  }
  say();

  say('Scanning for IPs that are allocated but not actually in use...');
  let leaks = 0;
  for (const [ip, list] of Object.entries(report.allocations)) {
    const live = list.filter((a) => !a.coolingDown);
    if (!live.length || owners.has(ip)) continue;
    leaks++;
    if (showProblems) {
      for (const a of live) say(`  ${ip} leaked; attrs ${attrTexts.get(a)}`);
    }
  }
  say(`Found ${leaks} IPs that are allocated in IPAM but not actually in use.`);

  say('Scanning for IPs that are in use by a workload or node but not allocated in IPAM...');
  let outsidePools = 0;
  let unallocatedInUse = 0;
  for (const [ip, list] of owners) {
    // Several owners of one address is printed (with the problem IPs) but not counted, as Calico; the report's
    // owners list names them all.
    if (showProblems && list.length > 1) say(`  ${ip} has multiple owners.`);
    if ((report.allocations[ip] ?? []).some((a) => !a.coolingDown)) continue;
    if (!poolContaining(pools, parseIp(ip))) {
      outsidePools++;
      if (showProblems) for (const o of list) say(`  ${ip} in use by ${o} is not in any active IP pool.`);
    } else {
      unallocatedInUse++;
      if (showProblems)
        for (const o of list) say(`  ${ip} in use by ${o} and in active IPAM pool but has no IPAM allocation.`);
    }
  }
  say(`Found ${outsidePools} in-use IPs that are not in active IP pools.`);
  say(`Found ${unallocatedInUse} in-use IPs that are in active IP pools but have no corresponding IPAM allocation.`);
  say();

  say('Scanning for IPAM handles with no matching IPs...');
  for (const h of handles) {
    if (handlesInBlocks.has(h.id)) continue;
    if (showAll) say(`  ${h.id} doesn't have any active IPs.`);
    report.leakedHandles.push({ id: h.id, revision: String(h.revision) });
  }
  say(
    `Found ${report.leakedHandles.length} handles with no matching IPs (and ${handles.length - report.leakedHandles.length} handles with matches).`,
  );
  const handleIds = new Set(handles.map((h) => h.id));
  say('Scanning for IPs with missing handle...');
  const missingHandles = [...handlesInBlocks].filter((h) => !handleIds.has(h));
  if (showProblems) for (const h of missingHandles) say(`  ${h} is in use in a block but doesn't exist.`);
  say(`Found ${missingHandles.length} handles mentioned in blocks with no matching handle resource.`);

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
  const nodes = await store.listNodeNames();
  let goneAffinities = 0;
  for (const aff of await store.listAffinities()) {
    if (!nodes.has(aff.host)) {
      goneAffinities++;
      say(`  block ${aff.cidr} is affine to ${aff.host}, which does not exist`);
    }
  }
  say(`Found ${goneAffinities} block affinities of nodes that no longer exist.`);
  const problems = leaks + outsidePools + unallocatedInUse + report.leakedHandles.length + invalid;
  say(`Check complete; found ${problems} problems.`);
  return { report, problems, lines };
}

/**
 * The report file as Calico's calicoctl writes it (json.MarshalIndent of its Report): empty allocation fields and a
 * false `borrowed` left out, sequence numbers as plain (uint64) numbers, leaked handles as `{ID, UID, Revision}`
 * (Calico's HandleInfo has no JSON tags) and left out when there are none.
 */
export function encodeCheckReport(report: IpamCheckReport): string {
  const allocations: Record<string, unknown[]> = {};
  for (const [ip, list] of Object.entries(report.allocations)) {
    allocations[ip] = list.map((a) => {
      const o: Record<string, unknown> = { ip: a.ip };
      if (a.handle) o.handle = a.handle;
      if (a.sequenceNumber !== null) o.sequenceNumber = `__bigint__${a.sequenceNumber.toString()}`;
      if (a.pod) o.pod = a.pod;
      if (a.namespace) o.namespace = a.namespace;
      if (a.node) o.node = a.node;
      if (a.type) o.type = a.type;
      if (a.creationTimestamp) o.creationTimestamp = a.creationTimestamp;
      o.inUse = a.inUse;
      if (a.borrowed) o.borrowed = true;
      if (a.coolingDown) o.coolingDown = true;
      o.owners = a.owners.length ? a.owners : null;
      return o;
    });
  }
  const out: Record<string, unknown> = {
    version: report.version,
    clusterGUID: report.clusterGUID,
    datastoreLocked: report.datastoreLocked,
    clusterInformationRevision: report.clusterInformationRevision,
    clusterType: report.clusterType,
    allocations,
  };
  if (report.leakedHandles.length) {
    out.leakedHandles = report.leakedHandles.map((h) => ({ ID: h.id, UID: null, Revision: h.revision }));
  }
  const text = JSON.stringify(out, null, 2);
  return text.replace(/"__bigint__(\d+)"/g, '$1') + '\n';
}

/** Reads a report file (Calico's or ours); sequence numbers are parsed exactly. */
export function decodeCheckReport(text: string): IpamCheckReport {
  const quoted = text.replace(/("sequenceNumber"\s*:\s*)(\d+)/g, '$1"$2"');
  const raw = JSON.parse(quoted) as Record<string, unknown>;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('report: not a JSON object');
  const allocations: Record<string, ReportAllocation[]> = {};
  const rawAllocations = (raw.allocations ?? {}) as Record<string, Record<string, unknown>[] | null>;
  for (const [ip, list] of Object.entries(rawAllocations)) {
    allocations[ip] = (list ?? []).map((a) => ({
      ip: String(a.ip ?? ip),
      handle: typeof a.handle === 'string' && a.handle ? a.handle : null,
      sequenceNumber:
        a.sequenceNumber === null || a.sequenceNumber === undefined ? null : BigInt(a.sequenceNumber as string),
      pod: String(a.pod ?? ''),
      namespace: String(a.namespace ?? ''),
      node: String(a.node ?? ''),
      type: String(a.type ?? ''),
      creationTimestamp: String(a.creationTimestamp ?? ''),
      inUse: a.inUse === true,
      borrowed: a.borrowed === true,
      coolingDown: a.coolingDown === true,
      owners: Array.isArray(a.owners) ? a.owners.map(String) : [],
    }));
  }
  const leakedHandles = ((raw.leakedHandles ?? []) as Record<string, unknown>[]).map((h) => ({
    id: String(h.ID ?? h.id ?? ''),
    revision: String(h.Revision ?? h.revision ?? ''),
  }));
  return {
    version: String(raw.version ?? ''),
    clusterGUID: String(raw.clusterGUID ?? ''),
    datastoreLocked: raw.datastoreLocked === true,
    clusterInformationRevision: String(raw.clusterInformationRevision ?? ''),
    clusterType: String(raw.clusterType ?? ''),
    allocations,
    leakedHandles,
  };
}
