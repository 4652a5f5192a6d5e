// MirrorController: keeps one Calico kind in step with one Kubernetes kind, for the objects Calico derives one-to-one
// (Namespace -> kns. Profile, ServiceAccount -> ksa. Profile, NetworkPolicy -> knp.default. policy).
//   Kubernetes informer events -> desired Calico objects (by key) -> queue -> apply / CAS delete
//   Calico datastore list+watch -> keys we own that changed or are not desired -> queue
// Only objects `owns` accepts are ever deleted; apply writes nothing when the stored object already matches.
import type { Logger } from 'pino';
import type { KubernetesObject } from '../../api/k8s/types.js';
import type { Resource } from '../../api/resource.js';
import { ResourceValidationError } from '../../api/problems.js';
import { NotFoundError } from '../../datastore/types.js';
import type { CalicoId } from './calico-watch.js';
import { errorText, keyOf, splitKey } from './controller.js';
import type { KubeInformer } from './informer.js';
import { ReconcilingController, type ReconcilingOptions } from './reconciling-controller.js';

export interface MirrorDefinition<T extends KubernetesObject> {
  /** Controller name (KubeControllersConfiguration's): namespace, serviceaccount, policy. */
  name: string;
  calicoKind: 'Profile' | 'NetworkPolicy';
  /** The Calico object a Kubernetes object should have (logging any conversion problems). */
  convert(obj: T, log: Logger): Resource;
  /** Whether a Calico object is one this controller made (and may delete). */
  owns(r: Resource): boolean;
}

export type MirrorOptions = ReconcilingOptions;

export class MirrorController<T extends KubernetesObject> extends ReconcilingController {
  private readonly desired = new Map<string, Resource>();
  /** Kubernetes object key -> Calico object key. */
  private readonly sources = new Map<string, string>();

  constructor(
    private readonly def: MirrorDefinition<T>,
    private readonly informer: KubeInformer<T>,
    private readonly opts: MirrorOptions,
  ) {
    super(def.name, def.calicoKind, opts);
    informer.on('add', (o) => this.onSource(o));
    informer.on('update', (o) => this.onSource(o));
    informer.on('delete', (o) => this.onSourceDeleted(o));
  }

  private onSource(obj: T): void {
    const src = keyOf(obj.metadata.name, obj.metadata.namespace);
    let want: Resource;
    try {
      want = this.def.convert(obj, this.log);
    } catch (err) {
      this.log.error({ object: src, err: errorText(err) }, `cannot convert ${obj.kind} ${src}`);
      return;
    }
    const key = keyOf(want.metadata.name, want.metadata.namespace);
    const before = this.sources.get(src);
    if (before !== undefined && before !== key) {
      this.desired.delete(before);
      this.queue.add(before);
    }
    this.sources.set(src, key);
    this.desired.set(key, want);
    this.queue.add(key);
  }

  private onSourceDeleted(obj: T): void {
    const src = keyOf(obj.metadata.name, obj.metadata.namespace);
    const key = this.sources.get(src);
    if (key === undefined) return;
    this.sources.delete(src);
    this.desired.delete(key);
    this.queue.add(key);
  }

  protected informersSynced(): Promise<void> {
    return this.informer.synced();
  }

  protected onCalicoListed(items: Resource[]): void {
    this.enqueueAll(items);
  }

  protected onCalicoChange(id: CalicoId, r: Resource | undefined, prev: Resource | undefined): void {
    const key = keyOf(id.name, id.namespace);
    if (this.desired.has(key) || (r && this.def.owns(r)) || (!r && (!prev || this.def.owns(prev)))) {
      this.queue.add(key);
    }
  }

  private enqueueAll(items: Resource[]): void {
    this.opts.metrics.fullSyncs.inc({ controller: this.name });
    for (const r of items) if (this.def.owns(r)) this.queue.add(keyOf(r.metadata.name, r.metadata.namespace));
    for (const key of this.desired.keys()) this.queue.add(key);
  }

  protected async reconcile(key: string): Promise<void> {
    if (this.stopped) return;
    const { client, metrics } = this.opts;
    const kind = this.def.calicoKind;
    const { name, namespace } = splitKey(key);
    const want = this.desired.get(key);
    const current = await client.find(kind, name, namespace);
    if (want) {
      if (current && !this.def.owns(current)) {
        this.log.warn({ key }, `${kind} ${key} exists and is not ours; leaving it alone`);
        return;
      }
      let written: Resource;
      try {
        written = await client.apply(want);
      } catch (err) {
        // Retrying cannot help an object the datastore refuses; its next Kubernetes change brings a new attempt.
        if (!(err instanceof ResourceValidationError)) throw err;
        metrics.reconciles.inc({ controller: this.name, result: 'invalid' });
        this.log.error({ key, err: err.message }, `cannot write ${kind} ${key}: ${err.message}`);
        return;
      }
      if (!current) {
        metrics.writes.inc({ controller: this.name, op: 'create' });
        this.log.info({ key }, `created ${kind} ${key}`);
      } else if (written.metadata.resourceVersion !== current.metadata.resourceVersion) {
        metrics.writes.inc({ controller: this.name, op: 'update' });
        this.log.info({ key }, `updated ${kind} ${key}`);
      }
      return;
    }
    if (!current || !this.def.owns(current)) return;
    try {
      await client.delete(kind, name, namespace, current.metadata.resourceVersion);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    metrics.writes.inc({ controller: this.name, op: 'delete' });
    this.log.info({ key }, `deleted ${kind} ${key}: its Kubernetes source is gone`);
  }

  async resync(): Promise<void> {
    const { items } = await this.opts.client.list(this.def.calicoKind);
    this.enqueueAll(items);
  }
}
