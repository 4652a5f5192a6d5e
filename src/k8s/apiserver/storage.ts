// Kubernetes objects on the project's Datastore under /calico-ts/k8s/<group>/<plural>/[<namespace>/]<name>.
// The stored JSON never holds resourceVersion: on read it is the key's datastore revision, as etcd-backed
// kube-apiserver does. Updates are compare-and-swap on that revision; errors come back as Kubernetes Status errors.
import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  type Datastore,
  type KVPair,
  type Watch,
  type WatchEvent,
} from '../../datastore/index.js';
import type { ServedResource } from './resources.js';
import { alreadyExists, conflict, notFound } from './status.js';
import type { KubeObject } from './admission.js';

export const K8S_PREFIX = '/calico-ts/k8s/';

export const resourcePrefix = (res: ServedResource, namespace?: string): string =>
  `${K8S_PREFIX}${res.group || 'core'}/${res.plural}/${res.namespaced && namespace ? `${namespace}/` : ''}`;

export const objectKey = (res: ServedResource, namespace: string | undefined, name: string): string =>
  `${resourcePrefix(res, res.namespaced ? namespace : undefined)}${name}`;

/** Decodes a stored value, stamping resourceVersion from the revision. */
export function decodeObject(value: string, revision: number): KubeObject {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(revision) };
  return obj;
}

function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
}

export const parseResourceVersion = (rv: unknown): number | undefined => {
  if (typeof rv !== 'string' || rv === '') return undefined;
  const n = Number(rv);
  return Number.isSafeInteger(n) && n >= 0 ? n : NaN;
};

export type ObjectEvent =
  /** previous: the version before (null: created), undefined when unknown (written outside this store). */
  | { type: 'put'; key: string; object: KubeObject; previous?: KubeObject | null; revision: number }
  | { type: 'delete'; previous?: KubeObject; key: string; revision: number }
  | { type: 'resync-required'; compactedRevision: number }
  | { type: 'error'; error: Error };

/** How many recent writes keep their previous version for watch filtering. */
const RECENT_WRITES = 10_000;

export class KubeStore {
  /**
   * `key@revision` -> the object's previous stored text (null: the write created it), for writes made through this
   * store. The datastore's watch does not carry previous values of puts; watches use this to tell ADDED from
   * MODIFIED and to notice an object leaving a selector.
   */
  private readonly recent = new Map<string, string | null>();

  constructor(
    readonly datastore: Datastore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(res: ServedResource, namespace: string | undefined, name: string): Promise<KubeObject> {
    const found = await this.find(res, namespace, name);
    if (!found) throw notFound(res.plural, res.group, name);
    return found;
  }

  async find(res: ServedResource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const kv = await this.datastore.get(objectKey(res, namespace, name));
    return kv ? decodeObject(kv.value, kv.revision) : undefined;
  }

  /** Every object of the resource (one namespace or all), sorted by key, and the revision the list was read at. */
  async list(res: ServedResource, namespace?: string): Promise<{ items: KubeObject[]; revision: number }> {
    const r = await this.datastore.list(resourcePrefix(res, namespace));
    const depth = res.namespaced && !namespace ? 2 : 1;
    const prefixLen = resourcePrefix(res, namespace).length;
    const items = r.items
      .filter((kv: KVPair) => kv.key.slice(prefixLen).split('/').length === depth)
      .map((kv) => decodeObject(kv.value, kv.revision));
    return { items, revision: r.revision };
  }

  /** Stores a new object: uid, creationTimestamp and generation are set here; 409 AlreadyExists when taken. */
  async create(res: ServedResource, obj: KubeObject): Promise<KubeObject> {
    const meta = obj.metadata;
    const stored: KubeObject = {
      ...obj,
      metadata: {
        ...meta,
        uid: randomUUID(),
        creationTimestamp: this.timestamp(),
        ...(obj.spec !== undefined && res.kind !== 'Pod' && res.kind !== 'Node' && res.kind !== 'Namespace'
          ? { generation: 1 }
          : {}),
      },
    };
    delete stored.metadata.resourceVersion;
    delete stored.metadata.deletionTimestamp;
    try {
      const kv = await this.datastore.create(objectKey(res, meta.namespace, meta.name), encodeObject(stored));
      this.remember(kv.key, kv.revision, null);
      return decodeObject(kv.value, kv.revision);
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw alreadyExists(res.plural, res.group, meta.name);
      throw err;
    }
  }

  /**
   * Read-modify-write: `change` gets the current object and returns the next one (or throws a Status error). With
   * expectedVersion set, a different stored version is a 409 Conflict; without, concurrent writers are retried.
   */
  async modify(
    res: ServedResource,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject,
    expectedVersion?: number,
    dryRun = false,
  ): Promise<KubeObject> {
    const key = objectKey(res, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.datastore.get(key);
      if (!kv) throw notFound(res.plural, res.group, name);
      if (expectedVersion !== undefined && expectedVersion !== kv.revision) throw conflict(res.plural, res.group, name);
      const current = decodeObject(kv.value, kv.revision);
      const next = change(structuredClone(current));
      // Server-owned metadata survives every update.
      next.metadata = {
        ...next.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        name: current.metadata.name,
        ...(res.namespaced ? { namespace: current.metadata.namespace } : {}),
      };
      if (current.metadata.generation !== undefined) {
        const specChanged = JSON.stringify(current.spec) !== JSON.stringify(next.spec);
        next.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
      }
      const text = encodeObject(next);
      if (text === encodeObject(current)) return current; // a no-op update writes nothing, as kube-apiserver
      if (dryRun) return decodeObject(text, kv.revision);
      try {
        const out = await this.datastore.update(key, text, kv.revision);
        this.remember(key, out.revision, kv.value);
        return decodeObject(out.value, out.revision);
      } catch (err) {
        if (err instanceof NotFoundError) throw notFound(res.plural, res.group, name);
        if (err instanceof ConflictError) {
          if (expectedVersion !== undefined || attempt >= 10) throw conflict(res.plural, res.group, name);
          continue;
        }
        throw err;
      }
    }
  }

  /** Deletes and returns the last stored object; preconditions on resourceVersion/uid give 409 Conflict. */
  async delete(
    res: ServedResource,
    namespace: string | undefined,
    name: string,
    pre: { resourceVersion?: number; uid?: string } = {},
  ): Promise<KubeObject> {
    const key = objectKey(res, namespace, name);
    const kv = await this.datastore.get(key);
    if (!kv) throw notFound(res.plural, res.group, name);
    const current = decodeObject(kv.value, kv.revision);
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== kv.revision)
      throw conflict(res.plural, res.group, name);
    if (pre.uid !== undefined && pre.uid !== current.metadata.uid) throw conflict(res.plural, res.group, name);
    try {
      const removed = await this.datastore.delete(key, kv.revision);
      // The deleted object reports the revision of its deletion, as a watch DELETED event does.
      const rev = await this.datastore.currentRevision();
      return decodeObject(removed.value, Math.max(rev, removed.revision));
    } catch (err) {
      if (err instanceof NotFoundError) throw notFound(res.plural, res.group, name);
      if (err instanceof ConflictError) throw conflict(res.plural, res.group, name);
      throw err;
    }
  }

  /** Changes under the resource (namespace) prefix with revision >= fromRevision. */
  watch(
    res: ServedResource,
    namespace: string | undefined,
    fromRevision: number,
    onEvent: (e: ObjectEvent) => void,
  ): Watch {
    const prefix = resourcePrefix(res, namespace);
    const depth = res.namespaced && !namespace ? 2 : 1;
    return this.datastore.watch(prefix, fromRevision, (e: WatchEvent) => {
      if (e.type === 'put' || e.type === 'delete') {
        if (e.key.slice(prefix.length).split('/').length !== depth) return;
        if (e.type === 'put') {
          onEvent({
            type: 'put',
            key: e.key,
            object: decodeObject(e.value, e.revision),
            previous: e.prevValue ? decodeObject(e.prevValue, e.revision) : this.previousOf(e.key, e.revision),
            revision: e.revision,
          });
        } else {
          onEvent({
            type: 'delete',
            key: e.key,
            previous: e.prevValue ? decodeObject(e.prevValue, e.revision) : undefined,
            revision: e.revision,
          });
        }
      } else onEvent(e);
    });
  }

  /** The object before the write at revision (null: created then), or undefined when this store did not make it. */
  previousOf(key: string, revision: number): KubeObject | null | undefined {
    const prev = this.recent.get(`${key}@${revision}`);
    if (prev === undefined || prev === null) return prev;
    return decodeObject(prev, revision);
  }

  private remember(key: string, revision: number, previous: string | null): void {
    this.recent.set(`${key}@${revision}`, previous);
    if (this.recent.size > RECENT_WRITES) this.recent.delete(this.recent.keys().next().value!);
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }
}
