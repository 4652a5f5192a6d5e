// The node controller: a Kubernetes Node that is deleted takes its Calico Node with it (and, as Calico's Node
// delete does, the node's endpoints, tunnel addresses and block affinities), and the IPAM leak collector
// (src/ipam/gc.ts) releases what is left once its grace period passes.
//   node informer + Calico Node list+watch -> per k8s node name: adopt (orchRef) or delete its Calico Node
//   periodic / after a deletion -> LeakCollector.scan(liveness: WEPs, tunnels, pods and nodes that exist), then the
//   cooled-down addresses of blocks nobody writes are freed and a node's redundant empty blocks trimmed
//   (EmptyBlockCollector: spare empty blocks seen empty for longer than leakGracePeriod; never a node's last block)
// Only Calico Nodes that name a Kubernetes node in spec.orchRefs are deleted; a Calico Node named like an existing
// Kubernetes Node gets that orchRef (as calico-node does on a Kubernetes host), so it is tracked from then on, and
// (syncLabels) the Kubernetes Node's labels.
import type { KubernetesNode, Pod } from '../../api/k8s/types.js';
import type { Resource } from '../../api/resource.js';
import { NotFoundError } from '../../datastore/types.js';
import type { IpamClient } from '../../ipam/client.js';
import { datastoreLiveness, LeakCollector, type AllocationLiveness } from '../../ipam/gc.js';
import { EmptyBlockCollector } from '../../ipam/blockgc.js';
import { deleteNodeCascade } from '../../ctl/node-delete.js';
import type { CalicoId } from './calico-watch.js';
import type { KubeInformer } from './informer.js';
import type { KubeLookup } from './kube-lookup.js';
import { ReconcilingController, type ReconcilingOptions } from './reconciling-controller.js';

export interface NodeControllerOptions extends ReconcilingOptions {
  ipam: IpamClient;
  lookup: KubeLookup;
  /** KubeControllersConfiguration controllers.node.leakGracePeriod; 0 disables leak release (gone nodes excepted). */
  leakGracePeriodMs: number;
  /** Copy Kubernetes Node labels onto the Calico Node (controllers.node.syncLabels). */
  syncLabels: boolean;
  now?: () => number;
}

/** The Kubernetes labels last copied onto a Calico Node (so labels removed in Kubernetes are removed too). */
export const KUBE_LABELS_ANNOTATION = 'projectcalico.org/kube-labels';

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

export class NodeController extends ReconcilingController {
  private readonly calicoNodes = new Map<string, Resource>();
  private readonly collector: LeakCollector;
  private readonly emptyBlocks: EmptyBlockCollector;

  constructor(
    private readonly nodes: KubeInformer<KubernetesNode>,
    private readonly pods: KubeInformer<Pod>,
    private readonly opts: NodeControllerOptions,
  ) {
    super('node', 'Node', opts);
    this.collector = new LeakCollector(opts.ipam, { gracePeriodMs: opts.leakGracePeriodMs, now: opts.now });
    this.emptyBlocks = new EmptyBlockCollector(opts.ipam, { gracePeriodMs: opts.leakGracePeriodMs, now: opts.now });
    nodes.on('add', (n) => this.queue.add(n.metadata.name));
    nodes.on('update', (n) => this.queue.add(n.metadata.name));
    nodes.on('delete', (n) => this.queue.add(n.metadata.name));
  }

  protected informersSynced(): Promise<unknown> {
    return Promise.all([this.nodes.synced(), this.pods.synced()]);
  }

  protected onCalicoListed(items: Resource[]): void {
    this.calicoNodes.clear();
    for (const n of items) this.calicoNodes.set(n.metadata.name, n);
    this.enqueueAll();
  }

  protected onCalicoChange(id: CalicoId, r: Resource | undefined): void {
    if (r) this.calicoNodes.set(id.name, r);
    else this.calicoNodes.delete(id.name);
    this.queue.add(r ? (kubernetesNodeOf(r) ?? id.name) : id.name);
  }

  protected reconcile(key: string): Promise<void> {
    return key === GC_KEY ? this.collectLeaks() : this.reconcileNode(key);
  }

  private enqueueAll(): void {
    this.opts.metrics.fullSyncs.inc({ controller: this.name });
    for (const n of this.calicoNodes.values()) this.queue.add(kubernetesNodeOf(n) ?? n.metadata.name);
    this.queue.add(GC_KEY);
  }

  private async reconcileNode(k8sName: string): Promise<void> {
    if (this.stopped) return;
    const { client } = this.opts;
    const k8sNode = this.nodes.get(k8sName);
    if (k8sNode) {
      for (const n of this.calicoNodes.values()) {
        const ref = kubernetesNodeOf(n);
        if (ref === k8sName || (ref === undefined && n.metadata.name === k8sName))
          await this.syncNode(k8sNode, n.metadata.name);
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

  /** Gives the Calico Node its Kubernetes orchRef and (syncLabels) the Kubernetes Node's labels; CAS update. */
  private async syncNode(k8sNode: KubernetesNode, calicoName: string): Promise<void> {
    const current = await this.opts.client.find('Node', calicoName);
    if (!current) return;
    const k8sName = k8sNode.metadata.name;
    const spec = { ...current.spec };
    const metadata = { ...current.metadata, labels: { ...(current.metadata.labels ?? {}) } };
    if (kubernetesNodeOf(current) === undefined) {
      spec.orchRefs = [...((spec.orchRefs as unknown[]) ?? []), { orchestrator: 'k8s', nodeName: k8sName }];
    }
    if (this.opts.syncLabels) {
      const annotations = { ...(metadata.annotations ?? {}) };
      let previous: Record<string, string> = {};
      try {
        previous = JSON.parse(annotations[KUBE_LABELS_ANNOTATION] ?? '{}') as Record<string, string>;
      } catch {
        previous = {};
      }
      const labels = k8sNode.metadata.labels ?? {};
      for (const k of Object.keys(previous)) if (!(k in labels)) delete metadata.labels[k];
      Object.assign(metadata.labels, labels);
      annotations[KUBE_LABELS_ANNOTATION] = JSON.stringify(labels);
      metadata.annotations = annotations;
    }
    const changed =
      JSON.stringify(spec) !== JSON.stringify(current.spec) ||
      JSON.stringify(metadata.labels) !== JSON.stringify(current.metadata.labels ?? {}) ||
      JSON.stringify(metadata.annotations ?? {}) !== JSON.stringify(current.metadata.annotations ?? {});
    if (!changed) return;
    await this.opts.client.update({ ...current, metadata, spec });
    this.opts.metrics.writes.inc({ controller: this.name, op: 'update' });
    this.log.info({ node: calicoName }, `synced Calico Node ${calicoName} with Kubernetes Node ${k8sName}`);
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
    const cooled = await this.opts.ipam.reclaimCooledAddresses();
    const trimmed = await this.emptyBlocks.scan();
    if (cooled.freed || trimmed.released.length) {
      this.log.info(
        { cooledFreed: cooled.freed, blocksReleased: trimmed.released },
        `IPAM garbage collection freed ${cooled.freed} cooled-down address(es) and released ${trimmed.released.length} redundant empty block(s)`,
      );
    }
    // Candidates become leaks (and spare empty blocks redundant) when their grace period ends: look again then.
    if ((result.candidates.length || trimmed.waiting.length) && this.opts.leakGracePeriodMs > 0) {
      this.queue.addAfter(GC_KEY, Math.min(this.opts.leakGracePeriodMs, this.opts.reconcilerPeriodMs) + 10);
    }
  }

  async resync(): Promise<void> {
    this.enqueueAll();
  }
}
