// IPAM test fixtures: write IPPools, Nodes and IPReservations as v3 resources, and check the IPAM invariants of a
// datastore (no address held twice, allocations inside blocks, blocks inside pools, reservations never given,
// handles matching blocks, affinities matching blocks).
import type { Datastore } from '../../src/datastore/types.js';
import { resourceKey } from '../../src/datastore/keys.js';
import { IpamStore } from '../../src/ipam/store.js';
import { allocationsOf, blockCidr, blockProblems, affinityHost } from '../../src/ipam/core/block.js';
import { cidrContainsCidr, cidrContainsIp, formatIp, parseCidr } from '../../src/net/ip.js';

export async function putPool(
  ds: Datastore,
  name: string,
  cidr: string,
  spec: Record<string, unknown> = {},
): Promise<void> {
  const res = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...spec } };
  await ds.put(resourceKey('IPPool', name), JSON.stringify(res));
}

export async function putNode(ds: Datastore, name: string, labels: Record<string, string> = {}): Promise<void> {
  const res = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name, labels }, spec: {} };
  await ds.put(resourceKey('Node', name), JSON.stringify(res));
}

export async function putReservation(ds: Datastore, name: string, cidrs: string[]): Promise<void> {
  const res = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPReservation',
    metadata: { name },
    spec: { reservedCIDRs: cidrs },
  };
  await ds.put(resourceKey('IPReservation', name), JSON.stringify(res));
}

export interface IpamSnapshot {
  /** address -> handle */
  owners: Map<string, string | null>;
  violations: string[];
}

/** Reads every IPAM record and returns who holds what plus every broken invariant found. */
export async function checkIpamInvariants(ds: Datastore): Promise<IpamSnapshot> {
  const store = new IpamStore(ds);
  const [blocks, handles, affinities, pools, reservations] = await Promise.all([
    store.listBlocks(),
    store.listHandles(),
    store.listAffinities(),
    store.listPools(),
    store.listReservations(),
  ]);
  const violations: string[] = [];
  const owners = new Map<string, string | null>();
  const handleCounts = new Map<string, Map<string, number>>();
  for (const { value: b } of blocks) {
    violations.push(...blockProblems(b));
    const c = blockCidr(b);
    if (!pools.some((p) => cidrContainsCidr(p.cidr, c))) violations.push(`block ${b.cidr} lies in no pool`);
    for (const a of allocationsOf(b)) {
      const ip = formatIp(a.ip);
      if (!cidrContainsIp(c, a.ip)) violations.push(`${ip} outside its block ${b.cidr}`);
      if (owners.has(ip)) violations.push(`${ip} held twice`);
      owners.set(ip, a.handle);
      if (reservations.isReserved(a.ip)) violations.push(`reserved ${ip} was handed out`);
      if (a.handle) {
        const m = handleCounts.get(a.handle) ?? new Map<string, number>();
        m.set(b.cidr, (m.get(b.cidr) ?? 0) + 1);
        handleCounts.set(a.handle, m);
      }
    }
    const host = affinityHost(b.affinity);
    if (host && !affinities.some((x) => x.host === host && x.cidr === b.cidr)) {
      violations.push(`block ${b.cidr} affine to ${host} has no affinity record`);
    }
  }
  for (const h of handles) {
    const actual = handleCounts.get(h.id) ?? new Map();
    const stored = Object.entries(h.value.block);
    if (stored.length === 0) violations.push(`handle ${h.id} is empty but exists`);
    for (const [cidr, n] of stored) {
      if (actual.get(cidr) !== n)
        violations.push(`handle ${h.id} counts ${n} in ${cidr}, block holds ${actual.get(cidr) ?? 0}`);
    }
    for (const [cidr] of actual) if (!(cidr in h.value.block)) violations.push(`handle ${h.id} misses block ${cidr}`);
  }
  for (const id of handleCounts.keys()) {
    if (!handles.some((h) => h.id === id)) violations.push(`allocations of handle ${id} without a handle record`);
  }
  for (const a of affinities) {
    const b = blocks.find((x) => x.value.cidr === a.cidr);
    if (a.value.state !== 'confirmed') violations.push(`affinity ${a.host} ${a.cidr} left in state ${a.value.state}`);
    if (!b) violations.push(`affinity ${a.host} ${a.cidr} without a block`);
    else if (b.value.affinity !== `host:${a.host}`)
      violations.push(`affinity ${a.host} ${a.cidr} but block says ${b.value.affinity}`);
    if (!pools.some((p) => cidrContainsCidr(p.cidr, parseCidr(a.cidr))))
      violations.push(`affinity ${a.cidr} in no pool`);
  }
  return { owners, violations };
}
