// KubeInformer: a list+watch cache of one Kubernetes resource (@kubernetes/client-node's ListWatch) that asks for
// watch bookmarks, re-lists after 410 Gone (ListWatch does) and restarts after any other failure with backoff.
// Objects are handed out as plain JSON with their kind set, as the converters expect. KubeInformers shares one
// informer per resource between the controllers that read it.
import {
  CoreV1Api,
  ListWatch,
  NetworkingV1Api,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubernetesObject } from '../../api/k8s/types.js';
import type { ControllerMetrics } from './metrics.js';

type Raw = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };
export type Handler<T> = (obj: T, old?: T) => void;

/** The resources the controllers read: kind, list path and the typed list call. */
export interface ResourceDescriptor {
  kind: 'Namespace' | 'ServiceAccount' | 'Pod' | 'NetworkPolicy' | 'Node';
  apiVersion: string;
  path: string;
}

export const RESOURCES: Record<ResourceDescriptor['kind'], ResourceDescriptor> = {
  Namespace: { kind: 'Namespace', apiVersion: 'v1', path: '/api/v1/namespaces' },
  ServiceAccount: { kind: 'ServiceAccount', apiVersion: 'v1', path: '/api/v1/serviceaccounts' },
  Pod: { kind: 'Pod', apiVersion: 'v1', path: '/api/v1/pods' },
  NetworkPolicy: {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    path: '/apis/networking.k8s.io/v1/networkpolicies',
  },
  Node: { kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes' },
};

/** client-node's Watch with allowWatchBookmarks, so a quiet watch still advances its resourceVersion. */
class BookmarkWatch extends Watch {
  override watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    cb: (phase: string, obj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    return super.watch(path, { ...params, allowWatchBookmarks: true }, cb, done);
  }
}

type ListPage = { metadata?: { resourceVersion?: string; _continue?: string }; items: unknown[] };
type PagedList = (page: { limit: number; _continue?: string }) => Promise<ListPage>;

function pagedList(kc: KubeConfig, kind: ResourceDescriptor['kind']): PagedList {
  const core = kc.makeApiClient(CoreV1Api);
  switch (kind) {
    case 'Namespace':
      return (p) => core.listNamespace(p);
    case 'ServiceAccount':
      return (p) => core.listServiceAccountForAllNamespaces(p);
    case 'Pod':
      return (p) => core.listPodForAllNamespaces(p);
    case 'Node':
      return (p) => core.listNode(p);
    case 'NetworkPolicy': {
      const net = kc.makeApiClient(NetworkingV1Api);
      return (p) => net.listNetworkPolicyForAllNamespaces(p);
    }
  }
}

/** Every page of a list, as plain JSON (typed models carry Date objects). */
async function listAll(list: PagedList): Promise<KubernetesListObject<any>> {
  const items: unknown[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const page = await list({ limit: 500, ...(cont ? { _continue: cont } : {}) });
    items.push(...page.items);
    cont = page.metadata?._continue || undefined;
    resourceVersion = page.metadata?.resourceVersion ?? '';
  } while (cont);
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items: JSON.parse(JSON.stringify(items)) };
}

export class KubeInformer<T extends KubernetesObject> {
  private readonly lw: ListWatch<any>;
  private stopped = true;
  private listed = false;
  private failures = 0;
  private restartTimer?: NodeJS.Timeout;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly pagedList: PagedList;

  constructor(
    readonly resource: ResourceDescriptor,
    kc: KubeConfig,
    private readonly log: Logger,
    private readonly metrics?: ControllerMetrics,
  ) {
    this.pagedList = pagedList(kc, resource.kind);
    this.lw = new ListWatch<any>(resource.path, new BookmarkWatch(kc), () => this.listFromServer(), false);
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  private async listFromServer(): Promise<KubernetesListObject<any>> {
    const out = await listAll(this.pagedList);
    this.metrics?.informerLists.inc({ resource: this.resource.kind });
    // ListWatch fills its cache right after this resolves; wake the waiters after that.
    setImmediate(() => {
      this.listed = true;
      this.failures = 0;
      for (const w of this.syncWaiters.splice(0)) w();
    });
    return out;
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    this.metrics?.informerErrors.inc({ resource: this.resource.kind });
    const delay = Math.min(250 * 2 ** Math.min(this.failures - 1, 5), 8000);
    this.log.warn(
      { resource: this.resource.kind, err: err instanceof Error ? err.message : String(err) },
      `watch of ${this.resource.path} failed; restarting in ${delay} ms`,
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) void this.lw.start();
    }, delay);
  }

  private wrap(obj: Raw): T {
    return { apiVersion: this.resource.apiVersion, kind: this.resource.kind, ...obj } as unknown as T;
  }

  on(verb: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    this.lw.on(verb, (obj: Raw) => handler(this.wrap(obj)));
  }

  /** Starts list+watch; resolves once the first list is in the cache (retrying failures meanwhile). */
  async start(): Promise<void> {
    if (!this.stopped) return this.synced();
    this.stopped = false;
    await this.lw.start();
    return this.synced();
  }

  synced(): Promise<void> {
    if (this.listed) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get hasSynced(): boolean {
    return this.listed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.lw.stop();
    for (const w of this.syncWaiters.splice(0)) w();
  }

  get(name: string, namespace?: string): T | undefined {
    const o = this.lw.get(name, namespace);
    return o ? this.wrap(o) : undefined;
  }

  list(namespace?: string): T[] {
    return this.lw.list(namespace).map((o: Raw) => this.wrap(o));
  }
}

/** One informer per resource, created on first use and shared by the controllers. */
export class KubeInformers {
  private readonly informers = new Map<string, KubeInformer<any>>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly log: Logger,
    private readonly metrics?: ControllerMetrics,
  ) {}

  get<T extends KubernetesObject>(kind: ResourceDescriptor['kind']): KubeInformer<T> {
    let inf = this.informers.get(kind);
    if (!inf) {
      inf = new KubeInformer<T>(RESOURCES[kind], this.kc, this.log, this.metrics);
      this.informers.set(kind, inf);
    }
    return inf as KubeInformer<T>;
  }

  async startAll(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
