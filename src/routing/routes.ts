// Makes the kernel match a RoutePlan: the VXLAN device, agent-owned routes (IPv4 and IPv6), VXLAN neighbours and FDB
// entries. Keeps a model of what it applied, diffs each plan against it and applies the difference in one `ip -batch`
// (and one `bridge -batch`); every refresh interval (and after any failure) it re-reads the kernel with `ip -j` /
// `bridge -j` and repairs drift. Only routes with the agent's protocol (and workload routes it planned) are removed.
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

interface AppliedRoute {
  sig: string;
  blackhole: boolean;
  proto: number;
  dev?: string;
}

/** What the agent believes the kernel holds (read on refresh, updated by each batch). */
interface AppliedState {
  routes: Map<string, AppliedRoute>;
  neighbors: Map<string, string>;
  fdb: Set<string>;
  devices: Map<string, string>;
}

const plannedSig = (r: PlannedRoute): string =>
  r.type === 'blackhole'
    ? 'blackhole'
    : `via ${r.via ?? '-'} dev ${r.dev ?? '-'}${r.onlink ? ' onlink' : ''} proto ${r.proto}`;

const kernelSig = (k: KernelRoute): string =>
  k.type === 'blackhole'
    ? 'blackhole'
    : `via ${k.gateway ?? '-'} dev ${k.dev ?? '-'}${k.flags?.includes('onlink') ? ' onlink' : ''} proto ${protoNum(k.protocol)}`;

export interface RouteSyncOptions {
  /** Full re-read of the kernel at least this often (Felix's routeRefreshInterval, 90 s). */
  refreshIntervalMs?: number;
}

export class RouteSync {
  private applied?: AppliedState;
  private appliedAt = 0;
  private facts?: { key: string; at: number; value: HostFacts };
  private ipipSupported?: boolean;
  private readonly refreshMs: number;

  constructor(
    private readonly netns?: string,
    private readonly log: (msg: string) => void = () => {},
    opts: RouteSyncOptions = {},
  ) {
    this.refreshMs = opts.refreshIntervalMs ?? 90_000;
  }

  /** The next apply re-reads the kernel and repairs whatever drifted. */
  requestResync(): void {
    this.applied = undefined;
    this.facts = undefined;
  }

  private ip(args: string[], input?: string): Promise<string> {
    return run('ip', this.netns ? ['-n', this.netns, ...args] : args, { input });
  }

  private bridge(args: string[], input?: string): Promise<string> {
    return run('bridge', this.netns ? ['-n', this.netns, ...args] : args, { input });
  }

  private nsArgs(): string[] {
    return this.netns ? ['-n', this.netns] : [];
  }

  /**
   * Host facts the route plan needs: interfaces, the parent interface of each node address, the underlay MTU.
   * Cached between refreshes unless the addresses change or a wanted interface is not known yet.
   */
  async hostFacts(nodeIPv4?: string, nodeIPv6?: string, wantedLinks: string[] = []): Promise<HostFacts> {
    const key = `${nodeIPv4}|${nodeIPv6}`;
    const f = this.facts;
    if (f && f.key === key && Date.now() - f.at < this.refreshMs && wantedLinks.every((l) => f.value.links.has(l))) {
      return f.value;
    }
    const addrs = JSON.parse(await this.ip(['-j', 'addr', 'show'])) as {
      ifname: string;
      mtu: number;
      addr_info?: { local: string }[];
    }[];
    const owner = (ip?: string): string | undefined =>
      ip ? addrs.find((l) => l.addr_info?.some((a) => a.local === ip))?.ifname : undefined;
    const mtus = addrs.filter((l) => MTU_IFACE_PATTERN.test(l.ifname)).map((l) => l.mtu);
    if (this.ipipSupported === undefined) {
      // With ipip in the kernel, every namespace has a tunl0.
      this.ipipSupported = (await runStatus('ip', [...this.nsArgs(), 'link', 'show', 'tunl0'])).code === 0;
    }
    const value: HostFacts = {
      parentInterface: owner(nodeIPv4),
      parentInterfaceV6: owner(nodeIPv6),
      underlayMtu: mtus.length ? Math.min(...mtus) : 1500,
      ipipSupported: this.ipipSupported,
      links: new Set(addrs.map((l) => l.ifname)),
    };
    this.facts = { key, at: Date.now(), value };
    return value;
  }

  /** Brings the kernel in line with the plan. */
  async apply(plan: RoutePlan): Promise<RouteSyncStats> {
    try {
      return await this.applyOnce(plan);
    } catch (err) {
      // Our model of the kernel was wrong (someone else changed it): re-read it and try once more.
      this.log(`route sync failed (${err instanceof Error ? err.message : String(err)}); re-reading the kernel`);
      return await this.applyOnce(plan);
    }
  }

  private async applyOnce(plan: RoutePlan): Promise<RouteSyncStats> {
    if (!this.applied || Date.now() - this.appliedAt > this.refreshMs) {
      this.applied = await this.readKernel(plan);
      this.appliedAt = Date.now();
    }
    const applied = this.applied;
    const stats: RouteSyncStats = { added: 0, removed: 0 };
    try {
      for (const dev of plan.vxlan) {
        const sig = JSON.stringify(dev);
        if (applied.devices.get(dev.name) === sig) continue;
        await this.ensureVxlan(dev);
        applied.devices.set(dev.name, sig);
        // a re-created device lost its neighbours and FDB entries
        for (const k of [...applied.neighbors.keys()]) if (k.startsWith(`${dev.name} `)) applied.neighbors.delete(k);
        for (const k of [...applied.fdb]) if (k.startsWith(`${dev.name} `)) applied.fdb.delete(k);
      }
      if (plan.ipip && applied.devices.get('tunl0') !== JSON.stringify(plan.ipip)) {
        await this.ensureIpip(plan.ipip.address, plan.ipip.mtu);
        applied.devices.set('tunl0', JSON.stringify(plan.ipip));
      }
      for (const name of ['vxlan.calico', 'vxlan-v6.calico']) {
        if (applied.devices.has(name) && !plan.vxlan.some((d) => d.name === name)) {
          await runStatus('ip', [...this.nsArgs(), 'link', 'del', name]);
          applied.devices.delete(name);
        }
      }

      const batch: string[] = [];
      const wanted = new Map(plan.routes.map((r) => [`${r.family}|${normDst(r.dst, r.family)}`, r]));
      for (const [key, r] of wanted) {
        const sig = plannedSig(r);
        if (applied.routes.get(key)?.sig === sig) continue;
        batch.push(routeLine(r));
        applied.routes.set(key, { sig, blackhole: r.type === 'blackhole', proto: r.proto, dev: r.dev });
        stats.added++;
      }
      for (const [key, k] of [...applied.routes]) {
        if (wanted.has(key)) continue;
        const dst = key.split('|')[1];
        batch.push(
          `route del ${k.blackhole ? 'blackhole ' : ''}${dst} proto ${k.proto}${k.dev ? ` dev ${k.dev}` : ''}`,
        );
        applied.routes.delete(key);
        stats.removed++;
      }

      const wantNeigh = new Map(plan.neighbors.map((n) => [`${n.dev} ${n.ip}`, n.mac]));
      for (const [key, mac] of wantNeigh) {
        if (applied.neighbors.get(key) === mac) continue;
        const [dev, ip] = key.split(' ');
        batch.push(`neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`);
        applied.neighbors.set(key, mac);
      }
      for (const key of [...applied.neighbors.keys()]) {
        if (wantNeigh.has(key)) continue;
        const [dev, ip] = key.split(' ');
        if (plan.vxlan.some((d) => d.name === dev)) batch.push(`neigh del ${ip} dev ${dev}`);
        applied.neighbors.delete(key);
      }
      // -force: one bad line (e.g. a route whose device just vanished) does not stop the others
      if (batch.length) await this.ip(['-force', '-batch', '-'], batch.join('\n') + '\n');

      const wantFdb = new Set(plan.fdb.map((f) => `${f.dev} ${f.mac} ${f.dst}`));
      const fdbLines: string[] = [];
      for (const key of wantFdb) {
        if (applied.fdb.has(key)) continue;
        const [dev, mac, dst] = key.split(' ');
        fdbLines.push(`fdb replace ${mac} dev ${dev} dst ${dst} self permanent`);
        applied.fdb.add(key);
      }
      for (const key of [...applied.fdb]) {
        if (wantFdb.has(key)) continue;
        const [dev, mac, dst] = key.split(' ');
        if (plan.vxlan.some((d) => d.name === dev)) fdbLines.push(`fdb del ${mac} dev ${dev} dst ${dst} self`);
        applied.fdb.delete(key);
      }
      if (fdbLines.length) await this.bridge(['-batch', '-'], fdbLines.join('\n') + '\n');
    } catch (err) {
      this.requestResync(); // our model may be wrong now: re-read the kernel next time
      throw err;
    }
    return stats;
  }

  /** Reads what the kernel holds of ours: owned routes, neighbours and FDB entries of our VXLAN devices. */
  private async readKernel(plan: RoutePlan): Promise<AppliedState> {
    const state: AppliedState = { routes: new Map(), neighbors: new Map(), fdb: new Set(), devices: new Map() };
    const planned = new Set(plan.routes.map((r) => `${r.family}|${normDst(r.dst, r.family)}`));
    for (const family of [4, 6] as const) {
      const kernel = JSON.parse(await this.ip([`-${family}`, '-j', 'route', 'show', 'table', 'main'])) as KernelRoute[];
      for (const k of kernel) {
        const p = protoNum(k.protocol);
        // Workload routes count as ours only when planned: the CNI plugin adds a pod's route before its
        // WorkloadEndpoint reaches us, and that route must not be taken for a stale one.
        const key = `${family}|${normDst(k.dst, family)}`;
        const workload = p === WORKLOAD_ROUTE_PROTO && k.dev?.startsWith('cali') && planned.has(key);
        if (p !== AGENT_ROUTE_PROTO && !workload) continue;
        state.routes.set(key, {
          sig: kernelSig(k),
          blackhole: k.type === 'blackhole',
          proto: p,
          dev: k.dev,
        });
      }
    }
    for (const name of ['vxlan.calico', 'vxlan-v6.calico']) {
      const exists = (await runStatus('ip', [...this.nsArgs(), 'link', 'show', name])).code === 0;
      if (!exists) continue;
      state.devices.set(name, 'unverified');
      const neigh = JSON.parse(await this.ip(['-j', 'neigh', 'show', 'dev', name])) as {
        dst: string;
        lladdr?: string;
        state?: string[];
      }[];
      for (const n of neigh) {
        if (n.state?.includes('PERMANENT') && n.lladdr) state.neighbors.set(`${name} ${n.dst}`, n.lladdr);
        else state.neighbors.set(`${name} ${n.dst}`, 'stale');
      }
      const fdb = JSON.parse(await this.bridge(['-j', 'fdb', 'show', 'dev', name])) as { mac: string; dst?: string }[];
      for (const f of fdb) if (f.dst) state.fdb.add(`${name} ${f.mac} ${f.dst}`);
    }
    if (plan.ipip) state.devices.set('tunl0', 'unverified');
    return state;
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
}
