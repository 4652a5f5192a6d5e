// A policy test world: one node namespace (nothing linked to the root namespace) with pods made by hand with
// Calico's veth recipe (host side `tp…`, FELIX_INTERFACEPREFIX=tp), datastore records in Calico's format, and the
// agent running in this process with nft executed inside the node namespace. TCP servers in pods are socat
// processes killed by PID; teardown() removes namespaces, processes and temp files, also after failures.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startAgent, type Agent } from '../../../src/agent/agent.js';
import { NftCommandRunner } from '../../../src/agent/dataplane/nft-runner.js';
import { resourceKey } from '../../../src/datastore/keys.js';
import { MemoryDatastore } from '../../../src/datastore/memory.js';
import type { Datastore } from '../../../src/datastore/types.js';
import { plugHandmadePod } from '../../support/handmade-pod.js';

export const sh = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
export const nsExec = (ns: string, ...args: string[]): string => sh('ip', ['netns', 'exec', ns, ...args]);

export const NODE_NAME = 'tp-node';
export const NODE_IP = '172.31.255.1';

export interface Pod {
  name: string;
  namespace: string;
  netns: string;
  ip: string;
  hostIf: string;
  labels: Record<string, string>;
}

export class PolicyWorld {
  readonly node: string;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'tp-policy-'));
  readonly pods = new Map<string, Pod>();
  agent: Agent | undefined;
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private podCount = 0;

  constructor(
    readonly tag: string,
    public ds: Datastore = new MemoryDatastore(),
  ) {
    this.node = `tp-${tag}-n`;
  }

  setup(): void {
    this.teardownNamespaces(); // leftovers of an interrupted run
    this.addNs(this.node);
    nsExec(this.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // The node's own address (a real node has one on eth0): the source of host-to-pod traffic.
    sh('ip', ['-n', this.node, 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
  }

  private addNs(ns: string): void {
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** Creates the pod's namespace and veth and writes its WorkloadEndpoint (unless `noEndpoint`). */
  async addPod(
    name: string,
    ip: string,
    labels: Record<string, string> = {},
    opts: { namespace?: string; ports?: { name: string; protocol: string; port: number }[]; noEndpoint?: boolean } = {},
  ): Promise<Pod> {
    const namespace = opts.namespace ?? 'default';
    const netns = `tp-${this.tag}-p${++this.podCount}`;
    const hostIf = `tp${this.tag.slice(0, 4)}${this.podCount}`;
    this.addNs(netns);
    const n = this.node;
    plugHandmadePod(n, netns, hostIf, ip);
    const pod: Pod = { name, namespace, netns, ip, hostIf, labels };
    this.pods.set(name, pod);
    if (!opts.noEndpoint) await this.putEndpoint(pod, opts.ports);
    return pod;
  }

  wepName(pod: Pod): string {
    const dbl = (s: string): string => s.replace(/-/g, '--');
    return `${dbl(NODE_NAME)}-k8s-${dbl(pod.name)}-eth0`;
  }

  async putEndpoint(pod: Pod, ports?: { name: string; protocol: string; port: number }[]): Promise<void> {
    await this.put({
      kind: 'WorkloadEndpoint',
      metadata: { name: this.wepName(pod), namespace: pod.namespace, labels: pod.labels },
      spec: {
        node: NODE_NAME,
        orchestrator: 'k8s',
        pod: pod.name,
        endpoint: 'eth0',
        interfaceName: pod.hostIf,
        ipNetworks: [`${pod.ip}/32`],
        profiles: [`kns.${pod.namespace}`],
        ...(ports ? { ports } : {}),
      },
    });
  }

  /** Writes a v3 resource (apiVersion added) at Calico's key. */
  async put(resource: {
    kind: string;
    metadata: { name: string; namespace?: string; [k: string]: unknown };
    spec: unknown;
  }): Promise<void> {
    const key = resourceKey(resource.kind, resource.metadata.name, resource.metadata.namespace);
    await this.ds.put(key, JSON.stringify({ apiVersion: 'projectcalico.org/v3', ...resource }));
  }

  async del(kind: string, name: string, namespace?: string): Promise<void> {
    await this.ds.delete(resourceKey(kind, name, namespace));
  }

  /** The allow-all namespace profile a Kubernetes namespace gets. */
  async putNamespaceProfile(namespace: string, labels: Record<string, string> = {}): Promise<void> {
    // As kube-controllers writes it: namespace labels prefixed `pcns.` (policy.md §1.4).
    const labelsToApply: Record<string, string> = { 'pcns.projectcalico.org/name': namespace };
    for (const [k, v] of Object.entries(labels)) labelsToApply[`pcns.${k}`] = v;
    await this.put({
      kind: 'Profile',
      metadata: { name: `kns.${namespace}` },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply },
    });
  }

  async startAgent(env: Record<string, string> = {}): Promise<Agent> {
    this.agent = await startAgent({
      nodeName: NODE_NAME,
      datastore: this.ds,
      env: { FELIX_INTERFACEPREFIX: 'tp', FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Accept', ...env },
      logger: pino({ level: process.env.TP_LOG ? 'debug' : 'silent' }, process.stderr),
      nftRunner: new NftCommandRunner(['ip', 'netns', 'exec', this.node]),
      endpointStatusDir: path.join(this.dir, 'endpoint-status'),
      health: { host: '127.0.0.1', port: 0 },
      metrics: { host: '127.0.0.1', port: 0 },
      batchDelayMs: 2,
      retryDelayMs: 100,
      datastoreCheckMs: 300,
    });
    await this.agent.whenProgrammed();
    return this.agent;
  }

  /** Waits until the kernel reflects every datastore write made so far. */
  async settle(timeoutMs = 5000): Promise<void> {
    const target = await this.ds.currentRevision();
    const deadline = Date.now() + timeoutMs;
    while (this.agent!.programmedRevision() < target) {
      if (Date.now() > deadline) throw new Error(`agent did not program revision ${target} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Starts a TCP server in the pod answering "ok" on each connection. */
  serve(pod: Pod, port: number): void {
    const p = spawn(
      'ip',
      ['netns', 'exec', pod.netns, 'socat', `TCP-LISTEN:${port},fork,reuseaddr`, 'SYSTEM:echo ok'],
      { stdio: 'ignore' },
    );
    this.procs.push(p);
    // wait until listening
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const out = spawnSync('ip', ['netns', 'exec', pod.netns, 'ss', '-Htln', `sport = :${port}`], {
        encoding: 'utf8',
      });
      if (out.stdout.trim()) return;
      spawnSync('sleep', ['0.02']);
    }
    throw new Error(`server on ${pod.name}:${port} did not start`);
  }

  /** True when a TCP connection from `from` to ip:port gets the server's answer within 1 s. */
  canConnect(from: Pod | string, ip: string, port: number): boolean {
    const ns = typeof from === 'string' ? from : from.netns;
    const r = spawnSync('ip', ['netns', 'exec', ns, 'socat', '-T', '1', '-', `TCP:${ip}:${port},connect-timeout=1`], {
      encoding: 'utf8',
      input: '',
      timeout: 4000,
    });
    return r.status === 0 && r.stdout.includes('ok');
  }

  /** Counter of the nft rules whose comment contains `text` (packets summed). */
  ruleCounter(text: string): number {
    const json = JSON.parse(nsExec(this.node, 'nft', '-j', 'list', 'table', 'inet', 'calico')) as {
      nftables: { rule?: { comment?: string; expr: Record<string, any>[] } }[];
    };
    let packets = 0;
    for (const item of json.nftables) {
      if (!item.rule?.comment?.includes(text)) continue;
      for (const e of item.rule.expr) if (e.counter) packets += Number(e.counter.packets);
    }
    return packets;
  }

  track(p: ChildProcess): void {
    this.procs.push(p);
  }

  async teardown(): Promise<void> {
    await this.agent?.stop().catch(() => {});
    for (const p of this.procs) if (p.pid && p.exitCode === null) p.kill('SIGKILL');
    this.teardownNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private teardownNamespaces(): void {
    const existing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    for (const line of existing.split('\n')) {
      const ns = line.split(' ')[0];
      if (ns && ns.startsWith(`tp-${this.tag}-`)) {
        // kill anything still running inside (our socat servers), by PID
        const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
        spawnSync('ip', ['netns', 'del', ns]);
      }
    }
  }
}
