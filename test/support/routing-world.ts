// A routing test world (system tests and bench/routing): an underlay namespace with a bridge, N node namespaces on
// it (nothing linked to the root namespace), pods made by hand with Calico's veth recipe, datastore records in
// Calico's format in a real etcd, and one RoutingController per node running inside its namespace. teardown()
// removes everything, also after failures.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Datastore } from '../../src/datastore/types.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { openDatastore } from '../../src/datastore/index.js';
import { startEtcd, type TestEtcd } from './etcd.js';
import { resourceKey, blockKey, blockAffinityKey } from '../../src/datastore/keys.js';
import { parseCidr, parseIp } from '../../src/net/ip.js';
import { RoutingController, type NetworkingBackend } from '../../src/routing/controller.js';

export const sh = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
export const shOk = (cmd: string, args: string[]): { code: number; out: string } => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
};
export const ipn = (ns: string, ...args: string[]): string => sh('ip', ['-n', ns, ...args]);
export const nsExec = (ns: string, ...args: string[]): string => sh('ip', ['netns', 'exec', ns, ...args]);

export interface WorldNode {
  name: string;
  ns: string;
  ip: string;
  /** CIDR form. */
  cidr: string;
  /** IPv6 address in CIDR form (worlds built with ipv6). */
  cidr6?: string;
  controller?: RoutingController;
  socket: string;
}

export interface WorldPod {
  name: string;
  ns: string;
  ip: string;
  ip6?: string;
  node: WorldNode;
  hostIf: string;
}

export interface WorldOptions {
  /** Short tag making namespace names unique per test file, e.g. "bgp". */
  tag: string;
  nodes: number;
  /** Put the nodes in two subnets joined by the underlay (which routes between them). */
  twoSubnets?: boolean;
  /** Dual stack: nodes get fd00:31::1N/64 on eth0 (one subnet). */
  ipv6?: boolean;
  /** Where the cluster state lives: a real etcd (default), a SQLite file (shared with programs run inside node
   *  namespaces, which cannot reach etcd on the root namespace's loopback) or the in-memory backend. */
  datastore?: 'etcd' | 'sqlite' | 'memory';
}

export class RoutingWorld {
  /** The cluster datastore: a real etcd by default (`memory` for quick experiments). */
  ds: Datastore = new MemoryDatastore();
  private etcd?: TestEtcd;
  readonly ul: string;
  readonly nodes: WorldNode[] = [];
  readonly pods: WorldPod[] = [];
  readonly dir = mkdtempSync(path.join(tmpdir(), 'tr-routing-'));
  private readonly namespaces: string[] = [];

  constructor(readonly opts: WorldOptions) {
    this.ul = `tr-${opts.tag}-ul`;
  }

  /** Address of node i (1-based): subnet A 172.31.1.0/24, or B 172.31.2.0/24 for even nodes with twoSubnets. */
  private nodeAddr(i: number): { ip: string; cidr: string; gw: string } {
    const subnet = this.opts.twoSubnets && i % 2 === 0 ? 2 : 1;
    return { ip: `172.31.${subnet}.${10 + i}`, cidr: `172.31.${subnet}.${10 + i}/24`, gw: `172.31.${subnet}.1` };
  }

  async build(): Promise<void> {
    this.cleanStale();
    if ((this.opts.datastore ?? 'etcd') === 'etcd') {
      this.etcd = await startEtcd();
      this.ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [this.etcd.endpoint] });
    } else if (this.opts.datastore === 'sqlite') {
      this.ds = await openDatastore({ type: 'sqlite', sqlitePath: this.sqlitePath });
    }
    this.addNs(this.ul);
    ipn(this.ul, 'link', 'add', 'br0', 'type', 'bridge');
    ipn(this.ul, 'link', 'set', 'br0', 'up');
    ipn(this.ul, 'addr', 'add', '172.31.1.1/24', 'dev', 'br0');
    if (this.opts.ipv6) ipn(this.ul, 'addr', 'add', 'fd00:31::1/64', 'dev', 'br0', 'nodad');
    if (this.opts.twoSubnets) ipn(this.ul, 'addr', 'add', '172.31.2.1/24', 'dev', 'br0');
    nsExec(this.ul, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    for (let i = 1; i <= this.opts.nodes; i++) {
      const ns = `tr-${this.opts.tag}-n${i}`;
      this.addNs(ns);
      const a = this.nodeAddr(i);
      ipn(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `tr${this.opts.tag}${i}`, 'netns', this.ul);
      ipn(this.ul, 'link', 'set', `tr${this.opts.tag}${i}`, 'master', 'br0', 'up');
      ipn(ns, 'addr', 'add', a.cidr, 'dev', 'eth0');
      const cidr6 = this.opts.ipv6 ? `fd00:31::${10 + i}/64` : undefined;
      if (cidr6) {
        ipn(ns, 'addr', 'add', cidr6, 'dev', 'eth0', 'nodad');
        nsExec(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
      }
      ipn(ns, 'link', 'set', 'eth0', 'up');
      const other = a.gw.startsWith('172.31.1.') ? '172.31.2.0/24' : '172.31.1.0/24';
      if (this.opts.twoSubnets) ipn(ns, 'route', 'add', other, 'via', a.gw);
      nsExec(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      this.nodes.push({
        name: `node${i}`,
        ns,
        ip: a.ip,
        cidr: a.cidr,
        cidr6,
        socket: path.join(this.dir, `node${i}`, 'bird.ctl'),
      });
    }
  }

  private addNs(ns: string): void {
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    ipn(ns, 'link', 'set', 'lo', 'up');
    // no duplicate address detection: addresses and link-locals are usable at once
    nsExec(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
  }

  /** Namespaces of this tag left by an earlier crashed run. */
  private cleanStale(): void {
    const list = shOk('ip', ['netns', 'list'])
      .out.split('\n')
      .map((l) => l.split(' ')[0]);
    for (const ns of list) if (ns.startsWith(`tr-${this.opts.tag}-`)) shOk('ip', ['netns', 'del', ns]);
  }

  /** An empty pod namespace on a node (for pods the CNI plugin sets up); removed with the world. */
  addPodNamespace(node: WorldNode): string {
    const ns = `${node.ns}p${this.pods.length + 1}`;
    this.addNs(ns);
    return ns;
  }

  /** The SQLite file (worlds with the sqlite datastore). */
  get sqlitePath(): string {
    return path.join(this.dir, 'calico.db');
  }

  /** A pod on a node, Calico style: host side `calitr…` (no address, proxy ARP), /32 route, WEP record. */
  async addPod(node: WorldNode, ip: string, ip6?: string): Promise<WorldPod> {
    const idx = this.pods.length + 1;
    const ns = `${node.ns}p${idx}`;
    const hostIf = `calitr${this.opts.tag.slice(0, 3)}${idx}`;
    this.addNs(ns);
    ipn(node.ns, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ipn(node.ns, 'link', 'set', hostIf, 'address', 'ee:ee:ee:ee:ee:ee', 'up');
    nsExec(node.ns, 'sysctl', '-qw', `net.ipv4.conf.${hostIf}.proxy_arp=1`, `net.ipv4.neigh.${hostIf}.proxy_delay=0`);
    ipn(node.ns, 'route', 'add', `${ip}/32`, 'dev', hostIf, 'scope', 'link');
    ipn(ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0');
    ipn(ns, 'link', 'set', 'eth0', 'up');
    ipn(ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
    ipn(ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
    ipn(ns, 'neigh', 'add', '169.254.1.1', 'dev', 'eth0', 'lladdr', 'ee:ee:ee:ee:ee:ee', 'nud', 'permanent');
    if (ip6) {
      // Calico's IPv6 recipe: default route via the host veth's link-local (from MAC ee:ee:ee:ee:ee:ee)
      const gw6 = 'fe80::ecee:eeff:feee:eeee';
      ipn(node.ns, 'route', 'add', `${ip6}/128`, 'dev', hostIf);
      ipn(ns, 'addr', 'add', `${ip6}/128`, 'dev', 'eth0', 'nodad');
      ipn(ns, 'route', 'add', 'default', 'via', gw6, 'dev', 'eth0');
      ipn(ns, 'neigh', 'add', gw6, 'dev', 'eth0', 'lladdr', 'ee:ee:ee:ee:ee:ee', 'nud', 'permanent');
    }
    const pod: WorldPod = { name: `pod${idx}`, ns, ip, ip6, node, hostIf };
    this.pods.push(pod);
    const wepName = `${node.name}-cni-pod${idx}-eth0`;
    await this.ds.put(
      resourceKey('WorkloadEndpoint', wepName, 'default'),
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'WorkloadEndpoint',
        metadata: { name: wepName, namespace: 'default' },
        spec: {
          node: node.name,
          interfaceName: hostIf,
          ipNetworks: ip6 ? [`${ip}/32`, `${ip6}/128`] : [`${ip}/32`],
          endpoint: 'eth0',
          orchestrator: 'cni',
        },
      }),
    );
    return pod;
  }

  async putResource(
    kind: string,
    name: string,
    spec: Record<string, unknown>,
    labels?: Record<string, string>,
  ): Promise<void> {
    await this.ds.put(
      resourceKey(kind, name),
      JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, labels }, spec }),
    );
  }

  async putNode(
    n: WorldNode,
    extra: { bgp?: Record<string, unknown>; labels?: Record<string, string>; vtep?: string } = {},
  ): Promise<void> {
    const i = Number(n.name.replace('node', ''));
    const spec: Record<string, unknown> = {
      bgp: { ipv4Address: n.cidr, ...(n.cidr6 ? { ipv6Address: n.cidr6 } : {}), ...extra.bgp },
    };
    if (extra.vtep) {
      spec.ipv4VXLANTunnelAddr = extra.vtep;
      spec.vxlanTunnelMACAddr = `66:cc:00:00:00:0${i}`;
    }
    await this.putResource('Node', n.name, spec, extra.labels ?? { 'kubernetes.io/hostname': n.name });
  }

  /** Writes an affine block in Calico's AllocationBlock format; holders maps address -> node holding it. */
  async putBlock(cidr: string, owner: string, holders: Record<string, string> = {}): Promise<void> {
    const c = parseCidr(cidr);
    const size = 1 << ((c.family === 4 ? 32 : 128) - c.prefix);
    const allocations: (number | null)[] = new Array(size).fill(null);
    const attributes: unknown[] = [];
    for (const [ip, node] of Object.entries(holders)) {
      allocations[Number(parseIp(ip).value - c.address)] = attributes.length;
      attributes.push({
        handle_id: `k8s-pod-network.${ip}`,
        secondary: { node, pod: `p-${ip}`, namespace: 'default' },
      });
    }
    await this.ds.put(
      blockKey(cidr),
      JSON.stringify({
        cidr,
        affinity: `host:${owner}`,
        allocations,
        unallocated: allocations.map((a, i) => (a === null ? i : -1)).filter((i) => i >= 0),
        attributes,
        sequenceNumber: 1,
        deleted: false,
      }),
    );
    await this.ds.put(blockAffinityKey(owner, cidr), JSON.stringify({ state: 'confirmed', deleted: false }));
  }

  async startControllers(backend: NetworkingBackend, nodes = this.nodes): Promise<void> {
    await Promise.all(
      nodes.map(async (n) => {
        n.controller = new RoutingController(this.ds, {
          nodeName: n.name,
          backend,
          netns: n.ns,
          birdSocket: n.socket,
          birdConfigDir: path.join(this.dir, n.name),
          secretsDir: path.join(this.dir, 'secrets'),
        });
        await n.controller.start();
      }),
    );
  }

  private readonly nodeProcesses: ChildProcess[] = [];

  /**
   * Runs each node's controller in its own process (test/support/routing-node.ts), as on real nodes, instead of
   * in this one; settle() does not track them. Needs the etcd datastore.
   */
  async startNodeProcesses(backend: NetworkingBackend): Promise<void> {
    const runner = path.join(path.dirname(new URL(import.meta.url).pathname), 'routing-node.ts');
    await Promise.all(
      this.nodes.map(
        (n) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', runner], {
              env: {
                ...process.env,
                ROUTING_NODE: n.name,
                ROUTING_NETNS: n.ns,
                ROUTING_BACKEND: backend,
                ETCD_ENDPOINTS: this.etcd!.endpoint,
                CALICO_BIRD_SOCKET: n.socket,
                CALICO_BIRD_CONFIG_DIR: path.join(this.dir, n.name),
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            this.nodeProcesses.push(child);
            let err = '';
            child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
            child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
            child.once('exit', (code) => reject(new Error(`${n.name} runner exited ${code}: ${err}`)));
          }),
      ),
    );
  }

  /** Waits until every controller finished the syncs caused by the changes so far. */
  async settle(): Promise<void> {
    const rev = await this.ds.currentRevision();
    await waitFor(
      'every controller to see the latest datastore revision',
      () => this.nodes.every((n) => !n.controller || n.controller.seenRevision >= rev),
      10_000,
    );
    await Promise.all(this.nodes.map((n) => n.controller?.idle()));
  }

  async teardown(): Promise<void> {
    await Promise.all(
      this.nodeProcesses.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    for (const n of this.nodes) {
      const pid = n.controller?.bird?.pid;
      await n.controller?.stop().catch(() => {});
      if (pid) shOk('kill', ['-9', String(pid)]);
      shOk('ip', ['-n', n.ns, 'route', 'flush', 'proto', 'bird']);
    }
    killProcessesMentioning(this.dir); // e.g. a BIRD left behind by a calico-node that was SIGKILLed
    for (const ns of this.namespaces.reverse()) shOk('ip', ['netns', 'del', ns]);
    await this.ds.close().catch(() => {});
    await this.etcd?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kills (by PID) every process whose command line contains text — a temporary path unique to one world. */
export function killProcessesMentioning(text: string): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

export const ping = (fromNs: string, ip: string, timeoutS = 1): boolean =>
  shOk('ip', ['netns', 'exec', fromNs, 'ping', '-c', '1', '-W', String(timeoutS), '-q', ip]).code === 0;

/** Pings every pod from every other pod; returns the pairs that failed ("pod1->10.0.0.1"). */
/**
 * The pod pairs that still cannot ping each other after `withinMs`: routes converge asynchronously (BGP sessions,
 * route reflection), so failing pairs are retried until they pass or the time is up.
 */
export async function unreachablePairs(pods: WorldPod[], family: 4 | 6 = 4, withinMs = 10_000): Promise<string[]> {
  const pairs: [WorldPod, WorldPod][] = [];
  for (const a of pods) for (const b of pods) if (a !== b) pairs.push([a, b]);
  const deadline = Date.now() + withinMs;
  let failing = pairs;
  for (;;) {
    const results = await Promise.all(failing.map(([a, b]) => pings(a, b, family)));
    failing = failing.filter((_, i) => !results[i]);
    if (failing.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return failing.map(
    ([a, b]) => `${a.name}(${a.node.name})->${b.name}(${b.node.name}) ${family === 6 ? b.ip6! : b.ip}`,
  );
}

async function pings(a: WorldPod, b: WorldPod, family: 4 | 6): Promise<boolean> {
  const { spawn } = await import('node:child_process');
  const dst = family === 6 ? b.ip6! : b.ip;
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', a.ns, 'ping', `-${family}`, '-c', '1', '-W', '2', '-q', dst], {
      stdio: 'ignore',
    });
    p.on('exit', (code) => resolve(code === 0));
  });
}

/** Polls until check() is true; throws with the description after timeoutMs. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const routesOf = (ns: string): string => ipn(ns, 'route', 'show');
