// Felix's route and VXLAN resolvers for one node: which kernel routes, VXLAN neighbours and FDB entries the agent
// owns (dataplane.md §3). In: RoutingState + node name + host facts (parent interface). Out: a RoutePlan, the desired
// state that routes.ts diffs against the kernel. What BIRD installs for no-encap pools is not part of it. Pure.
import { parseCidr, parseIp, cidrContainsIp, cidrContainsCidr, type IpFamily } from '../../net/ip.js';
import { type RoutingState, type RoutingNode, type RoutingPool, type RoutingBlock, hostIp } from './state.js';

/** Kernel protocol number of agent-programmed routes other than workload routes (Felix's own when that is boot). */
export const AGENT_ROUTE_PROTO = 80;
/** Workload routes keep proto boot (what the CNI plugin adds), so BIRD's kernel `learn` sees them. */
export const WORKLOAD_ROUTE_PROTO = 3;
export const VXLAN_DEVICE_V4 = 'vxlan.calico';
export const VXLAN_DEVICE_V6 = 'vxlan-v6.calico';
export const VXLAN_VNI = 4096;
export const VXLAN_V6_VNI = 6096;
export const VXLAN_PORT = 4789;
/** Encapsulation overheads (dataplane.md §2). */
export const VXLAN_OVERHEAD_V4 = 50;
export const VXLAN_OVERHEAD_V6 = 70;
export const IPIP_OVERHEAD = 20;

export interface PlannedRoute {
  dst: string;
  family: IpFamily;
  type: 'unicast' | 'blackhole';
  dev?: string;
  via?: string;
  onlink?: boolean;
  scopeLink?: boolean;
  proto: number;
}

export interface PlannedNeighbor {
  dev: string;
  ip: string;
  mac: string;
}

export interface PlannedFdb {
  dev: string;
  mac: string;
  dst: string;
}

export interface VxlanDevicePlan {
  name: string;
  family: IpFamily;
  vni: number;
  port: number;
  localIP: string;
  parent: string;
  mac: string;
  address: string;
  mtu: number;
}

export interface IpipDevicePlan {
  name: 'tunl0';
  address: string;
  mtu: number;
}

export interface RoutePlan {
  routes: PlannedRoute[];
  /** tunl0 set-up, only when the kernel has ipip and an IPIP pool exists. */
  ipip?: IpipDevicePlan;
  neighbors: PlannedNeighbor[];
  fdb: PlannedFdb[];
  vxlan: VxlanDevicePlan[];
  /** Why an encapsulation was not set up (e.g. IPIP unsupported by the kernel), for logs and status. */
  notes: string[];
}

export interface HostFacts {
  /** Interface holding the node's IPv4 / IPv6 address (parent of the VXLAN device). */
  parentInterface?: string;
  parentInterfaceV6?: string;
  /** Underlay MTU (smallest host interface MTU). */
  underlayMtu: number;
  /** Kernel has an ipip device type. */
  ipipSupported: boolean;
  /** Interfaces that exist now (workload routes are only planned for these). */
  links: Set<string>;
}

const addrOf = (n: RoutingNode, f: IpFamily): string | undefined => (f === 4 ? n.ipv4Address : n.ipv6Address);
const vtepOf = (n: RoutingNode, f: IpFamily): { ip?: string; mac?: string } =>
  f === 4 ? { ip: n.vxlanTunnelAddr, mac: n.vxlanTunnelMAC } : { ip: n.vxlanTunnelAddrV6, mac: n.vxlanTunnelMACV6 };

function poolFor(pools: RoutingPool[], cidr: string): RoutingPool | undefined {
  const c = parseCidr(cidr);
  return pools.find((p) => cidrContainsCidr(parseCidr(p.cidr), c));
}

function sameSubnet(self: RoutingNode, other: RoutingNode, f: IpFamily): boolean {
  const a = addrOf(self, f);
  const b = hostIp(addrOf(other, f));
  return !!a && !!b && cidrContainsIp(parseCidr(a), parseIp(b));
}

export interface PlanOptions {
  /**
   * BIRD runs and installs the blackholes of blocks in no-encap pools (bird_aggr.cfg's static routes, as Calico);
   * the agent then only blackholes blocks of VXLAN/IPIP pools. Without BIRD the agent blackholes every block.
   */
  birdOwnsNoEncapBlackholes?: boolean;
}

export function planRoutes(state: RoutingState, nodeName: string, host: HostFacts, opts: PlanOptions = {}): RoutePlan {
  const plan: RoutePlan = { routes: [], neighbors: [], fdb: [], vxlan: [], notes: [] };
  const self = state.nodes.find((n) => n.name === nodeName);
  const byName = new Map(state.nodes.map((n) => [n.name, n]));

  // Local workloads: /32 and /128 routes to their host-side veth.
  for (const w of state.workloads) {
    if (!host.links.has(w.interfaceName)) continue;
    for (const net of w.ipNetworks) {
      const c = parseCidr(net);
      plan.routes.push({
        dst: `${hostIp(net)}/${c.family === 4 ? 32 : 128}`,
        family: c.family,
        type: 'unicast',
        dev: w.interfaceName,
        scopeLink: true,
        proto: WORKLOAD_ROUTE_PROTO,
      });
    }
  }

  // Blackhole per affine block: unknown addresses in our blocks are dropped, never forwarded.
  for (const b of state.blocks) {
    const c = parseCidr(b.cidr);
    if (b.affinityHost !== nodeName || c.prefix === (c.family === 4 ? 32 : 128)) continue;
    const pool = poolFor(state.pools, b.cidr);
    const encap = !!pool && (pool.vxlanMode !== 'Never' || pool.ipipMode !== 'Never');
    if (opts.birdOwnsNoEncapBlackholes && !encap) continue;
    plan.routes.push({ dst: b.cidr, family: c.family, type: 'blackhole', proto: AGENT_ROUTE_PROTO });
  }

  if (!self) return plan;
  planIpip(state, self, host, plan);

  for (const f of [4, 6] as const) {
    const vxPools = state.pools.filter((p) => p.family === f && p.vxlanMode !== 'Never');
    if (vxPools.length === 0) continue;
    const own = vtepOf(self, f);
    const localIP = hostIp(addrOf(self, f));
    const parent = f === 4 ? host.parentInterface : host.parentInterfaceV6;
    const dev = f === 4 ? VXLAN_DEVICE_V4 : VXLAN_DEVICE_V6;
    if (!own.ip || !own.mac || !localIP || !parent) {
      plan.notes.push(
        `VXLAN (IPv${f}) not set up: this node has no ${!localIP ? 'address' : !parent ? 'parent interface' : 'VTEP address/MAC'} yet`,
      );
      continue;
    }
    plan.vxlan.push({
      name: dev,
      family: f,
      vni: f === 4 ? VXLAN_VNI : VXLAN_V6_VNI,
      port: VXLAN_PORT,
      localIP,
      parent,
      mac: own.mac,
      address: own.ip,
      mtu: host.underlayMtu - (f === 4 ? VXLAN_OVERHEAD_V4 : VXLAN_OVERHEAD_V6),
    });

    // Remote VTEPs: ARP + FDB for every other node that published one.
    for (const other of state.nodes) {
      if (other.name === nodeName) continue;
      const v = vtepOf(other, f);
      const nodeIP = hostIp(addrOf(other, f));
      if (!v.ip || !v.mac || !nodeIP) continue;
      plan.neighbors.push({ dev, ip: v.ip, mac: v.mac });
      plan.fdb.push({ dev, mac: v.mac, dst: nodeIP });
    }

    const routeTo = (dst: string, target: RoutingNode, pool: RoutingPool): PlannedRoute | undefined => {
      const v = vtepOf(target, f);
      const nodeIP = hostIp(addrOf(target, f));
      if (pool.vxlanMode === 'CrossSubnet' && nodeIP && sameSubnet(self, target, f)) {
        return { dst, family: f, type: 'unicast', via: nodeIP, dev: parent, proto: AGENT_ROUTE_PROTO };
      }
      if (!v.ip || !v.mac || !nodeIP) return undefined;
      return { dst, family: f, type: 'unicast', via: v.ip, dev, onlink: true, proto: AGENT_ROUTE_PROTO };
    };

    for (const b of state.blocks) {
      const pool = poolFor(vxPools, b.cidr);
      if (!pool) continue;
      // The remote owner's whole block.
      const owner = b.affinityHost ? byName.get(b.affinityHost) : undefined;
      if (owner && owner.name !== nodeName) {
        const r = routeTo(b.cidr, owner, pool);
        if (r) plan.routes.push(r);
      }
      // Addresses in this block held by a node other than its owner (borrowed), also inside our own blocks.
      for (const a of borrowedAddresses(b)) {
        if (a.node === nodeName) continue;
        const holder = byName.get(a.node);
        if (!holder) continue;
        const r = routeTo(`${a.ip}/${f === 4 ? 32 : 128}`, holder, pool);
        if (r) plan.routes.push(r);
      }
    }
  }
  return plan;
}

/** IPIP (dataplane.md §3): tunl0 with the Node's IPIP address, remote blocks via the node IP onlink. */
function planIpip(state: RoutingState, self: RoutingNode, host: HostFacts, plan: RoutePlan): void {
  const pools = state.pools.filter((p) => p.family === 4 && p.ipipMode !== 'Never');
  if (pools.length === 0) return;
  if (!host.ipipSupported) {
    plan.notes.push('IPIP pools present but this kernel has no ipip device: tunl0 and IPIP routes not programmed');
    return;
  }
  if (!self.ipipTunnelAddr) {
    plan.notes.push('IPIP not set up: this node has no IPIP tunnel address yet');
    return;
  }
  plan.ipip = { name: 'tunl0', address: self.ipipTunnelAddr, mtu: host.underlayMtu - IPIP_OVERHEAD };
  for (const b of state.blocks) {
    const pool = poolFor(pools, b.cidr);
    const owner = b.affinityHost ? state.nodes.find((n) => n.name === b.affinityHost) : undefined;
    const nodeIP = hostIp(owner?.ipv4Address);
    if (!pool || !owner || owner.name === self.name || !nodeIP) continue;
    const direct = pool.ipipMode === 'CrossSubnet' && sameSubnet(self, owner, 4);
    plan.routes.push(
      direct
        ? { dst: b.cidr, family: 4, type: 'unicast', via: nodeIP, dev: host.parentInterface, proto: AGENT_ROUTE_PROTO }
        : {
            dst: b.cidr,
            family: 4,
            type: 'unicast',
            via: nodeIP,
            dev: 'tunl0',
            onlink: true,
            proto: AGENT_ROUTE_PROTO,
          },
    );
  }
}

/** Allocations whose holder differs from the block's affine node. */
export function borrowedAddresses(b: RoutingBlock): { ip: string; node: string }[] {
  return b.allocations.filter((a): a is { ip: string; node: string } => !!a.node && a.node !== b.affinityHost);
}
