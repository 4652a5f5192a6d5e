// The etcd v3 requests both clients send and how their answers read, apart from the wire: key ranges for a prefix,
// libcalico-go's compare-and-swap transactions (create = If(Version==0) Put; update/delete = If(Mod==rev)), the paged
// snapshot list, and refused comparisons turned into DatastoreErrors. In: an EtcdEncoding (how the transport writes
// bytes, int64 and enums: gRPC Buffers and numbers, the JSON gateway base64 and strings); out: request objects.
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  type KVPair,
  type ListResult,
  type TxnCondition,
  type TxnOperation,
} from './types.js';
import { conditionFailure } from './conditions.js';

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

// ---- requests ----

export const keyRequest = <W extends EtcdWire>(enc: EtcdEncoding<W>, key: string): RangeRequest<W> => ({
  key: enc.bytes(key),
});

export function putRequest<W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  key: string,
  value: string,
  lease: string | undefined,
): PutRequest<W> {
  return { key: enc.bytes(key), value: enc.bytes(value), ...(lease !== undefined ? { lease } : {}) };
}

/** An unconditional delete that returns what it deleted. */
export const deleteRequest = <W extends EtcdWire>(enc: EtcdEncoding<W>, key: string): DeleteRangeRequest<W> => ({
  key: enc.bytes(key),
  prev_kv: true,
});

/** A single-key read inside Calico's tree: allowed for a user whose role covers only /calico/, and O(1). */
export const revisionRequest = <W extends EtcdWire>(enc: EtcdEncoding<W>): RangeRequest<W> => ({
  key: enc.bytes('/calico/'),
  count_only: true,
});

/** A lease for a TTL write: etcd leases are whole seconds, at least one. */
export const leaseGrantRequest = <W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  ttlSeconds: number,
): { TTL: W['int64'] } => ({
  TTL: enc.int64(Math.max(1, Math.ceil(ttlSeconds))),
});

export const compactionRequest = <W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  revision: number,
): { revision: W['int64']; physical: boolean } => ({ revision: enc.int64(revision), physical: true });

const absent = <W extends EtcdWire>(enc: EtcdEncoding<W>, key: string): Compare<W> => ({
  key: enc.bytes(key),
  target: enc.targetVersion,
  result: enc.equal,
  version: enc.int64(0),
});

const modifiedAt = <W extends EtcdWire>(enc: EtcdEncoding<W>, key: string, revision: number): Compare<W> => ({
  key: enc.bytes(key),
  target: enc.targetMod,
  result: enc.equal,
  mod_revision: enc.int64(revision),
});

/** Create: If(Version==0) Put Else Get. */
export function createTxn<W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  key: string,
  value: string,
  lease: string | undefined,
): TxnRequest<W> {
  return {
    compare: [absent(enc, key)],
    success: [{ request_put: putRequest(enc, key, value, lease) }],
    failure: [{ request_range: keyRequest(enc, key) }],
  };
}

/** Update: If(Mod==rev) Put Else Get. */
export function updateTxn<W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  key: string,
  value: string,
  expectedRevision: number,
  lease: string | undefined,
): TxnRequest<W> {
  return {
    compare: [modifiedAt(enc, key, expectedRevision)],
    success: [{ request_put: putRequest(enc, key, value, lease) }],
    failure: [{ request_range: keyRequest(enc, key) }],
  };
}

/** Delete: If(Mod==rev) DeleteRange(prevKV) Else Get. */
export function deleteTxn<W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  key: string,
  expectedRevision: number,
): TxnRequest<W> {
  return {
    compare: [modifiedAt(enc, key, expectedRevision)],
    success: [{ request_delete_range: deleteRequest(enc, key) }],
    failure: [{ request_range: keyRequest(enc, key) }],
  };
}

/**
 * Datastore.txn: all conditions -> all operations (leases[i]: the lease of operations[i], for a TTL put); on failure
 * each condition's key as it is now (for a prefix, its most recently modified key), read by conditionsRefused.
 */
export function conditionalTxn<W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  conditions: TxnCondition[],
  operations: TxnOperation[],
  leases: (string | undefined)[],
): TxnRequest<W> {
  return {
    compare: conditions.map((c) =>
      c.kind === 'absent'
        ? absent(enc, c.key)
        : c.kind === 'unchangedSince'
          ? // Every key in the range has mod_revision < revision + 1 (a range compare, etcd >= 3.3).
            {
              key: enc.bytes(c.key),
              range_end: enc.bytes(prefixEnd(c.key)),
              target: enc.targetMod,
              result: enc.less,
              mod_revision: enc.int64(c.revision + 1),
            }
          : modifiedAt(enc, c.key, c.revision),
    ),
    success: operations.map((op, i) =>
      op.kind === 'put'
        ? { request_put: putRequest(enc, op.key, op.value, leases[i]) }
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
          : keyRequest(enc, c.key),
    })),
  };
}

// ---- answers ----

/** One page of a range read, decoded by the transport. */
export interface RangePage {
  items: KVPair[];
  /** The raw key of the page's last item (keys are bytes; the next page starts just after it). */
  lastKey: Buffer | undefined;
  more: boolean;
  revision: number;
}

/**
 * Every key under prefix, read in pages (one gRPC response is limited to 4 MiB: a cluster's WorkloadEndpoints exceed
 * it). Every page is read at the first page's revision, so the result is one consistent snapshot.
 */
export async function listInPages<W extends EtcdWire>(
  enc: EtcdEncoding<W>,
  prefix: string,
  readPage: (request: RangeRequest<W>) => Promise<RangePage>,
): Promise<ListResult> {
  const end = enc.bytes(prefixEnd(prefix));
  let start = rangeStart(prefix);
  const items: KVPair[] = [];
  let revision: number | undefined;
  for (;;) {
    const page = await readPage({
      key: enc.bytes(start),
      range_end: end,
      limit: enc.int64(1000),
      ...(revision ? { revision: enc.int64(revision) } : {}),
    });
    items.push(...page.items);
    revision ??= page.revision;
    if (!page.more || page.items.length === 0 || !page.lastKey) break;
    start = keyAfter(page.lastKey);
  }
  return { items, revision };
}

/** The pair a write stored, at the revision etcd answered with. */
export function writtenPair(key: string, value: string, revision: number, ttlSeconds?: number): KVPair {
  const kv: KVPair = { key, value, revision };
  if (ttlSeconds !== undefined) kv.expiresAt = Date.now() + ttlSeconds * 1000;
  return kv;
}

/** A refused create: the key exists. */
export const alreadyExists = (key: string): AlreadyExistsError =>
  new AlreadyExistsError(`resource already exists: ${key}`, key);

/** The key is absent (a delete found nothing, or a compare-and-swap's key is gone). */
export const notFound = (key: string): NotFoundError => new NotFoundError(`resource does not exist: ${key}`, key);

/** A refused update/delete compare-and-swap, given the key as the failure branch read it. */
export function casRefused(key: string, expectedRevision: number, current: KVPair | undefined): never {
  if (!current) throw notFound(key);
  throw new ConflictError(
    `update conflict: ${key} (revision ${expectedRevision} expected, ${current.revision} found)`,
    key,
  );
}

/** A refused conditionalTxn, given each condition's key as the failure branch read it: names the first failing one. */
export function conditionsRefused(conditions: TxnCondition[], current: (KVPair | undefined)[]): never {
  conditions.forEach((c, i) => {
    const kv = current[i];
    const found = kv?.revision;
    const holds =
      c.kind === 'absent'
        ? found === undefined
        : c.kind === 'unchangedSince'
          ? found === undefined || found <= c.revision
          : found === c.revision;
    if (!holds) throw conditionFailure(c, kv);
  });
  throw new ConflictError(`transaction conditions failed: ${conditions.map((c) => c.key).join(', ')}`);
}
