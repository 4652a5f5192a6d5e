// Leak garbage collection, as kube-controllers' IPAM controller runs it: each scan compares every allocation with a
// liveness view (pods / workload endpoints / node tunnel addresses). An allocation that is not live becomes a
// candidate; only if it is still the same allocation (handle + sequence number) and still not live after the grace
// period (default 15 minutes) is it released — conditionally, so an address re-used meanwhile is never taken. A pod
// being set up (allocated, endpoint not written yet) is therefore never robbed. Allocations on nodes that no longer
// exist are confirmed at once, and such a node's affinities are released once its blocks are empty. Only pod
// addresses and tunnel addresses are ever collected, as Calico (other allocations have no owner to check).
//   scan(): allocations + liveness + clock -> releases (CAS) + LeakScanResult
import type { Datastore } from '../datastore/types.js';
import { resourcePrefix } from '../datastore/keys.js';
import { formatIp, isIp, parseIp } from '../net/ip.js';
import type { AllocationInfo, IpamClient } from './client.js';
import { ReleaseConflictError } from './core/block.js';

export const DEFAULT_LEAK_GRACE_PERIOD_MS = 15 * 60_000;

/** Tells whether an allocation's owner still exists and uses the address. */
export interface AllocationLiveness {
  isLive(a: AllocationInfo): boolean;
  /** Whether the node still exists (allocations of missing nodes are confirmed leaks at once). */
  nodeExists(node: string): boolean;
}

export interface LeakScanResult {
  allocations: number;
  /** Not live, waiting for the grace period. */
  candidates: string[];
  /** Released in this scan. */
  released: string[];
  /** Nodes whose affinities were released because the node is gone. */
  nodesCleaned: string[];
}

interface Candidate {
  firstSeen: number;
  handleId: string | null;
  sequenceNumber?: bigint;
}

const identity = (a: AllocationInfo): string => `${a.ip}|${a.handleId ?? ''}|${a.sequenceNumber ?? ''}`;

export class LeakCollector {
  private readonly candidates = new Map<string, Candidate>();
  private readonly gracePeriodMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ipam: IpamClient,
    opts: { gracePeriodMs?: number; now?: () => number } = {},
  ) {
    this.gracePeriodMs = opts.gracePeriodMs ?? DEFAULT_LEAK_GRACE_PERIOD_MS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * One reconciliation pass, classifying allocations as Calico's kube-controllers do (node/ipam.go checkAllocations):
   * - a pod's address (pod and namespace attributes) that is not live is a candidate, confirmed after the grace
   *   period, or at once when its node is gone;
   * - a tunnel address is released only with its node: the node is gone and holds no live or unclassified address;
   * - any other allocation (no pod attributes, no tunnel type) is never collected here, and keeps its node's
   *   affinities (Calico: "IP allocation on node is from an unknown source").
   * A gone node whose addresses are all leaks (or none) then has its affinities released, empty blocks only.
   */
  async scan(liveness: AllocationLiveness): Promise<LeakScanResult> {
    const allocations = await this.ipam.listAllocations();
    const now = this.now();
    const result: LeakScanResult = { allocations: allocations.length, candidates: [], released: [], nodesCleaned: [] };
    const seen = new Set<string>();
    const goneNodes = new Set<string>();
    // Gone nodes that still hold a live or unclassified allocation: not cleaned up yet.
    const keptNodes = new Set<string>();
    const tunnels: AllocationInfo[] = [];
    const confirmed: { a: AllocationInfo; c: Candidate }[] = [];
    for (const a of allocations) {
      const node = a.attrs.node ?? '';
      const nodeGone = Boolean(node) && !liveness.nodeExists(node);
      if (nodeGone) goneNodes.add(node);
      if (isTunnelAddress(a)) {
        tunnels.push(a);
        continue;
      }
      if (!isPodAddress(a)) {
        keptNodes.add(node);
        continue;
      }
      const id = identity(a);
      seen.add(id);
      if (liveness.isLive(a)) {
        keptNodes.add(node);
        this.candidates.delete(id);
        continue;
      }
      let c = this.candidates.get(id);
      if (!c) {
        c = { firstSeen: now, handleId: a.handleId, sequenceNumber: a.sequenceNumber };
        this.candidates.set(id, c);
      }
      // leakGracePeriod 0 disables leak release, except for allocations of nodes that are gone.
      if (nodeGone || (this.gracePeriodMs > 0 && now - c.firstSeen >= this.gracePeriodMs)) confirmed.push({ a, c });
      else result.candidates.push(a.ip);
    }
    for (const a of tunnels) {
      const node = a.attrs.node ?? '';
      if (goneNodes.has(node) && !keptNodes.has(node)) {
        confirmed.push({ a, c: { firstSeen: now, handleId: a.handleId, sequenceNumber: a.sequenceNumber } });
      }
    }
    for (const { a, c } of confirmed) {
      try {
        const un = await this.ipam.releaseIps([
          { ip: a.ip, handleId: c.handleId ?? undefined, sequenceNumber: c.sequenceNumber },
        ]);
        if (un.length === 0) result.released.push(a.ip);
      } catch (e) {
        if (!(e instanceof ReleaseConflictError)) throw e;
      }
      this.candidates.delete(identity(a));
    }
    // Forget candidates whose allocation went away or changed.
    for (const id of this.candidates.keys()) if (!seen.has(id)) this.candidates.delete(id);
    for (const node of goneNodes) {
      if (keptNodes.has(node)) continue;
      await this.ipam.releaseHostAffinities(node, true);
      result.nodesCleaned.push(node);
    }
    // Affinities of nodes that are gone and hold no allocation at all.
    for (const aff of await this.ipam.store.listAffinities()) {
      if (!liveness.nodeExists(aff.host) && !goneNodes.has(aff.host)) {
        await this.ipam.releaseHostAffinities(aff.host, true);
        goneNodes.add(aff.host);
        result.nodesCleaned.push(aff.host);
      }
    }
    return result;
  }
}

const TUNNEL_TYPES = new Set([
  'ipipTunnelAddress',
  'vxlanTunnelAddress',
  'vxlanV6TunnelAddress',
  'wireguardTunnelAddress',
  'wireguardV6TunnelAddress',
]);

const isTunnelAddress = (a: AllocationInfo): boolean => TUNNEL_TYPES.has(a.attrs.type ?? '');
const isPodAddress = (a: AllocationInfo): boolean => Boolean(a.attrs.pod) && Boolean(a.attrs.namespace);

/**
 * Liveness from the datastore alone (etcd mode): an allocation is live when a WorkloadEndpoint lists its address or a
 * Node carries it as a tunnel address; tunnel allocations are live while their node exists.
 */
export async function datastoreLiveness(ds: Datastore): Promise<AllocationLiveness> {
  const inUse = new Set<string>();
  for (const kv of (await ds.list(resourcePrefix('WorkloadEndpoint'))).items) {
    for (const net of JSON.parse(kv.value)?.spec?.ipNetworks ?? []) {
      const ip = String(net).split('/')[0];
      if (isIp(ip)) inUse.add(formatIp(parseIp(ip)));
    }
  }
  const nodes = new Set<string>();
  for (const kv of (await ds.list(resourcePrefix('Node'))).items) {
    const n = JSON.parse(kv.value);
    nodes.add(n?.metadata?.name);
    const s = n?.spec ?? {};
    for (const ip of [
      s.ipv4VXLANTunnelAddr,
      s.ipv6VXLANTunnelAddr,
      s.bgp?.ipv4IPIPTunnelAddr,
      s.wireguard?.interfaceIPv4Address,
      s.wireguard?.interfaceIPv6Address,
    ]) {
      if (typeof ip === 'string' && isIp(ip)) inUse.add(formatIp(parseIp(ip)));
    }
  }
  return {
    isLive: (a) => inUse.has(a.ip) || (Boolean(a.attrs.type) && nodes.has(a.attrs.node ?? '')),
    nodeExists: (n) => nodes.has(n),
  };
}
