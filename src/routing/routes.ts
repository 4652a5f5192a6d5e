// Makes the kernel match a RoutePlan: the VXLAN device, agent-owned routes (IPv4 and IPv6), VXLAN neighbours and FDB
// entries. Reads the kernel with `ip -j` / `bridge -j`, diffs, and applies the difference in one `ip -batch` (and one
// `bridge -batch`). Only routes with the agent's protocol (and workload routes on cali* devices) are ever removed.
import { run, runStatus } from '../common/exec.js';
import { parseCidr, formatCidr } from '../net/ip.js';
import {
  AGENT_ROUTE_PROTO,
  WORKLOAD_ROUTE_PROTO,
  type HostFacts,
  type PlannedRoute,
  type RoutePlan,
  type VxlanDevicePlan,
} from './render/route-plan.js';

/** Felix's default mtuIfacePattern: the interfaces whose smallest MTU is the underlay MTU. */
export const MTU_IFACE_PATTERN = /^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)/;

export interface RouteSyncStats {
  added: number;
  removed: number;
}

interface KernelRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
  scope?: string;
}

const PROTO_NAMES: Record<string, number> = { boot: 3, kernel: 2, static: 4, bird: 12, redirect: 1 };
const protoNum = (p: string | undefined): number => (p === undefined ? 0 : (PROTO_NAMES[p] ?? Number(p)));

function normDst(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  return formatCidr(parseCidr(dst));
}

function routeLine(r: PlannedRoute): string {
  const parts = ['route', 'replace'];
  if (r.type === 'blackhole') parts.push('blackhole', r.dst);
  else {
    parts.push(r.dst);
    if (r.via) parts.push('via', r.via);
    if (r.dev) parts.push('dev', r.dev);
    if (r.onlink) parts.push('onlink');
    if (r.scopeLink) parts.push('scope', 'link');
  }
  parts.push('proto', String(r.proto));
  return parts.join(' ');
}

function sameRoute(k: KernelRoute, r: PlannedRoute): boolean {
  if ((k.type === 'blackhole') !== (r.type === 'blackhole')) return false;
  if (r.type === 'blackhole') return true;
  return (
    (k.gateway ?? undefined) === r.via &&
    k.dev === r.dev &&
    !!k.flags?.includes('onlink') === !!r.onlink &&
    protoNum(k.protocol) === r.proto
  );
}

export class RouteSync {
  constructor(
    private readonly netns?: string,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  private ip(args: string[], input?: string): Promise<string> {
    return run('ip', this.netns ? ['-n', this.netns, ...args] : args, { input });
  }

  private bridge(args: string[], input?: string): Promise<string> {
    return run('bridge', this.netns ? ['-n', this.netns, ...args] : args, { input });
  }

  /** Host facts the route plan needs: interfaces, the parent interface of each node address, the underlay MTU. */
  async hostFacts(nodeIPv4?: string, nodeIPv6?: string): Promise<HostFacts> {
    const addrs = JSON.parse(await this.ip(['-j', 'addr', 'show'])) as {
      ifname: string;
      mtu: number;
      addr_info?: { local: string }[];
    }[];
    const owner = (ip?: string): string | undefined =>
      ip ? addrs.find((l) => l.addr_info?.some((a) => a.local === ip))?.ifname : undefined;
    const mtus = addrs.filter((l) => MTU_IFACE_PATTERN.test(l.ifname)).map((l) => l.mtu);
    const tunl = await runStatus('ip', [...(this.netns ? ['-n', this.netns] : []), 'link', 'show', 'tunl0']);
    return {
      parentInterface: owner(nodeIPv4),
      parentInterfaceV6: owner(nodeIPv6),
      underlayMtu: mtus.length ? Math.min(...mtus) : 1500,
      ipipSupported: tunl.code === 0,
      links: new Set(addrs.map((l) => l.ifname)),
    };
  }

  /** Brings the kernel in line with the plan. */
  async apply(plan: RoutePlan): Promise<RouteSyncStats> {
    const stats: RouteSyncStats = { added: 0, removed: 0 };
    for (const dev of plan.vxlan) await this.ensureVxlan(dev);
    if (plan.ipip) await this.ensureIpip(plan.ipip.address, plan.ipip.mtu);
    for (const name of ['vxlan.calico', 'vxlan-v6.calico']) {
      if (!plan.vxlan.some((d) => d.name === name)) await runStatus('ip', [...this.nsArgs(), 'link', 'del', name]);
    }
    const batch: string[] = [];
    for (const family of [4, 6] as const) {
      const kernel = JSON.parse(await this.ip([`-${family}`, '-j', 'route', 'show', 'table', 'main'])) as KernelRoute[];
      const owned = new Map<string, KernelRoute>();
      for (const k of kernel) {
        const p = protoNum(k.protocol);
        const mine = p === AGENT_ROUTE_PROTO || (p === WORKLOAD_ROUTE_PROTO && k.dev?.startsWith('cali'));
        if (mine) owned.set(normDst(k.dst, family), k);
      }
      const wanted = new Map(plan.routes.filter((r) => r.family === family).map((r) => [normDst(r.dst, family), r]));
      for (const [dst, r] of wanted) {
        const k = owned.get(dst);
        if (k && sameRoute(k, r)) continue;
        batch.push(routeLine(r));
        stats.added++;
      }
      for (const [dst, k] of owned) {
        if (wanted.has(dst)) continue;
        const typ = k.type === 'blackhole' ? 'blackhole ' : '';
        batch.push(`route del ${typ}${dst} proto ${protoNum(k.protocol)}${k.dev ? ` dev ${k.dev}` : ''}`);
        stats.removed++;
      }
    }
    await this.syncNeighbors(plan, batch);
    if (batch.length) {
      try {
        await this.ip(['-batch', '-'], batch.join('\n') + '\n');
      } catch (err) {
        this.log(`route batch failed (${String(err)}); retrying line by line`);
        for (const line of batch) {
          await runStatus('ip', [...this.nsArgs(), ...line.split(' ')]);
        }
      }
    }
    await this.syncFdb(plan);
    return stats;
  }

  private nsArgs(): string[] {
    return this.netns ? ['-n', this.netns] : [];
  }

  private async ensureVxlan(d: VxlanDevicePlan): Promise<void> {
    const show = await runStatus('ip', [...this.nsArgs(), '-d', '-j', 'link', 'show', d.name]);
    let ok = false;
    if (show.code === 0) {
      const [l] = JSON.parse(show.stdout) as any[];
      const info = l?.linkinfo?.info_data ?? {};
      ok =
        info.id === d.vni &&
        info.port === d.port &&
        (info.local ?? info.local6) === d.localIP &&
        info.learning === false &&
        l.address === d.mac;
      if (!ok) await this.ip(['link', 'del', d.name]);
      else if (l.mtu !== d.mtu) await this.ip(['link', 'set', d.name, 'mtu', String(d.mtu)]);
    }
    if (!ok) {
      this.log(`creating ${d.name} (VNI ${d.vni}, port ${d.port}, local ${d.localIP} dev ${d.parent})`);
      await this.ip([
        'link',
        'add',
        d.name,
        'type',
        'vxlan',
        'id',
        String(d.vni),
        'dstport',
        String(d.port),
        'local',
        d.localIP,
        'dev',
        d.parent,
        'nolearning',
      ]);
      await this.ip(['link', 'set', d.name, 'address', d.mac, 'mtu', String(d.mtu), 'up']);
    }
    const prefix = d.family === 4 ? 32 : 128;
    const addrs = JSON.parse(await this.ip(['-j', 'addr', 'show', 'dev', d.name])) as any[];
    const have: string[] = (addrs[0]?.addr_info ?? [])
      .filter((a: any) => a.scope !== 'link')
      .map((a: any) => `${a.local}/${a.prefixlen}`);
    for (const a of have) if (a !== `${d.address}/${prefix}`) await this.ip(['addr', 'del', a, 'dev', d.name]);
    if (!have.includes(`${d.address}/${prefix}`))
      await this.ip(['addr', 'add', `${d.address}/${prefix}`, 'dev', d.name]);
    if (addrs[0]?.operstate === 'DOWN') await this.ip(['link', 'set', d.name, 'up']);
  }

  /** tunl0 exists in every namespace once the kernel has ipip; give it the Node's tunnel address and MTU. */
  private async ensureIpip(address: string, mtu: number): Promise<void> {
    const [l] = JSON.parse(await this.ip(['-j', 'addr', 'show', 'dev', 'tunl0'])) as any[];
    if (l.mtu !== mtu) await this.ip(['link', 'set', 'tunl0', 'mtu', String(mtu)]);
    const have: string[] = (l.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`);
    for (const a of have) if (a !== `${address}/32`) await this.ip(['addr', 'del', a, 'dev', 'tunl0']);
    if (!have.includes(`${address}/32`)) await this.ip(['addr', 'add', `${address}/32`, 'dev', 'tunl0']);
    await this.ip(['link', 'set', 'tunl0', 'up']);
  }

  private async syncNeighbors(plan: RoutePlan, batch: string[]): Promise<void> {
    for (const dev of plan.vxlan) {
      const kernel = JSON.parse(await this.ip(['-j', 'neigh', 'show', 'dev', dev.name])) as {
        dst: string;
        lladdr?: string;
        state?: string[];
      }[];
      const wanted = plan.neighbors.filter((n) => n.dev === dev.name);
      for (const n of wanted) {
        const k = kernel.find((x) => x.dst === n.ip);
        if (k && k.lladdr === n.mac && k.state?.includes('PERMANENT')) continue;
        batch.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${dev.name} nud permanent`);
      }
      for (const k of kernel) {
        if (!wanted.some((n) => n.ip === k.dst)) batch.push(`neigh del ${k.dst} dev ${dev.name}`);
      }
    }
  }

  private async syncFdb(plan: RoutePlan): Promise<void> {
    const lines: string[] = [];
    for (const dev of plan.vxlan) {
      const kernel = JSON.parse(await this.bridge(['-j', 'fdb', 'show', 'dev', dev.name])) as {
        mac: string;
        dst?: string;
      }[];
      const wanted = plan.fdb.filter((f) => f.dev === dev.name);
      for (const f of wanted) {
        if (kernel.some((k) => k.mac === f.mac && k.dst === f.dst)) continue;
        lines.push(`fdb replace ${f.mac} dev ${dev.name} dst ${f.dst} self permanent`);
      }
      for (const k of kernel) {
        if (!k.dst) continue;
        if (!wanted.some((f) => f.mac === k.mac && f.dst === k.dst))
          lines.push(`fdb del ${k.mac} dev ${dev.name} dst ${k.dst} self`);
      }
    }
    if (lines.length) await this.bridge(['-batch', '-'], lines.join('\n') + '\n');
  }
}
