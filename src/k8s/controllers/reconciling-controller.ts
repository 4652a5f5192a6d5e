// ReconcilingController: the lifecycle the kube-controllers share. One ReconcileQueue (its results counted in the
// metrics) and one CalicoWatcher on the Calico kind the controller keeps in step; start waits for the controller's
// informers, then lists+watches the datastore and runs resync() every reconcilerPeriod; stop ends all of it.
// A subclass says what its keys mean (reconcile), how datastore changes become keys, and what a full resync queues.
import type { Logger } from 'pino';
import type { Resource } from '../../api/resource.js';
import type { ResourceClient } from '../../datastore/resources.js';
import { CalicoWatcher, type CalicoId } from './calico-watch.js';
import type { Controller } from './controller.js';
import type { ControllerMetrics } from './metrics.js';
import { ReconcileQueue } from './queue.js';

export interface ReconcilingOptions {
  client: ResourceClient;
  log: Logger;
  metrics: ControllerMetrics;
  reconcilerPeriodMs: number;
}

export abstract class ReconcilingController implements Controller {
  protected readonly queue: ReconcileQueue;
  protected readonly watcher: CalicoWatcher;
  protected readonly log: Logger;
  /** Set by stop(); reconcile() implementations return early once it is. */
  protected stopped = false;
  private readonly periodMs: number;
  private timer?: NodeJS.Timeout;

  protected constructor(
    readonly name: string,
    calicoKind: string,
    opts: ReconcilingOptions,
  ) {
    this.log = opts.log.child({ controller: name });
    this.queue = new ReconcileQueue(
      name,
      (key) => this.reconcile(key),
      this.log,
      (ok) => opts.metrics.reconciles.inc({ controller: name, result: ok ? 'ok' : 'error' }),
    );
    this.watcher = new CalicoWatcher(
      opts.client,
      calicoKind,
      {
        onListed: (items) => this.onCalicoListed(items),
        onChange: (id, r, prev) => this.onCalicoChange(id, r, prev),
      },
      this.log,
    );
    this.periodMs = opts.reconcilerPeriodMs;
  }

  /** Brings one queued key in step; a rejection retries the key with backoff. */
  protected abstract reconcile(key: string): Promise<void>;
  /** Resolves when the Kubernetes informers this controller reads have synced. */
  protected abstract informersSynced(): Promise<unknown>;
  /** The watched Calico kind was (re)listed: every item, after start and after each re-list. */
  protected abstract onCalicoListed(items: Resource[]): void;
  /** One object of the watched Calico kind changed (resource undefined: deleted). */
  protected abstract onCalicoChange(id: CalicoId, resource: Resource | undefined, previous?: Resource): void;
  /** Queues everything the controller owns for a fresh comparison (also run every reconcilerPeriod). */
  abstract resync(): Promise<void>;

  async start(): Promise<void> {
    await this.informersSynced();
    if (this.stopped) return;
    await this.watcher.start();
    if (this.stopped) return void (await this.watcher.stop());
    this.timer = setInterval(() => void this.resync().catch(() => undefined), this.periodMs);
    this.timer.unref();
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
