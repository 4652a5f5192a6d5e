// etcd v3 Datastore over etcd's JSON gateway (POST /v3/kv/*, /v3/watch on the client URL, HTTP/1.1): the same
// records, compare-and-swap transactions and errors as etcd.ts, without loading gRPC and parsing rpc.proto (~130 ms
// of CPU per process). For short-lived processes (the calico-ipam plugin execs once per CNI request); long-running
// components keep the gRPC client. Bytes travel base64-encoded and int64 fields as decimal strings, as the gateway does.
import http from 'node:http';
import type { Agent, IncomingMessage } from 'node:http';
import {
  DatastoreError,
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
import { EtcdErrors, readTlsFiles, type EtcdOptions, type EtcdSettings } from './etcd-connection.js';
import { EtcdRequests, type EtcdEncoding } from './etcd-requests.js';

/** A key/value as the gateway returns it (defaults are omitted: a missing field is 0 or empty). */
interface JsonKv {
  key: string;
  value?: string;
  mod_revision?: string;
}
interface JsonHeader {
  revision?: string;
}
interface JsonRange {
  header?: JsonHeader;
  kvs?: JsonKv[];
  more?: boolean;
}
interface JsonTxn {
  header?: JsonHeader;
  succeeded?: boolean;
  responses?: { response_range?: JsonRange; response_delete_range?: { prev_kvs?: JsonKv[] } }[];
}

/** The gateway's wire: bytes in base64, int64 as decimal strings, enums by name. */
type JsonWire = { bytes: string; int64: string; enumValue: string };
export const jsonEncoding: EtcdEncoding<JsonWire> = {
  bytes: (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64'),
  int64: (n) => String(n),
  targetVersion: 'VERSION',
  targetMod: 'MOD',
  equal: 'EQUAL',
  less: 'LESS',
  descend: 'DESCEND',
  sortByMod: 'MOD',
};
const json = new EtcdRequests(jsonEncoding);
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

function toPair(kv: JsonKv): KVPair {
  return { key: unb64(kv.key), value: unb64(kv.value), revision: Number(kv.mod_revision ?? 0) };
}

/** The key a txn's failure branch read as its i-th response. */
function failureRead(res: JsonTxn, i: number): KVPair | undefined {
  const kv = res.responses?.[i]?.response_range?.kvs?.[0];
  return kv ? toPair(kv) : undefined;
}

const revisionOf = (res: { header?: JsonHeader }): number => Number(res.header?.revision ?? 0);

/** An error etcd answered with (HTTP status != 200): `{"error","message","code"}` with a gRPC status code. */
class EtcdReplyError extends Error {
  constructor(
    message: string,
    readonly grpcCode: number,
  ) {
    super(message);
  }
}

// gRPC codes the gateway passes on: 14 Unavailable (no leader, leader changed) is worth another try within the bound;
// 16 Unauthenticated (an expired simple token) means authenticate again.
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;
// Failures before a request reached etcd: the next endpoint (or another try) cannot apply a write twice.
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

export class EtcdJsonDatastore implements Datastore {
  readonly description: string;
  private readonly endpoints: URL[];
  private readonly timeoutMs: number;
  private readonly errors: EtcdErrors;
  private readonly settings: EtcdSettings;
  private agent: Promise<{ agent: Agent; request: typeof http.request }> | undefined;
  /** Index of the endpoint that answered last: later calls start there. */
  private current = 0;
  private token: Promise<string> | undefined;
  private closed = false;
  private readonly openRequests = new Set<http.ClientRequest>();

  constructor(settings: EtcdSettings, opts: EtcdOptions = {}) {
    this.errors = new EtcdErrors(settings, opts);
    this.description = this.errors.description;
    this.timeoutMs = this.errors.timeoutMs;
    this.settings = settings;
    this.endpoints = settings.endpoints.map((e) => new URL(e));
    const schemes = new Set(this.endpoints.map((u) => u.protocol));
    if (schemes.size > 1) throw new DatastoreError(`${this.description}: endpoints mix http:// and https://`);
  }

  async get(key: string): Promise<KVPair | undefined> {
    const res = await this.call<JsonRange>('/v3/kv/range', json.key(key));
    const kv = res.kvs?.[0];
    return kv ? toPair(kv) : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    return json.list(prefix, async (request) => {
      const res = await this.call<JsonRange>('/v3/kv/range', request);
      const kvs = res.kvs ?? [];
      const last = kvs[kvs.length - 1];
      return {
        items: kvs.map(toPair),
        lastKey: last && Buffer.from(last.key, 'base64'),
        more: res.more ?? false,
        revision: revisionOf(res),
      };
    });
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call<JsonTxn>('/v3/kv/txn', json.createTxn(key, value, lease));
    if (!res.succeeded) throw this.errors.alreadyExists(key);
    return json.written(key, value, revisionOf(res), opts?.ttlSeconds);
  }

  async update(key: string, value: string, expectedRevision: number, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call<JsonTxn>('/v3/kv/txn', json.updateTxn(key, value, expectedRevision, lease));
    if (!res.succeeded) this.errors.casRefused(key, expectedRevision, failureRead(res, 0));
    return json.written(key, value, revisionOf(res), opts?.ttlSeconds);
  }

  async put(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const lease = await this.lease(opts?.ttlSeconds);
    const res = await this.call<{ header?: JsonHeader }>('/v3/kv/put', json.put(key, value, lease));
    return json.written(key, value, revisionOf(res), opts?.ttlSeconds);
  }

  async delete(key: string, expectedRevision?: number): Promise<KVPair> {
    if (expectedRevision === undefined) {
      const res = await this.call<{ prev_kvs?: JsonKv[] }>('/v3/kv/deleterange', json.delete(key));
      const prev = res.prev_kvs?.[0];
      if (!prev) throw this.errors.notFound(key);
      return toPair(prev);
    }
    const res = await this.call<JsonTxn>('/v3/kv/txn', json.deleteTxn(key, expectedRevision));
    if (!res.succeeded) this.errors.casRefused(key, expectedRevision, failureRead(res, 0));
    // Mod==rev cannot hold for a missing key (its mod revision is 0), so prev exists here.
    return toPair(res.responses![0]!.response_delete_range!.prev_kvs![0]!);
  }

  async txn(conditions: TxnCondition[], operations: TxnOperation[]): Promise<{ revision: number }> {
    const leases: (string | undefined)[] = [];
    for (const op of operations) leases.push(op.kind === 'put' ? await this.lease(op.ttlSeconds) : undefined);
    const res = await this.call<JsonTxn>('/v3/kv/txn', json.conditionalTxn(conditions, operations, leases));
    if (!res.succeeded) {
      this.errors.conditionsRefused(
        conditions,
        conditions.map((_, i) => failureRead(res, i)),
      );
    }
    return { revision: revisionOf(res) };
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void): Watch {
    if (this.closed) throw this.errors.closed();
    let closed = false;
    let connected = false;
    let next = fromRevision; // after a disconnect the stream resumes from the revision after the last one seen
    let req: http.ClientRequest | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const emit = (e: WatchEvent): void => {
      if (!closed) onEvent(e);
    };
    const stop = (): void => {
      closed = true;
      clearTimeout(connectTimer);
      clearTimeout(retryTimer);
      req?.destroy();
    };
    const fail = (e: WatchEvent): void => {
      emit(e);
      stop();
    };
    const connectTimer = setTimeout(
      () => fail({ type: 'error', error: this.errors.watchNotEstablished() }),
      this.timeoutMs,
    );
    const onLine = (line: string): void => {
      const msg = JSON.parse(line) as {
        result?: {
          created?: boolean;
          canceled?: boolean;
          compact_revision?: string;
          cancel_reason?: string;
          events?: { type?: string; kv: JsonKv; prev_kv?: JsonKv }[];
        };
        error?: { message?: string };
      };
      const r = msg.result;
      if (!r) {
        fail({ type: 'error', error: new UnreachableError(`${this.description}: ${msg.error?.message ?? line}`) });
        return;
      }
      if (r.created && !connected) {
        connected = true;
        clearTimeout(connectTimer);
      }
      if (r.canceled) {
        if (Number(r.compact_revision ?? 0) > 0) {
          fail({ type: 'resync-required', compactedRevision: Number(r.compact_revision) });
        } else {
          fail({
            type: 'error',
            error: new UnreachableError(
              `${this.description}: watch cancelled: ${r.cancel_reason ?? 'no reason given'}`,
            ),
          });
        }
        return;
      }
      for (const ev of r.events ?? []) {
        const key = unb64(ev.kv.key);
        const revision = Number(ev.kv.mod_revision ?? 0);
        next = revision + 1;
        if (ev.type === 'DELETE')
          emit({ type: 'delete', key, revision, prevValue: ev.prev_kv && unb64(ev.prev_kv.value) });
        else emit({ type: 'put', key, value: unb64(ev.kv.value), revision });
      }
    };
    const open = async (): Promise<void> => {
      const body = {
        create_request: {
          ...json.prefix(prefix),
          prev_kv: true,
          ...(next > 0 ? { start_revision: String(next) } : {}),
        },
      };
      const { agent, request } = await this.transport();
      const headers = await this.headers();
      if (closed) return;
      const url = this.endpoints[this.current]!;
      req = request(url, { method: 'POST', path: '/v3/watch', agent, headers });
      this.openRequests.add(req);
      req.once('close', () => this.openRequests.delete(req!));
      const reconnect = (): void => {
        if (closed) return;
        // Before the first connection the bound above decides; afterwards re-attach (next endpoint) as etcd3 does.
        this.current = (this.current + 1) % this.endpoints.length;
        retryTimer = setTimeout(() => void open().catch(reconnect), connected ? 200 : 50);
      };
      req.on('error', reconnect);
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          void readBody(res).then((text) => fail({ type: 'error', error: this.replyError(res.statusCode, text) }));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line || closed) continue;
            try {
              onLine(line);
            } catch (err) {
              fail({ type: 'error', error: this.errors.unreachable(err as Error) });
            }
          }
        });
        res.on('end', reconnect);
        res.on('error', reconnect);
      });
      req.end(JSON.stringify(body));
    };
    void open().catch((err: unknown) => fail({ type: 'error', error: this.errors.unreachable(err as Error) }));
    return {
      close: async () => {
        stop();
      },
    };
  }

  async currentRevision(): Promise<number> {
    return revisionOf(await this.call<JsonRange>('/v3/kv/range', json.currentRevision()));
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.call('/v3/kv/compaction', json.compaction(revision));
    } catch (err) {
      this.errors.compactionRefused(err, revision);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.openRequests) r.destroy();
    if (this.agent) (await this.agent).agent.destroy();
  }

  // ---- internals ----

  /** A lease for a TTL write, or undefined. */
  private async lease(ttlSeconds: number | undefined): Promise<string | undefined> {
    if (ttlSeconds === undefined) return undefined;
    return (await this.call<{ ID: string }>('/v3/lease/grant', json.leaseGrant(ttlSeconds))).ID;
  }

  /** One keep-alive agent per datastore; https (and the certificate files) only for https endpoints. */
  private transport(): Promise<{ agent: Agent; request: typeof http.request }> {
    this.agent ??= (async () => {
      if (this.endpoints[0]!.protocol === 'http:') {
        return { agent: new http.Agent({ keepAlive: true }), request: http.request };
      }
      const https = await import('node:https');
      // Without a CA file the server is verified against the system's roots.
      const agent = new https.Agent({ keepAlive: true, ...readTlsFiles(this.settings, this.description) });
      return { agent, request: https.request as unknown as typeof http.request };
    })();
    return this.agent;
  }

  private async headers(): Promise<Record<string, string>> {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (this.settings.username) h.authorization = await this.authToken();
    return h;
  }

  private authToken(): Promise<string> {
    this.token ??= this.post<{ token: string }>('/v3/auth/authenticate', {
      name: this.settings.username,
      password: this.settings.password ?? '',
    }).then((r) => r.token);
    this.token.catch(() => (this.token = undefined));
    return this.token;
  }

  /** One call, bounded by timeoutMs, failing over across endpoints (and re-authenticating once) inside that bound. */
  private async call<T>(path: string, body: unknown): Promise<T> {
    if (this.closed) throw this.errors.closed();
    const deadline = Date.now() + this.timeoutMs;
    let reauthenticated = false;
    let lastError: Error | undefined;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      // A pause only after every endpoint has refused once.
      if (attempt > 0 && attempt % this.endpoints.length === 0) {
        await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
      }
      try {
        return await this.post<T>(path, body, deadline);
      } catch (err) {
        if (err instanceof EtcdReplyError) {
          if (err.grpcCode === UNAUTHENTICATED && this.settings.username && !reauthenticated) {
            reauthenticated = true;
            this.token = undefined;
            continue;
          }
          // As etcd.ts reports every error the gRPC client raises.
          if (err.grpcCode !== UNAVAILABLE) throw this.errors.unreachable(err);
        } else if (err instanceof DatastoreError) {
          throw err;
        } else if (!CONNECT_ERRORS.has((err as NodeJS.ErrnoException).code ?? '') && !isStaleSocket(err)) {
          throw this.errors.unreachable(err as Error);
        }
        lastError = err as Error;
        this.current = (this.current + 1) % this.endpoints.length;
      }
    }
    throw lastError ? this.errors.unreachable(lastError) : this.errors.noResponse();
  }

  private async post<T>(path: string, body: unknown, deadline = Date.now() + this.timeoutMs): Promise<T> {
    const { agent, request } = await this.transport();
    const headers = path === '/v3/auth/authenticate' ? { 'content-type': 'application/json' } : await this.headers();
    const url = this.endpoints[this.current]!;
    return new Promise<T>((resolve, reject) => {
      const req = request(url, { method: 'POST', path, agent, headers });
      const timer = setTimeout(
        () => {
          req.destroy();
          reject(this.errors.noResponse());
        },
        Math.max(1, deadline - Date.now()),
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(Object.assign(err, { reusedSocket: req.reusedSocket }));
      });
      req.on('response', (res) => {
        readBody(res).then(
          (text) => {
            clearTimeout(timer);
            if (res.statusCode === 200) resolve(JSON.parse(text) as T);
            else reject(this.replyError(res.statusCode, text));
          },
          (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        );
      });
      req.end(JSON.stringify(body));
    });
  }

  private replyError(status: number | undefined, text: string): EtcdReplyError {
    try {
      const j = JSON.parse(text) as { message?: string; error?: string; code?: number };
      return new EtcdReplyError(j.message ?? j.error ?? text, j.code ?? 2);
    } catch {
      return new EtcdReplyError(`HTTP ${status}: ${text.trim().slice(0, 200)}`, 2);
    }
  }
}

/** A kept-alive socket the server had closed: the request never reached etcd, so sending it again is safe. */
function isStaleSocket(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
  return e.reusedSocket === true && e.code === 'ECONNRESET';
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
