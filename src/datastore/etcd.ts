// etcd v3 Datastore (`etcd3` client): Calico's etcdv3 backend. Writes are the CAS transactions of Calico's
// libcalico-go (ipam.md §3.1), built in etcd-requests.ts; several endpoints (the client fails over), TLS client
// certificates, username/password; every call is bounded by timeoutMs and fails naming `etcdv3 <endpoints>`.
// Loaded lazily (etcd3 costs ~75 ms to import): openDatastore imports this module only for DATASTORE_TYPE=etcdv3.
import { Etcd3, type IKeyValue, type IRangeResponse, type ITxnResponse, type Watcher as EtcdWatcher } from 'etcd3';
import {
  DatastoreError,
  type Datastore,
  type KVPair,
  type ListResult,
  type TxnCondition,
  type TxnOperation,
  type Watch,
  type WatchEvent,
  type WriteOptions,
} from './types.js';
import { EtcdErrors, readTlsFiles, type EtcdOptions, type EtcdSettings } from './etcd-connection.js';
import { EtcdRequests, type EtcdEncoding } from './etcd-requests.js';

export type { EtcdOptions, EtcdSettings } from './etcd-connection.js';

/** gRPC's wire: Buffers, numbers, and the numeric values of rpc.proto's enums (no runtime import besides Etcd3). */
type GrpcWire = { bytes: Buffer; int64: number; enumValue: number };
export const grpcEncoding: EtcdEncoding<GrpcWire> = {
  bytes: (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v),
  int64: (n) => n,
  targetVersion: 0,
  targetMod: 2,
  equal: 0,
  less: 2,
  descend: 2,
  sortByMod: 3,
};
const grpc = new EtcdRequests(grpcEncoding);

function toPair(kv: IKeyValue): KVPair {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), revision: Number(kv.mod_revision) };
}

/** The key a txn's failure branch read as its i-th response. */
function failureRead(res: ITxnResponse, i: number): KVPair | undefined {
  const kv = res.responses[i]!.response_range.kvs[0];
  return kv ? toPair(kv) : undefined;
}

export class EtcdDatastore implements Datastore {
  readonly description: string;
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly errors: EtcdErrors;
  private closed = false;

  constructor(settings: EtcdSettings, opts: EtcdOptions = {}) {
    this.errors = new EtcdErrors(settings, opts);
    this.description = this.errors.description;
    this.timeoutMs = this.errors.timeoutMs;
    const tls = readTlsFiles(settings, this.description);
    const timeoutMs = this.timeoutMs;
    this.client = new Etcd3({
      hosts: settings.endpoints,
      dialTimeout: timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      ...(tls
        ? {
            credentials: {
              // Without a CA file gRPC verifies the server against the system's roots.
              rootCertificate: tls.ca as Buffer,
              ...(tls.cert ? { certChain: tls.cert } : {}),
              ...(tls.key ? { privateKey: tls.key } : {}),
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
    const res = await this.call(() => this.client.kv.range(grpc.key(key)));
    const kv = res.kvs[0];
    return kv ? toPair(kv) : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    return grpc.list(prefix, async (request) => {
      const res: IRangeResponse = await this.call(() => this.client.kv.range(request));
      return {
        items: res.kvs.map(toPair),
        lastKey: res.kvs[res.kvs.length - 1]?.key,
        more: res.more,
        revision: Number(res.header.revision),
      };
    });
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call(() => this.client.kv.txn(grpc.createTxn(key, value, lease)));
    if (!res.succeeded) throw this.errors.alreadyExists(key);
    return grpc.written(key, value, Number(res.header.revision), opts?.ttlSeconds);
  }

  async update(key: string, value: string, expectedRevision: number, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call(() => this.client.kv.txn(grpc.updateTxn(key, value, expectedRevision, lease)));
    if (!res.succeeded) this.errors.casRefused(key, expectedRevision, failureRead(res, 0));
    return grpc.written(key, value, Number(res.header.revision), opts?.ttlSeconds);
  }

  async put(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call(() => this.client.kv.put(grpc.put(key, value, lease)));
    return grpc.written(key, value, Number(res.header.revision), opts?.ttlSeconds);
  }

  async delete(key: string, expectedRevision?: number): Promise<KVPair> {
    if (expectedRevision === undefined) {
      const res = await this.call(() => this.client.kv.deleteRange(grpc.delete(key)));
      const prev = res.prev_kvs[0];
      if (!prev) throw this.errors.notFound(key);
      return toPair(prev);
    }
    const res = await this.call(() => this.client.kv.txn(grpc.deleteTxn(key, expectedRevision)));
    if (!res.succeeded) this.errors.casRefused(key, expectedRevision, failureRead(res, 0));
    const prev = res.responses[0]!.response_delete_range.prev_kvs[0];
    // Mod==rev cannot hold for a missing key (its mod revision is 0), so prev exists here.
    return toPair(prev!);
  }

  async txn(conditions: TxnCondition[], operations: TxnOperation[]): Promise<{ revision: number }> {
    const leases: (string | undefined)[] = [];
    for (const op of operations) leases.push(op.kind === 'put' ? await this.lease(op.ttlSeconds) : undefined);
    const res = await this.call(() => this.client.kv.txn(grpc.conditionalTxn(conditions, operations, leases)));
    if (!res.succeeded) {
      this.errors.conditionsRefused(
        conditions,
        conditions.map((_, i) => failureRead(res, i)),
      );
    }
    return { revision: Number(res.header.revision) };
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void): Watch {
    if (this.closed) throw this.errors.closed();
    let closed = false;
    const emit = (e: WatchEvent): void => {
      if (!closed) onEvent(e);
    };
    const range = grpc.prefix(prefix);
    const builder = this.client.watch().inRange({ start: range.key, end: range.range_end }).withPreviousKV();
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
      emit({ type: 'error', error: this.errors.watchNotEstablished() });
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
    const res = await this.call(() => this.client.kv.range(grpc.currentRevision()));
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call(() => this.client.kv.compact(grpc.compaction(revision)));
    } catch (err) {
      this.errors.compactionRefused(err, revision);
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
      emit({ type: 'error', error: this.errors.unreachable(err) });
    }
    stop();
  }

  /** A lease for a TTL write (etcd leases are whole seconds), or undefined. */
  private async lease(ttlSeconds: number | undefined): Promise<string | undefined> {
    if (ttlSeconds === undefined) return undefined;
    const res = await this.call(() => this.client.leaseClient.leaseGrant(grpc.leaseGrant(ttlSeconds)));
    return res.ID;
  }

  /** Runs one RPC bounded by timeoutMs (the client's own retries and failover happen inside that bound). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.errors.closed();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.errors.noResponse()), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      if (err instanceof DatastoreError) throw err;
      throw this.errors.unreachable(err as Error);
    } finally {
      clearTimeout(timer);
    }
  }
}
