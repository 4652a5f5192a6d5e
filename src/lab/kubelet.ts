// The lab's kubelet, one per node, running inside the node's namespace: watches the API server for pods bound to its
// node and gives each a network namespace, a CNI ADD exactly as kubelet makes it, and a resident agent serving the
// pod's container ports; a deleted pod gets CNI DEL and its namespace removed.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { run } from '../common/exec.js';
import { deleteNetns } from './network.js';
import { cniAdd, cniDel, resultIps, type ConfList } from './cni-exec.js';
import { listPodRecords, readPodRecord, removePodRecord, writePodRecord, type PodRecord } from './pod-record.js';
import path from 'node:path';

export interface KubeletOptions {
  labDir: string;
  nodeName: string;
  kubeconfig: string;
  conflistFile: string;
  cniPath: string[];
  /** Environment the CNI plugins get (the node's host-path overrides and datastore settings). */
  cniEnv: Record<string, string>;
  podNetnsPrefix: string;
  /** argv that runs `calico-lab pod-agent` (node + script). */
  podAgentCommand: string[];
  log: (msg: string) => void;
}

const DEFAULT_PORTS: PodRecord['ports'] = [80, 81].flatMap((port) => [
  { port, protocol: 'TCP' as const },
  { port, protocol: 'UDP' as const },
]);

function podPorts(pod: k8s.V1Pod): PodRecord['ports'] {
  const declared = (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((p) => ({
      port: p.containerPort,
      protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP',
      name: p.name,
    })),
  );
  return declared.length ? declared : DEFAULT_PORTS;
}

export function podNetnsName(prefix: string, namespace: string, name: string): string {
  return `${prefix}pod-${namespace}-${name}`;
}

export class LabKubelet {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly core: k8s.CoreV1Api;
  private readonly kc = new k8s.KubeConfig();

  constructor(private readonly opts: KubeletOptions) {
    this.kc.loadFromFile(opts.kubeconfig);
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
  }

  async start(): Promise<void> {
    const informer = k8s.makeInformer(this.kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    const mine = (pod: k8s.V1Pod) => pod.spec?.nodeName === this.opts.nodeName;
    informer.on('add', (pod) => mine(pod) && !pod.metadata?.deletionTimestamp && this.enqueue(pod, 'add'));
    informer.on('update', (pod) => mine(pod) && pod.metadata?.deletionTimestamp && this.enqueue(pod, 'delete'));
    informer.on('delete', (pod) => mine(pod) && this.enqueue(pod, 'delete'));
    informer.on('error', (err: unknown) => {
      this.opts.log(`pod watch failed: ${String(err)}; restarting in 1s`);
      setTimeout(() => void informer.start(), 1000);
    });
    await informer.start();
    // Pods deleted while the kubelet was away.
    const live = new Set(informer.list().map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
    for (const rec of listPodRecords(this.opts.labDir)) {
      if (rec.node === this.opts.nodeName && !live.has(`${rec.namespace}/${rec.name}`)) {
        this.enqueue({ metadata: { namespace: rec.namespace, name: rec.name } }, 'delete');
      }
    }
  }

  /** Serialises work per pod, so an ADD and a DEL of one pod never overlap. */
  private enqueue(pod: k8s.V1Pod, what: 'add' | 'delete'): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const prev = this.pending.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => (what === 'add' ? this.setUp(pod) : this.tearDown(pod)))
      .catch((e: unknown) => this.opts.log(`${what} ${key}: ${e instanceof Error ? e.message : String(e)}`));
    this.pending.set(key, next);
  }

  private conflist(): ConfList {
    return JSON.parse(readFileSync(this.opts.conflistFile, 'utf8')) as ConfList;
  }

  private async setUp(pod: k8s.V1Pod): Promise<void> {
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    if (readPodRecord(this.opts.labDir, namespace, name)) return;
    const netns = podNetnsName(this.opts.podNetnsPrefix, namespace, name);
    const containerId = randomBytes(32).toString('hex');
    const controlSocket = path.join(this.opts.labDir, 'pods', namespace, `${name}.sock`);
    const ports = podPorts(pod);
    const rec: PodRecord = {
      namespace,
      name,
      node: this.opts.nodeName,
      netns,
      containerId,
      ips: [],
      ports,
      controlSocket,
    };
    writePodRecord(this.opts.labDir, rec); // recorded before anything exists, so a crash leaves a trace to clean
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const rt = this.runtime(rec);
    const result = await cniAdd(this.conflist(), rt);
    rec.cniResult = result;
    writePodRecord(this.opts.labDir, rec); // the CNI result, for DEL, before anything else can fail
    await this.startPodAgent(rec);
    // Addresses are published last: a pod with addresses in its record is one the probe can use.
    rec.ips = resultIps(result);
    writePodRecord(this.opts.labDir, rec);
    await this.reportPodIps(namespace, name, rec.ips);
    this.opts.log(`pod ${namespace}/${name} up: ${rec.ips.join(',')} in ${netns}`);
  }

  private async tearDown(pod: k8s.V1Pod): Promise<void> {
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const rec = readPodRecord(this.opts.labDir, namespace, name);
    if (!rec) return;
    try {
      await cniDel(this.conflist(), this.runtime(rec), rec.cniResult);
    } finally {
      await deleteNetns(rec.netns);
      removePodRecord(this.opts.labDir, namespace, name);
    }
    this.opts.log(`pod ${namespace}/${name} removed`);
  }

  private runtime(rec: PodRecord) {
    return {
      containerId: rec.containerId,
      netns: `/var/run/netns/${rec.netns}`,
      ifName: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${rec.namespace};K8S_POD_NAME=${rec.name};K8S_POD_INFRA_CONTAINER_ID=${rec.containerId}`,
      cniPath: this.opts.cniPath,
      env: this.opts.cniEnv,
    };
  }

  /** Starts the pod's agent and resolves once its control socket answers. */
  private async startPodAgent(rec: PodRecord): Promise<void> {
    const served = rec.ports.filter((p) => p.protocol !== 'SCTP').map((p) => `${p.port}/${p.protocol}`);
    const [program, ...args] = this.opts.podAgentCommand;
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        rec.netns,
        program!,
        ...args,
        'pod-agent',
        '--socket',
        rec.controlSocket,
        ...served.flatMap((p) => ['--port', p]),
      ],
      { detached: true, stdio: 'ignore' },
    );
    child.unref();
    const deadline = Date.now() + 10_000;
    while (!existsSync(rec.controlSocket)) {
      if (Date.now() > deadline) throw new Error(`the pod agent of ${rec.namespace}/${rec.name} did not start`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async reportPodIps(namespace: string, name: string, ips: string[]): Promise<void> {
    if (!ips.length) return;
    try {
      await this.core.patchNamespacedPodStatus(
        { namespace, name, body: { status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    } catch (e) {
      this.opts.log(`could not report pod IPs of ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
