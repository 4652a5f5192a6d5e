// The Namespaces a resident Kubernetes reader (calico-node's CNI server) serves without a GET per ADD: listed once,
// then kept by a watch (ADDED, MODIFIED, DELETED, BOOKMARK). The server ends each watch after WATCH_SECONDS and it
// goes on from the last version; an ERROR event (410 Expired) re-lists; a failed or silent stream makes the cache
// answer nothing until a new list. A namespace it does not hold is left to a GET. Started by the first lookup and
// stopped after IDLE_STOP_MS without one, so a reader replaced after a kubeconfig change lets its watch go.
// The pod itself is never served from here: every ADD reads it fresh, as Calico's plugin does.
import type { KubeObject, KubeReader } from './client.js';

const WATCH_SECONDS = 60;
/** A watch silent this long is dead (the server sends at least its end after WATCH_SECONDS). */
const SILENT_MS = (WATCH_SECONDS + 15) * 1000;
const RETRY_MS = 1000;
const IDLE_STOP_MS = 10 * 60_000;

interface NamespaceList {
  metadata?: { resourceVersion?: string };
  items?: KubeObject[];
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { metadata: { resourceVersion?: string } };
}

export class NamespaceWatch {
  private readonly objects = new Map<string, KubeObject>();
  /** True while the map reflects a list and the watch following it has not failed. */
  private current = false;
  private running = false;
  private version = '';
  private abort?: () => void;
  private timers: NodeJS.Timeout[] = [];
  private lastUse = 0;

  constructor(private readonly reader: Pick<KubeReader, 'get' | 'stream'>) {}

  /** The namespace as the watch last saw it; undefined when the watch is not current or does not hold it. */
  get(name: string): KubeObject | undefined {
    this.lastUse = Date.now();
    if (!this.running) this.start();
    return this.current ? this.objects.get(name) : undefined;
  }

  /** Whether lookups are being answered from the watch (for tests and health output). */
  get serving(): boolean {
    return this.current;
  }

  stop(): void {
    this.running = false;
    this.current = false;
    this.abort?.();
    this.abort = undefined;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.objects.clear();
  }

  private start(): void {
    this.running = true;
    const idle = setInterval(() => {
      if (Date.now() - this.lastUse > IDLE_STOP_MS) this.stop();
    }, 60_000);
    idle.unref();
    this.timers.push(idle);
    void this.list();
  }

  private later(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      if (this.running) fn();
    }, RETRY_MS);
    t.unref();
    this.timers.push(t);
  }

  private async list(): Promise<void> {
    this.current = false;
    let list: NamespaceList;
    try {
      list = (await this.reader.get('/api/v1/namespaces')) as unknown as NamespaceList;
    } catch {
      this.later(() => void this.list());
      return;
    }
    if (!this.running) return;
    this.objects.clear();
    for (const ns of list.items ?? []) this.objects.set(ns.metadata.name, ns);
    this.version = list.metadata?.resourceVersion ?? '';
    this.current = true;
    this.watch();
  }

  private watch(): void {
    const path =
      `/api/v1/namespaces?watch=true&allowWatchBookmarks=true&timeoutSeconds=${WATCH_SECONDS}` +
      `&resourceVersion=${encodeURIComponent(this.version)}`;
    let relist = false;
    this.abort = this.reader.stream(
      path,
      SILENT_MS,
      (line) => {
        let ev: WatchEvent;
        try {
          ev = JSON.parse(line) as WatchEvent;
        } catch {
          relist = true;
          return;
        }
        if (ev.type === 'ERROR') {
          // 410 Expired (our version was compacted away) or another refusal: start again from a list.
          relist = true;
          this.current = false;
          return;
        }
        const version = ev.object?.metadata?.resourceVersion;
        if (version) this.version = version;
        if (ev.type === 'BOOKMARK') return;
        const name = ev.object?.metadata?.name;
        if (!name) return;
        if (ev.type === 'DELETED') this.objects.delete(name);
        else this.objects.set(name, ev.object);
      },
      (err) => {
        this.abort = undefined;
        if (!this.running) return;
        if (relist) void this.list();
        else if (err) {
          this.current = false;
          this.later(() => void this.list());
        } else this.watch(); // ended by the server after WATCH_SECONDS: on from the last version
      },
    );
  }
}
