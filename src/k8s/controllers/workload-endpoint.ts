// The workload endpoint controller (Calico's pod controller, `workloadEndpoint` in KubeControllersConfiguration):
//   pod informer + WorkloadEndpoint list+watch -> per pod: WEP labels = pod labels + Calico's (CAS update)
//   a k8s WEP whose pod is gone, or now runs on another node (confirmed with the API server, then a grace period for
//   the CNI DEL that normally removes it) -> WEP deleted (CAS), then its addresses released if still its own.
// Only WorkloadEndpoints with orchestrator k8s are touched; the CNI plugin creates them, this controller never does.
import type { Pod } from '../../api/k8s/types.js';
import type { Resource } from '../../api/resource.js';
import { NotFoundError } from '../../datastore/types.js';
import type { IpamClient } from '../../ipam/client.js';
import { podWorkloadEndpointLabels } from '../convert/index.js';
import type { CalicoId } from './calico-watch.js';
import { errorText, keyOf, splitKey } from './controller.js';
import type { KubeInformer } from './informer.js';
import type { KubeLookup } from './kube-lookup.js';
import { ReconcilingController, type ReconcilingOptions } from './reconciling-controller.js';

export const DEFAULT_DEAD_POD_GRACE_MS = 10_000;

export interface WorkloadEndpointControllerOptions extends ReconcilingOptions {
  ipam: IpamClient;
  lookup: KubeLookup;
  /** How long a pod must have been gone before its leftover endpoint is removed. */
  deadPodGraceMs?: number;
  now?: () => number;
}

const isK8sEndpoint = (r: Resource): boolean => r.spec?.orchestrator === 'k8s' && typeof r.spec?.pod === 'string';

function sameLabels(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

export class WorkloadEndpointController extends ReconcilingController {
  /** Pod key (ns/pod) -> names of its WorkloadEndpoints. */
  private readonly byPod = new Map<string, Set<string>>();
  /** WEP key (ns/name) -> pod key. */
  private readonly podOf = new Map<string, string>();
  /** WEP key (ns/name) -> spec.node. */
  private readonly nodeOf = new Map<string, string>();
  private readonly goneSince = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly pods: KubeInformer<Pod>,
    private readonly opts: WorkloadEndpointControllerOptions,
  ) {
    super('workloadendpoint', 'WorkloadEndpoint', opts);
    this.now = opts.now ?? Date.now;
    const onPod = (p: Pod): void => {
      const key = keyOf(p.metadata.name, p.metadata.namespace);
      if (this.byPod.has(key)) this.queue.add(key);
    };
    pods.on('add', onPod);
    pods.on('update', onPod);
    pods.on('delete', onPod);
  }

  private index(wepKey: string, podKey: string | undefined): void {
    const old = this.podOf.get(wepKey);
    if (old === podKey) return;
    const { name } = splitKey(wepKey);
    if (old !== undefined) {
      const set = this.byPod.get(old);
      set?.delete(name);
      if (set && !set.size) this.byPod.delete(old);
      this.podOf.delete(wepKey);
    }
    if (podKey !== undefined) {
      this.podOf.set(wepKey, podKey);
      const set = this.byPod.get(podKey) ?? new Set<string>();
      set.add(name);
      this.byPod.set(podKey, set);
    }
  }

  protected informersSynced(): Promise<void> {
    return this.pods.synced();
  }

  protected onCalicoListed(items: Resource[]): void {
    this.byPod.clear();
    this.podOf.clear();
    this.nodeOf.clear();
    for (const r of items) this.onCalicoChange({ name: r.metadata.name, namespace: r.metadata.namespace }, r);
    this.opts.metrics.fullSyncs.inc({ controller: this.name });
  }

  protected onCalicoChange(id: CalicoId, r: Resource | undefined): void {
    const wepKey = keyOf(id.name, id.namespace);
    const podKey = r && isK8sEndpoint(r) ? keyOf(r.spec.pod as string, id.namespace) : undefined;
    const old = this.podOf.get(wepKey);
    this.index(wepKey, podKey);
    if (podKey) this.nodeOf.set(wepKey, String(r!.spec.node ?? ''));
    else this.nodeOf.delete(wepKey);
    if (podKey) this.queue.add(podKey);
    if (old && old !== podKey) this.queue.add(old);
  }

  protected async reconcile(podKey: string): Promise<void> {
    if (this.stopped) return;
    const names = [...(this.byPod.get(podKey) ?? [])];
    if (!names.length) {
      this.goneSince.delete(podKey);
      return;
    }
    const { namespace, name } = splitKey(podKey);
    const pod = this.pods.get(name, namespace);
    const cached = pod?.spec?.nodeName;
    // Endpoints on another node than the pod's are left over from an earlier pod of that name.
    const nodeOf = (wep: string) => this.nodeOf.get(keyOf(wep, namespace));
    const leftOver = (wep: string) => Boolean(cached) && nodeOf(wep) !== cached;
    const live = pod ? names.filter((n) => !leftOver(n)) : [];
    for (const wep of live) await this.syncLabels(pod!, wep, namespace!);
    const suspects = names.filter((n) => !live.includes(n));
    if (!suspects.length) {
      this.goneSince.delete(podKey);
      return;
    }
    // The informer may be behind: ask the API server where the pod is now.
    const node = await this.opts.lookup.podNode(namespace!, name);
    const dead = suspects.filter((n) => node === undefined || (node !== '' && nodeOf(n) !== node));
    if (!dead.length) return; // the informer's event will follow
    const now = this.now();
    const since = this.goneSince.get(podKey) ?? now;
    this.goneSince.set(podKey, since);
    const wait = since + (this.opts.deadPodGraceMs ?? DEFAULT_DEAD_POD_GRACE_MS) - now;
    if (wait > 0) {
      this.queue.addAfter(podKey, wait);
      return;
    }
    for (const wep of dead) await this.removeDeadEndpoint(wep, namespace!, name);
    this.goneSince.delete(podKey);
  }

  private async syncLabels(pod: Pod, wepName: string, namespace: string): Promise<void> {
    const current = await this.opts.client.find('WorkloadEndpoint', wepName, namespace);
    if (!current || !isK8sEndpoint(current)) return;
    const labels = podWorkloadEndpointLabels(pod);
    if (sameLabels(current.metadata.labels, labels)) return;
    // resourceVersion from the read: a compare-and-swap, so a concurrent CNI write is never overwritten.
    await this.opts.client.update({ ...current, metadata: { ...current.metadata, labels } });
    this.opts.metrics.writes.inc({ controller: this.name, op: 'update' });
    this.log.info({ wep: `${namespace}/${wepName}` }, `updated labels of WorkloadEndpoint ${namespace}/${wepName}`);
  }

  private async removeDeadEndpoint(wepName: string, namespace: string, pod: string): Promise<void> {
    const { client, ipam } = this.opts;
    const current = await client.find('WorkloadEndpoint', wepName, namespace);
    if (!current || !isK8sEndpoint(current) || current.spec.pod !== pod) return;
    try {
      await client.delete('WorkloadEndpoint', wepName, namespace, current.metadata.resourceVersion);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    this.opts.metrics.writes.inc({ controller: this.name, op: 'delete' });
    const containerId = String(current.spec.containerID ?? '');
    const released: string[] = [];
    for (const net of (current.spec.ipNetworks ?? []) as string[]) {
      const ip = String(net).split('/')[0]!;
      const alloc = await ipam.getAllocation(ip).catch(() => undefined);
      if (!alloc) continue;
      const ours =
        (containerId !== '' && alloc.handleId?.endsWith(`.${containerId}`)) ||
        (alloc.attrs.namespace === namespace && alloc.attrs.pod === pod);
      if (!ours) continue;
      try {
        const un = await ipam.releaseIps([
          { ip, handleId: alloc.handleId ?? undefined, sequenceNumber: alloc.sequenceNumber },
        ]);
        if (!un.length) released.push(ip);
      } catch (err) {
        // Taken over meanwhile (sequence number changed): not ours any more; the leak GC covers the rest.
        this.log.warn({ ip, err: errorText(err) }, `not releasing ${ip} of ${namespace}/${wepName}`);
      }
    }
    this.log.info(
      { wep: `${namespace}/${wepName}`, released },
      `removed WorkloadEndpoint ${namespace}/${wepName}: pod ${namespace}/${pod} is gone without a CNI DEL`,
    );
  }

  async resync(): Promise<void> {
    this.opts.metrics.fullSyncs.inc({ controller: this.name });
    for (const key of this.byPod.keys()) this.queue.add(key);
  }
}
