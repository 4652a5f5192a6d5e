// etcd v3 Datastore (`etcd3` client): Calico's etcdv3 backend. Writes are the CAS transactions of Calico's
// libcalico-go (ipam.md §3.1): create = If(Version==0) Put Else Get; update = If(Mod==rev) Put Else Get;
// delete = If(Mod==rev) DeleteRange(prevKV) Else Get. Several endpoints (the client fails over), TLS client
// certificates, username/password; every call is bounded by timeoutMs and fails naming `etcdv3 <endpoints>`.
// Loaded lazily (etcd3 costs ~75 ms to import): openDatastore imports this module only for DATASTORE_TYPE=etcdv3.
import { readFileSync } from 'node:fs';
import { Etcd3, type IKeyValue, type IRequestOp, type ICompare, type Watcher as EtcdWatcher } from 'etcd3';
import {
  AlreadyExistsError,
  ConflictError,
  DatastoreError,
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

export interface EtcdSettings {
  endpoints: string[];
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

export interface EtcdOptions {
  /** Bound on every call (and on connecting); default 5000 ms. */
  timeoutMs?: number;
}

// Numeric values of etcd's enums (rpc.proto), so this module needs no runtime import besides Etcd3.
const CMP_EQUAL = 0;
const CMP_LESS = 2;
const SORT_DESCEND = 2;
const SORT_BY_MOD = 3;
const TARGET_VERSION = 0;
const TARGET_MOD = 2;

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Smallest key greater than every key starting with prefix ('\0' = to the end of the keyspace, as etcd means it). */
function prefixEnd(prefix: string): Buffer {
  const b = buf(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

function toPair(kv: IKeyValue): KVPair {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), revision: Number(kv.mod_revision) };
}

export class EtcdDatastore implements Datastore {
  readonly description: string;
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(settings: EtcdSettings, opts: EtcdOptions = {}) {
    if (settings.endpoints.length === 0) throw new DatastoreError('etcdv3: no endpoints configured (ETCD_ENDPOINTS)');
    this.description = `etcdv3 ${settings.endpoints.join(',')}`;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    const read = (what: string, file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new UnreachableError(`${this.description}: cannot read ${what} ${file}: ${(err as Error).message}`);
      }
    };
    const tls = settings.caCertFile || settings.certFile || settings.keyFile;
    const timeoutMs = this.timeoutMs;
    this.client = new Etcd3({
      hosts: settings.endpoints,
      dialTimeout: timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      ...(tls
        ? {
            credentials: {
              // Without a CA file gRPC verifies the server against the system's roots.
              rootCertificate: (settings.caCertFile
                ? read('CA certificate', settings.caCertFile)
                : undefined) as Buffer,
              ...(settings.certFile ? { certChain: read('client certificate', settings.certFile) } : {}),
              ...(settings.keyFile ? { privateKey: read('client key', settings.keyFile) } : {}),
            },
          }
        : {}),
      ...(settings.username
        ? {
            auth: {
              username: settings.username,
              password: settings.password ?? '',
              callOptions: () => ({ deadline: Date.now() + timeoutMs }),
            },
          }
        : {}),
    });
  }

  async get(key: string): Promise<KVPair | undefined> {
    const res = await this.call(() => this.client.kv.range({ key: buf(key) }));
    const kv = res.kvs[0];
    return kv ? toPair(kv) : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    // Paged: one gRPC response is limited to 4 MiB (a cluster's WorkloadEndpoints exceed it). Every page is read at
    // the first page's revision, so the result is one consistent snapshot.
    const end = prefixEnd(prefix);
    let start = buf(prefix === '' ? '\0' : prefix);
    const items: KVPair[] = [];
    let revision: number | undefined;
    for (;;) {
      const at = revision;
      const res = await this.call(() =>
        this.client.kv.range({ key: start, range_end: end, limit: 1000, ...(at ? { revision: at } : {}) }),
      );
      items.push(...res.kvs.map(toPair));
      revision ??= Number(res.header.revision);
      if (!res.more || res.kvs.length === 0) break;
      start = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: buf(key), target: TARGET_VERSION, result: CMP_EQUAL, version: 0 }],
        success: [{ request_put: { key: buf(key), value: buf(value), lease } }],
        failure: [{ request_range: { key: buf(key) } }],
      }),
    );
    if (!res.succeeded) throw new AlreadyExistsError(`resource already exists: ${key}`, key);
    return this.written(key, value, Number(res.header.revision), opts?.ttlSeconds);
  }

  async update(key: string, value: string, expectedRevision: number, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: buf(key), target: TARGET_MOD, result: CMP_EQUAL, mod_revision: expectedRevision }],
        success: [{ request_put: { key: buf(key), value: buf(value), lease } }],
        failure: [{ request_range: { key: buf(key) } }],
      }),
    );
    if (!res.succeeded) this.failedCas(key, expectedRevision, res.responses[0]!.response_range.kvs[0]);
    return this.written(key, value, Number(res.header.revision), opts?.ttlSeconds);
  }

  async put(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call(() => this.client.kv.put({ key: buf(key), value: buf(value), lease }));
    return this.written(key, value, Number(res.header.revision), opts?.ttlSeconds);
  }

  async delete(key: string, expectedRevision?: number): Promise<KVPair> {
    if (expectedRevision === undefined) {
      const res = await this.call(() => this.client.kv.deleteRange({ key: buf(key), prev_kv: true }));
      const prev = res.prev_kvs[0];
      if (!prev) throw new NotFoundError(`resource does not exist: ${key}`, key);
      return toPair(prev);
    }
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: buf(key), target: TARGET_MOD, result: CMP_EQUAL, mod_revision: expectedRevision }],
        success: [{ request_delete_range: { key: buf(key), prev_kv: true } }],
        failure: [{ request_range: { key: buf(key) } }],
      }),
    );
    if (!res.succeeded) this.failedCas(key, expectedRevision, res.responses[0]!.response_range.kvs[0]);
    const prev = res.responses[0]!.response_delete_range.prev_kvs[0];
    // Mod==rev cannot hold for a missing key (its mod revision is 0), so prev exists here.
    return toPair(prev!);
  }

  async txn(conditions: TxnCondition[], operations: TxnOperation[]): Promise<{ revision: number }> {
    const success: IRequestOp[] = [];
    for (const op of operations) {
      if (op.kind === 'put') {
        const lease = await this.lease(op.ttlSeconds);
        success.push({ request_put: { key: buf(op.key), value: buf(op.value), lease } });
      } else {
        success.push({ request_delete_range: { key: buf(op.key) } });
      }
    }
    const compare: ICompare[] = conditions.map((c) =>
      c.kind === 'absent'
        ? { key: buf(c.key), target: TARGET_VERSION, result: CMP_EQUAL, version: 0 }
        : c.kind === 'unchangedSince'
          ? // Every key in the range has mod_revision < revision + 1 (a range compare, etcd >= 3.3).
            {
              key: buf(c.key),
              range_end: prefixEnd(c.key),
              target: TARGET_MOD,
              result: CMP_LESS,
              mod_revision: c.revision + 1,
            }
          : { key: buf(c.key), target: TARGET_MOD, result: CMP_EQUAL, mod_revision: c.revision },
    );
    const res = await this.call(() =>
      this.client.kv.txn({
        compare,
        success,
        // On failure: each condition's key as it is now (for a prefix, its most recently modified key).
        failure: conditions.map((c) => ({
          request_range:
            c.kind === 'unchangedSince'
              ? {
                  key: buf(c.key),
                  range_end: prefixEnd(c.key),
                  sort_order: SORT_DESCEND,
                  sort_target: SORT_BY_MOD,
                  limit: 1,
                }
              : { key: buf(c.key) },
        })),
      }),
    );
    if (!res.succeeded) {
      conditions.forEach((c, i) => {
        const kv = res.responses[i]!.response_range.kvs[0];
        const found = kv ? Number(kv.mod_revision) : undefined;
        const holds =
          c.kind === 'absent'
            ? found === undefined
            : c.kind === 'unchangedSince'
              ? found === undefined || found <= c.revision
              : found === c.revision;
        if (!holds) throw conditionFailure(c, kv ? toPair(kv) : undefined);
      });
      throw new ConflictError(`transaction conditions failed: ${conditions.map((c) => c.key).join(', ')}`);
    }
    return { revision: Number(res.header.revision) };
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void): Watch {
    if (this.closed) throw new UnreachableError(`${this.description}: datastore is closed`);
    let closed = false;
    const emit = (e: WatchEvent): void => {
      if (!closed) onEvent(e);
    };
    const builder = this.client
      .watch()
      .inRange({ start: buf(prefix === '' ? '\0' : prefix), end: prefixEnd(prefix) })
      .withPreviousKV();
    if (fromRevision > 0) builder.startRevision(String(fromRevision));
    // watcher() attaches at once (create() would only hand the watcher over once connected, so an unreachable etcd
    // could never be cancelled). After the first connection the client re-attaches by itself after a disconnect,
    // resuming from the last revision it saw; only the first connection is bounded by the timeout.
    const w: EtcdWatcher = builder.watcher();
    const stop = (): void => {
      closed = true;
      clearTimeout(connectTimer);
      void w.cancel().catch(() => undefined);
    };
    const connectTimer = setTimeout(() => {
      emit({
        type: 'error',
        error: new UnreachableError(`${this.description}: watch not established within ${this.timeoutMs} ms`),
      });
      stop();
    }, this.timeoutMs);
    w.once('connected', () => clearTimeout(connectTimer));
    w.on('data', (res) => {
      for (const ev of res.events) {
        const key = ev.kv.key.toString('utf8');
        const revision = Number(ev.kv.mod_revision);
        if (ev.type === 'Put') emit({ type: 'put', key, value: ev.kv.value.toString('utf8'), revision });
        else emit({ type: 'delete', key, revision, prevValue: ev.prev_kv?.value.toString('utf8') });
      }
    });
    w.on('error', (err: Error) => {
      clearTimeout(connectTimer);
      void this.watchFailed(err, fromRevision, emit, () => (closed = true));
    });
    return {
      close: async () => {
        closed = true;
        clearTimeout(connectTimer);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          w.cancel().catch(() => undefined),
          new Promise<void>((r) => (timer = setTimeout(r, this.timeoutMs))),
        ]);
        clearTimeout(timer);
      },
    };
  }

  async currentRevision(): Promise<number> {
    // A single-key read inside Calico's tree: allowed for a user whose role covers only /calico/, and O(1).
    const res = await this.call(() => this.client.kv.range({ key: buf('/calico/'), count_only: true }));
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: true }));
    } catch (err) {
      // Same outcomes as the other backends: compacting again is a no-op, a future revision is refused.
      const message = (err as Error).message;
      if (/required revision has been compacted/.test(message)) return;
      if (/future revision/.test(message)) {
        throw new ConflictError(`compaction revision ${revision} is in the future (${this.description})`);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }

  // ---- internals ----

  /** etcd cancels a watch from a compacted revision with an empty "Watcher canceled" error: that means re-list. */
  private async watchFailed(
    err: Error,
    fromRevision: number,
    emit: (e: WatchEvent) => void,
    stop: () => void,
  ): Promise<void> {
    if (/Watcher canceled|compacted/i.test(err.message)) {
      let compactedRevision = fromRevision;
      try {
        const res = await this.call(() => this.client.maintenance.hashKV({ revision: 0 }));
        compactedRevision = Number(res.compact_revision);
      } catch {
        // keep the requested revision as the best available figure
      }
      emit({ type: 'resync-required', compactedRevision });
    } else {
      emit({ type: 'error', error: this.unreachable(err) });
    }
    stop();
  }

  private failedCas(key: string, expectedRevision: number, current: IKeyValue | undefined): never {
    if (!current) throw new NotFoundError(`resource does not exist: ${key}`, key);
    throw new ConflictError(
      `update conflict: ${key} (revision ${expectedRevision} expected, ${current.mod_revision} found)`,
      key,
    );
  }

  private written(key: string, value: string, revision: number, ttlSeconds?: number): KVPair {
    const kv: KVPair = { key, value, revision };
    if (ttlSeconds !== undefined) kv.expiresAt = Date.now() + ttlSeconds * 1000;
    return kv;
  }

  /** A lease for a TTL write (etcd leases are whole seconds), or undefined. */
  private async lease(ttlSeconds: number | undefined): Promise<string | undefined> {
    if (ttlSeconds === undefined) return undefined;
    const res = await this.call(() => this.client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlSeconds)) }));
    return res.ID;
  }

  /** Runs one RPC bounded by timeoutMs (the client's own retries and failover happen inside that bound). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new UnreachableError(`${this.description}: datastore is closed`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new UnreachableError(`${this.description}: no response within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      if (err instanceof DatastoreError) throw err;
      throw this.unreachable(err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  private unreachable(err: Error): UnreachableError {
    // gRPC messages span lines and end in an empty "Resolution note:"; keep one readable line.
    const detail = (err.message || err.constructor.name)
      .replace(/\s+/g, ' ')
      .replace(/\s*Resolution note:\s*$/, '')
      .trim();
    return new UnreachableError(`${this.description}: ${detail}`);
  }
}
