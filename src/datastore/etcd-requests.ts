// The etcd v3 requests both clients (etcd.ts, etcd-json.ts) send, apart from the wire: key ranges for a prefix,
// libcalico-go's compare-and-swap transactions (create = If(Version==0) Put; update/delete = If(Mod==rev)), the paged
// snapshot list. In: an EtcdEncoding (how the transport writes bytes, int64 and enums: gRPC Buffers and numbers, the
// JSON gateway base64 and strings); out: request objects in rpc.proto's field names, which both transports take.
import type { KVPair, ListResult, TxnCondition, TxnOperation } from './types.js';

/** The types one transport writes etcd's fields in. */
export interface EtcdWire {
  bytes: unknown;
  int64: unknown;
  enumValue: unknown;
}

/** How one transport writes rpc.proto's bytes, int64 and the few enum values these requests use. */
export interface EtcdEncoding<W extends EtcdWire> {
  bytes(value: string | Buffer): W['bytes'];
  int64(n: number): W['int64'];
  /** Compare.target */
  targetVersion: W['enumValue'];
  targetMod: W['enumValue'];
  /** Compare.result */
  equal: W['enumValue'];
  less: W['enumValue'];
  /** RangeRequest.sort_order, sort_target */
  descend: W['enumValue'];
  sortByMod: W['enumValue'];
}

export interface Compare<W extends EtcdWire> {
  key: W['bytes'];
  range_end?: W['bytes'];
  target: W['enumValue'];
  result: W['enumValue'];
  version?: W['int64'];
  mod_revision?: W['int64'];
}
export interface RangeRequest<W extends EtcdWire> {
  key: W['bytes'];
  range_end?: W['bytes'];
  limit?: W['int64'];
  revision?: W['int64'];
  sort_order?: W['enumValue'];
  sort_target?: W['enumValue'];
  count_only?: boolean;
}
export interface PutRequest<W extends EtcdWire> {
  key: W['bytes'];
  value: W['bytes'];
  /** A lease ID as etcd handed it out (decimal string). */
  lease?: string;
}
export interface DeleteRangeRequest<W extends EtcdWire> {
  key: W['bytes'];
  prev_kv?: boolean;
}
export interface RequestOp<W extends EtcdWire> {
  request_range?: RangeRequest<W>;
  request_put?: PutRequest<W>;
  request_delete_range?: DeleteRangeRequest<W>;
}
export interface TxnRequest<W extends EtcdWire> {
  compare: Compare<W>[];
  success: RequestOp<W>[];
  failure: RequestOp<W>[];
}

/** One page of a range read, decoded by the transport. */
export interface RangePage {
  items: KVPair[];
  /** The raw key of the page's last item (keys are bytes; the next page starts just after it). */
  lastKey: Buffer | undefined;
  more: boolean;
  revision: number;
}

// ---- key ranges ----

/** Smallest key greater than every key starting with prefix ('\0' = to the end of the keyspace, as etcd means it). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** First key of a prefix's range (the empty prefix starts at '\0': etcd reads an empty key as "this key only"). */
export const rangeStart = (prefix: string): Buffer => Buffer.from(prefix === '' ? '\0' : prefix, 'utf8');

/** The smallest key after key: where the next page of a range read starts. */
export const keyAfter = (key: Buffer): Buffer => Buffer.concat([key, Buffer.from([0])]);

/** The requests of one transport, written in its encoding. */
export class EtcdRequests<W extends EtcdWire> {
  constructor(readonly enc: EtcdEncoding<W>) {}

  /** Every key starting with prefix, as a range (also a watch's). */
  prefix(prefix: string): { key: W['bytes']; range_end: W['bytes'] } {
    return { key: this.enc.bytes(rangeStart(prefix)), range_end: this.enc.bytes(prefixEnd(prefix)) };
  }

  key(key: string): RangeRequest<W> {
    return { key: this.enc.bytes(key) };
  }

  put(key: string, value: string, lease: string | undefined): PutRequest<W> {
    return { key: this.enc.bytes(key), value: this.enc.bytes(value), ...(lease !== undefined ? { lease } : {}) };
  }

  /** An unconditional delete that returns what it deleted. */
  delete(key: string): DeleteRangeRequest<W> {
    return { key: this.enc.bytes(key), prev_kv: true };
  }

  /** A single-key read inside Calico's tree: allowed for a user whose role covers only /calico/, and O(1). */
  currentRevision(): RangeRequest<W> {
    return { key: this.enc.bytes('/calico/'), count_only: true };
  }

  /** A lease for a TTL write: etcd leases are whole seconds, at least one. */
  leaseGrant(ttlSeconds: number): { TTL: W['int64'] } {
    return { TTL: this.enc.int64(Math.max(1, Math.ceil(ttlSeconds))) };
  }

  compaction(revision: number): { revision: W['int64']; physical: boolean } {
    return { revision: this.enc.int64(revision), physical: true };
  }

  /** Create: If(Version==0) Put Else Get. */
  createTxn(key: string, value: string, lease: string | undefined): TxnRequest<W> {
    return this.casTxn(this.absent(key), { request_put: this.put(key, value, lease) });
  }

  /** Update: If(Mod==rev) Put Else Get. */
  updateTxn(key: string, value: string, expectedRevision: number, lease: string | undefined): TxnRequest<W> {
    return this.casTxn(this.modifiedAt(key, expectedRevision), { request_put: this.put(key, value, lease) });
  }

  /** Delete: If(Mod==rev) DeleteRange(prevKV) Else Get. */
  deleteTxn(key: string, expectedRevision: number): TxnRequest<W> {
    return this.casTxn(this.modifiedAt(key, expectedRevision), { request_delete_range: this.delete(key) });
  }

  /**
   * Datastore.txn: all conditions -> all operations (leases[i]: the lease of operations[i], for a TTL put); on failure
   * each condition's key as it is now (for a prefix, its most recently modified key), for EtcdErrors.conditionsRefused.
   */
  conditionalTxn(
    conditions: TxnCondition[],
    operations: TxnOperation[],
    leases: (string | undefined)[],
  ): TxnRequest<W> {
    const enc = this.enc;
    return {
      compare: conditions.map((c) =>
        c.kind === 'absent'
          ? this.absent(c.key)
          : c.kind === 'unchangedSince'
            ? // Every key in the range has mod_revision < revision + 1 (a range compare, etcd >= 3.3).
              {
                key: enc.bytes(c.key),
                range_end: enc.bytes(prefixEnd(c.key)),
                target: enc.targetMod,
                result: enc.less,
                mod_revision: enc.int64(c.revision + 1),
              }
            : this.modifiedAt(c.key, c.revision),
      ),
      success: operations.map((op, i) =>
        op.kind === 'put'
          ? { request_put: this.put(op.key, op.value, leases[i]) }
          : { request_delete_range: { key: enc.bytes(op.key) } },
      ),
      failure: conditions.map((c) => ({
        request_range:
          c.kind === 'unchangedSince'
            ? {
                key: enc.bytes(c.key),
                range_end: enc.bytes(prefixEnd(c.key)),
                sort_order: enc.descend,
                sort_target: enc.sortByMod,
                limit: enc.int64(1),
              }
            : this.key(c.key),
      })),
    };
  }

  /**
   * Every key under prefix, read in pages (one gRPC response is limited to 4 MiB: a cluster's WorkloadEndpoints
   * exceed it). Every page is read at the first page's revision, so the result is one consistent snapshot.
   */
  async list(prefix: string, readPage: (request: RangeRequest<W>) => Promise<RangePage>): Promise<ListResult> {
    const end = this.enc.bytes(prefixEnd(prefix));
    let start = rangeStart(prefix);
    const items: KVPair[] = [];
    let revision: number | undefined;
    for (;;) {
      const page = await readPage({
        key: this.enc.bytes(start),
        range_end: end,
        limit: this.enc.int64(1000),
        ...(revision ? { revision: this.enc.int64(revision) } : {}),
      });
      items.push(...page.items);
      revision ??= page.revision;
      if (!page.more || page.items.length === 0 || !page.lastKey) break;
      start = keyAfter(page.lastKey);
    }
    return { items, revision };
  }

  /** The pair a write stored, at the revision etcd answered with. */
  written(key: string, value: string, revision: number, ttlSeconds?: number): KVPair {
    const kv: KVPair = { key, value, revision };
    if (ttlSeconds !== undefined) kv.expiresAt = Date.now() + ttlSeconds * 1000;
    return kv;
  }

  /** A one-key compare-and-swap: If(compare) success Else Get the key. */
  private casTxn(compare: Compare<W>, success: RequestOp<W>): TxnRequest<W> {
    const key = compare.key;
    return { compare: [compare], success: [success], failure: [{ request_range: { key } }] };
  }

  private absent(key: string): Compare<W> {
    const enc = this.enc;
    return { key: enc.bytes(key), target: enc.targetVersion, result: enc.equal, version: enc.int64(0) };
  }

  private modifiedAt(key: string, revision: number): Compare<W> {
    const enc = this.enc;
    return { key: enc.bytes(key), target: enc.targetMod, result: enc.equal, mod_revision: enc.int64(revision) };
  }
}
