// The node controller: a Kubernetes Node that is deleted takes its Calico Node with it (and, as Calico's Node
// delete does, the node's endpoints, tunnel addresses and block affinities), and the IPAM leak collector
// (src/ipam/gc.ts) releases what is left once its grace period passes.
//   node informer + Calico Node list+watch -> per k8s node name: adopt (orchRef) or delete its Calico Node
//   periodic / after a deletion -> LeakCollector.scan(liveness: WEPs, tunnels, pods and nodes that exist)
// Only Calico Nodes that name a Kubernetes node in spec.orchRefs are deleted; a Calico Node named like an existing
// Kubernetes Node gets that orchRef (as calico-node does on a Kubernetes host), so it is tracked from then on.
import type { Logger } from 'pino';
import type { KubernetesNode, Pod } from '../../api/k8s/types.js';
import type { Resource } from '../../api/resource.js';
import type { ResourceClient } from '../../datastore/resources.js';
import { NotFoundError } from '../../datastore/types.js';
import type { IpamClient } from '../../ipam/client.js';
import { datastoreLiveness, LeakCollector, type AllocationLiveness } from '../../ipam/gc.js';
import { deleteNodeCascade } from '../../ctl/node-delete.js';
import { CalicoWatcher } from './calico-watch.js';
import type { Controller } from './controller.js';
import type { KubeInformer } from './informer.js';
import type { KubeLookup } from './kube-lookup.js';
import type { ControllerMetrics } from './metrics.js';
import { ReconcileQueue } from './queue.js';

export interface NodeControllerOptions {
  client: ResourceClient;
  ipam: IpamClient;
  lookup: KubeLookup;
  log: Logger;
  metrics: ControllerMetrics;
  reconcilerPeriodMs: number;
  /** KubeControllersConfiguration controllers.node.leakGracePeriod; 0 disables leak release (gone nodes excepted). */
  leakGracePeriodMs: number;
  now?: () => number;
}

/** The queue key of an IPAM garbage-collection pass (no node name contains a space). */
const GC_KEY = ' ipam-gc';

/** The Kubernetes node a Calico Node belongs to, if it says so. */
export function kubernetesNodeOf(node: Resource): string | undefined {
  const refs = Array.isArray(node.spec?.orchRefs)
    ? (node.spec.orchRefs as { orchestrator?: string; nodeName?: string }[])
    : [];
  const ref = refs.find((r) => r.orchestrator === 'k8s');
  return ref ? ref.nodeName || node.metadata.name : undefined;
}

export class NodeController implements Controller {
  readonly name = 'node';
  private readonly calicoNodes = new Map<string, Resource>();
  private readonly queue: ReconcileQueue;
  private readonly watcher: CalicoWatcher;
  private readonly collector: LeakCollector;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly nodes: KubeInformer<KubernetesNode>,
    private readonly pods: KubeInformer<Pod>,
    private readonly opts: NodeControllerOptions,
  ) {
    this.log = opts.log.child({ controller: this.name });
    this.collector = new LeakCollector(opts.ipam, { gracePeriodMs: opts.leakGracePeriodMs, now: opts.now });
    this.queue = new ReconcileQueue(
      this.name,
      (key) => (key === GC_KEY ? this.collectLeaks() : this.reconcile(key)),
      this.log,
      (ok) => opts.metrics.reconciles.inc({ controller: this.name, result: ok ? 'ok' : 'error' }),
    );
    this.watcher = new CalicoWatcher(
      opts.client,
      'Node',
      {
        onListed: (items) => {
          this.calicoNodes.clear();
          for (const n of items) this.calicoNodes.set(n.metadata.name, n);
          this.enqueueAll();
        },
        onChange: (id, r) => {
          if (r) this.calicoNodes.set(id.name, r);
          else this.calicoNodes.delete(id.name);
          this.queue.add(r ? (kubernetesNodeOf(r) ?? id.name) : id.name);
        },
      },
      this.log,
    );
    nodes.on('add', (n) => this.queue.add(n.metadata.name));
    nodes.on('delete', (n) => this.queue.add(n.metadata.name));
  }

  private enqueueAll(): void {
    this.opts.metrics.fullSyncs.inc({ controller: this.name });
    for (const n of this.calicoNodes.values()) this.queue.add(kubernetesNodeOf(n) ?? n.metadata.name);
    this.queue.add(GC_KEY);
  }

  private async reconcile(k8sName: string): Promise<void> {
    if (this.stopped) return;
    const { client } = this.opts;
    if (this.nodes.get(k8sName)) {
      const same = this.calicoNodes.get(k8sName);
      if (same && kubernetesNodeOf(same) === undefined) {
        const current = await client.find('Node', k8sName);
        if (!current || kubernetesNodeOf(current) !== undefined) return;
        const orchRefs = [...((current.spec.orchRefs as unknown[]) ?? []), { orchestrator: 'k8s', nodeName: k8sName }];
        await client.update({ ...current, spec: { ...current.spec, orchRefs } });
        this.opts.metrics.writes.inc({ controller: this.name, op: 'update' });
        this.log.info({ node: k8sName }, `Calico Node ${k8sName} belongs to Kubernetes Node ${k8sName}`);
      }
      return;
    }
    const owned = [...this.calicoNodes.values()].filter((n) => kubernetesNodeOf(n) === k8sName);
    if (!owned.length) return;
    if (await this.opts.lookup.nodeExists(k8sName)) return; // the informer is behind
    for (const n of owned) {
      try {
        await deleteNodeCascade(client, n.metadata.name, n.metadata.resourceVersion);
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        throw err;
      }
      this.calicoNodes.delete(n.metadata.name);
      this.opts.metrics.writes.inc({ controller: this.name, op: 'delete' });
      this.log.info(
        { node: n.metadata.name },
        `deleted Calico Node ${n.metadata.name}, its endpoints and IPAM affinities: Kubernetes Node ${k8sName} is gone`,
      );
    }
    this.queue.add(GC_KEY);
  }

  private async liveness(): Promise<AllocationLiveness> {
    const base = await datastoreLiveness(this.opts.client.datastore);
    return {
      isLive: (a) =>
        base.isLive(a) ||
        (Boolean(a.attrs.pod) &&
          Boolean(a.attrs.namespace) &&
          this.pods.get(a.attrs.pod!, a.attrs.namespace) !== undefined),
      nodeExists: (n) => base.nodeExists(n) || this.nodes.get(n) !== undefined,
    };
  }

  private async collectLeaks(): Promise<void> {
    if (this.stopped) return;
    const result = await this.collector.scan(await this.liveness());
    const { metrics } = this.opts;
    metrics.allocationsInUse.set(result.allocations - result.released.length);
    metrics.gcCandidates.set(result.candidates.length);
    metrics.gcReclamations.inc(result.released.length);
    if (result.released.length || result.nodesCleaned.length) {
      this.log.info(
        { released: result.released, nodes: result.nodesCleaned },
        `IPAM garbage collection released ${result.released.length} leaked address(es)`,
      );
    }
    // Candidates become leaks when their grace period ends: look again then (not only at the next period).
    if (result.candidates.length && this.opts.leakGracePeriodMs > 0) {
      this.queue.addAfter(GC_KEY, Math.min(this.opts.leakGracePeriodMs, this.opts.reconcilerPeriodMs) + 10);
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([this.nodes.synced(), this.pods.synced()]);
    await this.watcher.start();
    this.timer = setInterval(() => void this.resync(), this.opts.reconcilerPeriodMs);
    this.timer.unref();
  }

  async resync(): Promise<void> {
    this.enqueueAll();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.queue.stop();
    await this.watcher.stop();
  }
}
