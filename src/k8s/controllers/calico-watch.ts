// CalicoWatcher: list+watch of one projectcalico.org/v3 kind in the Calico datastore, so a controller sees changes
// others make to the objects it owns (and the CNI plugin's new WorkloadEndpoints). In: datastore events; out:
// onListed(all items) after each (re)list and onChange(id, resource | undefined) per change. Re-lists after a
// compaction or a failed watch.
import type { Logger } from 'pino';
import type { Resource } from '../../api/resource.js';
import type { ResourceClient } from '../../datastore/resources.js';
import type { Watch } from '../../datastore/types.js';

export interface CalicoId {
  name: string;
  namespace?: string;
}

export interface CalicoWatchHandlers {
  onListed(items: Resource[]): void;
  onChange(id: CalicoId, resource: Resource | undefined, previous?: Resource): void;
}

export class CalicoWatcher {
  private watch?: Watch;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private generation = 0;

  constructor(
    private readonly client: ResourceClient,
    readonly kind: string,
    private readonly handlers: CalicoWatchHandlers,
    private readonly log: Logger,
  ) {}

  private listedOnce?: () => void;

  /** Lists and starts watching; resolves after the first list was delivered (retrying failures meanwhile). */
  async start(): Promise<void> {
    this.stopped = false;
    const listed = new Promise<void>((resolve) => (this.listedOnce = resolve));
    await this.relist();
    await listed;
  }

  private async relist(): Promise<void> {
    const gen = ++this.generation;
    await this.watch?.close();
    this.watch = undefined;
    if (this.stopped) return;
    try {
      const { items, revision } = await this.client.list(this.kind);
      if (this.stopped || gen !== this.generation) return;
      this.handlers.onListed(items);
      this.listedOnce?.();
      this.listedOnce = undefined;
      this.watch = this.client.watch(this.kind, undefined, revision + 1, (e) => {
        if (gen !== this.generation) return;
        if (e.type === 'put') {
          const m = e.resource.metadata;
          this.handlers.onChange({ name: m.name, namespace: m.namespace }, e.resource);
        } else if (e.type === 'delete') {
          this.handlers.onChange({ name: e.name, namespace: e.namespace }, undefined, e.previous);
        } else {
          const why = e.type === 'error' ? e.error.message : `history compacted at ${e.compactedRevision}`;
          this.log.warn({ kind: this.kind }, `datastore watch of ${this.kind} ended (${why}); re-listing`);
          this.scheduleRelist(e.type === 'error' ? 1000 : 0);
        }
      });
    } catch (err) {
      this.log.warn(
        { kind: this.kind, err: err instanceof Error ? err.message : String(err) },
        `listing ${this.kind} from the datastore failed; retrying`,
      );
      this.scheduleRelist(1000);
    }
  }

  private scheduleRelist(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.relist().catch(() => undefined), delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.listedOnce?.();
    await this.watch?.close();
    this.watch = undefined;
  }
}
