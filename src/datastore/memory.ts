// In-memory Datastore with the exact semantics of the SQLite and etcd backends: one global revision, CAS, atomic
// multi-key txns, TTL keys, watch with history and compaction. Used by unit tests everywhere; one process only.
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  UnreachableError,
  type Datastore,
  type KVPair,
  type ListResult,
  type TxnCondition,
  type TxnOperation,
  type Watch,
  type WatchEvent,
  type WriteOptions,
} from './types.js';
import { conditionFailure } from './conditions.js';

type Change = Extract<WatchEvent, { type: 'put' } | { type: 'delete' }>;

interface Watcher {
  prefix: string;
  /** Next revision this watcher still has to see. */
  next: number;
  onEvent: (event: WatchEvent) => void;
  closed: boolean;
}

export class MemoryDatastore implements Datastore {
  readonly description: string;
  private readonly data = new Map<string, KVPair>();
  /** Change history in revision order; entries with revision < compactedRevision are dropped. */
  private history: Change[] = [];
  /** etcd starts an empty store at revision 1; the first write is revision 2. */
  private revision = 1;
  private compactedRevision = 0;
  private readonly watchers = new Set<Watcher>();
  private deliveryScheduled = false;
  private closed = false;
  private readonly sweepTimer: NodeJS.Timeout;

  /** History kept for watchers; older revisions are compacted automatically, as the SQLite backend does. */
  private readonly retain: number;

  constructor(name = 'memory', opts: { retainRevisions?: number } = {}) {
    this.description = `memory ${name}`;
    this.retain = opts.retainRevisions ?? 100_000;
    // Expired TTL keys are removed (with a delete event) by a sweep, as etcd revokes an expired lease.
    this.sweepTimer = setInterval(() => this.sweepExpired(), 250);
    this.sweepTimer.unref();
  }

  async get(key: string): Promise<KVPair | undefined> {
    this.checkOpen();
    const kv = this.live(key);
    return kv ? { ...kv } : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    this.checkOpen();
    const items: KVPair[] = [];
    for (const [key, kv] of this.data) {
      if (key.startsWith(prefix) && !this.expired(kv)) items.push({ ...kv });
    }
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items, revision: this.revision };
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    this.checkOpen();
    if (this.live(key)) throw new AlreadyExistsError(`resource already exists: ${key}`, key);
    return this.commit([{ kind: 'put', key, value, ttlSeconds: opts?.ttlSeconds }])[0]!;
  }

  async update(key: string, value: string, expectedRevision: number, opts?: WriteOptions): Promise<KVPair> {
    this.checkOpen();
    const cur = this.live(key);
    if (!cur) throw new NotFoundError(`resource does not exist: ${key}`, key);
    if (cur.revision !== expectedRevision) {
      throw new ConflictError(
        `update conflict: ${key} (revision ${expectedRevision} expected, ${cur.revision} found)`,
        key,
      );
    }
    return this.commit([{ kind: 'put', key, value, ttlSeconds: opts?.ttlSeconds }])[0]!;
  }

  async put(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    this.checkOpen();
    return this.commit([{ kind: 'put', key, value, ttlSeconds: opts?.ttlSeconds }])[0]!;
  }

  async delete(key: string, expectedRevision?: number): Promise<KVPair> {
    this.checkOpen();
    const cur = this.live(key);
    if (!cur) throw new NotFoundError(`resource does not exist: ${key}`, key);
    if (expectedRevision !== undefined && cur.revision !== expectedRevision) {
      throw new ConflictError(
        `update conflict: ${key} (revision ${expectedRevision} expected, ${cur.revision} found)`,
        key,
      );
    }
    this.commit([{ kind: 'delete', key }]);
    return { ...cur };
  }

  /** A live key under prefix modified after revision, if any. */
  private changedUnder(prefix: string, revision: number): KVPair | undefined {
    for (const key of this.data.keys()) {
      if (!key.startsWith(prefix)) continue;
      const kv = this.live(key);
      if (kv && kv.revision > revision) return kv;
    }
    return undefined;
  }

  async txn(conditions: TxnCondition[], operations: TxnOperation[]): Promise<{ revision: number }> {
    this.checkOpen();
    for (const c of conditions) {
      const cur = c.kind === 'unchangedSince' ? this.changedUnder(c.key, c.revision) : this.live(c.key);
      const holds = c.kind === 'absent' ? !cur : c.kind === 'unchangedSince' ? !cur : cur?.revision === c.revision;
      if (!holds) throw conditionFailure(c, cur ? { ...cur } : undefined);
    }
    // A txn with only deletes of missing keys writes nothing, as etcd does not bump the revision for no-op deletes.
    const effective = operations.filter((op) => op.kind === 'put' || this.live(op.key));
    if (effective.length === 0) return { revision: this.revision };
    this.commit(effective);
    return { revision: this.revision };
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void): Watch {
    this.checkOpen();
    const w: Watcher = { prefix, next: fromRevision > 0 ? fromRevision : this.revision + 1, onEvent, closed: false };
    this.watchers.add(w);
    this.scheduleDelivery();
    return {
      close: async () => {
        w.closed = true;
        this.watchers.delete(w);
      },
    };
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.revision) {
      throw new ConflictError(`compaction revision ${revision} is in the future (current ${this.revision})`);
    }
    if (revision <= this.compactedRevision) return;
    this.compactedRevision = revision;
    this.history = this.history.filter((c) => c.revision >= revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new UnreachableError(`${this.description}: datastore is closed`);
  }

  private expired(kv: KVPair): boolean {
    return kv.expiresAt !== undefined && kv.expiresAt <= Date.now();
  }

  private live(key: string): KVPair | undefined {
    const kv = this.data.get(key);
    return kv && !this.expired(kv) ? kv : undefined;
  }

  /** Applies operations at one new revision; returns the written pairs (puts only) in order. */
  private commit(operations: TxnOperation[]): KVPair[] {
    const revision = ++this.revision;
    const written: KVPair[] = [];
    for (const op of operations) {
      const prev = this.live(op.key);
      if (op.kind === 'put') {
        const kv: KVPair = { key: op.key, value: op.value, revision };
        if (op.ttlSeconds !== undefined) kv.expiresAt = Date.now() + op.ttlSeconds * 1000;
        this.data.set(op.key, kv);
        written.push({ ...kv });
        this.history.push({ type: 'put', key: op.key, value: op.value, revision });
      } else {
        this.data.delete(op.key);
        if (prev) this.history.push({ type: 'delete', key: op.key, revision, prevValue: prev.value });
      }
    }
    if (revision % Math.min(1000, this.retain) === 0 && revision - this.retain > this.compactedRevision) {
      void this.compact(revision - this.retain);
    }
    this.scheduleDelivery();
    return written;
  }

  private sweepExpired(): void {
    const gone = [...this.data.values()].filter((kv) => this.expired(kv));
    if (gone.length === 0) return;
    const revision = ++this.revision;
    for (const kv of gone) {
      this.data.delete(kv.key);
      this.history.push({ type: 'delete', key: kv.key, revision, prevValue: kv.value });
    }
    this.scheduleDelivery();
  }

  // Events are delivered asynchronously (never inside the writer's call), in revision order, once each.
  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      for (const w of [...this.watchers]) this.deliver(w);
    });
  }

  private deliver(w: Watcher): void {
    if (w.closed) return;
    if (w.next < this.compactedRevision) {
      this.watchers.delete(w);
      w.closed = true;
      w.onEvent({ type: 'resync-required', compactedRevision: this.compactedRevision });
      return;
    }
    for (let i = this.firstIndexAtOrAfter(w.next); i < this.history.length; i++) {
      if (w.closed) return;
      const change = this.history[i]!;
      if (change.key.startsWith(w.prefix)) w.onEvent({ ...change });
    }
    w.next = this.revision + 1;
  }

  private firstIndexAtOrAfter(revision: number): number {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.revision < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
