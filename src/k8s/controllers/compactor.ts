// DatastoreCompactor: in etcd mode calico-kube-controllers compacts etcd's history every etcdV3CompactionPeriod
// (default 10m, 0 = never), as Calico does. Each pass compacts at the revision the previous pass saw, so every
// watcher had a whole period to read past it; a watcher still behind gets resync-required and re-lists.
import type { Logger } from 'pino';
import type { Datastore } from '../../datastore/types.js';
import { errorText } from './controller.js';

export class DatastoreCompactor {
  private timer?: NodeJS.Timeout;
  private previous?: number;

  constructor(
    private readonly ds: Datastore,
    private readonly periodMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.periodMs <= 0 || this.timer) return;
    void this.pass();
    this.timer = setInterval(() => void this.pass(), this.periodMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    try {
      const now = await this.ds.currentRevision();
      if (this.previous !== undefined && this.previous > 0) {
        await this.ds.compact(this.previous);
        this.log.debug({ revision: this.previous }, 'compacted datastore history');
      }
      this.previous = now;
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'datastore compaction failed');
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
