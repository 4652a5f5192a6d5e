// The one datastore interface every component uses. A flat, revisioned key/value store with compare-and-swap,
// shaped like etcd v3 (Calico's datastore); the SQLite and etcd backends implement it with identical semantics.
//
// Revisions: one global, monotonically increasing revision per store (etcd's). A key's `revision` is the store revision
// of its last modification (etcd mod_revision); Calico exposes it as metadata.resourceVersion (decimal string).

export interface KVPair {
  key: string;
  value: string;
  /** Modification revision of this key. */
  revision: number;
  /** Lease/TTL: absolute expiry in ms since epoch, if the key was written with a TTL. */
  expiresAt?: number;
}

export interface ListResult {
  items: KVPair[];
  /** The store revision the list was read at; watch from revision + 1 to continue without gaps. */
  revision: number;
}

export type WatchEvent =
  /** prevValue is not filled for puts by any backend today; do not rely on it. */
  | { type: 'put'; key: string; value: string; revision: number; prevValue?: string }
  /** prevValue: the deleted value (all backends fill it). An expired TTL key arrives as a delete. */
  | { type: 'delete'; key: string; revision: number; prevValue?: string }
  /** History before the requested revision is gone (compacted): re-list, then watch from the list's revision + 1. */
  | { type: 'resync-required'; compactedRevision: number }
  /** The watch failed and was stopped (e.g. datastore unreachable); the caller decides to retry. */
  | { type: 'error'; error: Error };

export interface Watch {
  /** Stops delivery; no event arrives after the promise resolves. */
  close(): Promise<void>;
}

export type TxnCondition =
  | { key: string; kind: 'absent' }
  | { key: string; kind: 'revision'; revision: number }
  /**
   * No key starting with `key` (a prefix) was created or modified after `revision` (deletions are not seen): lets a
   * writer that decided from a list read at `revision` commit only if that list has gained or changed nothing since.
   */
  | { key: string; kind: 'unchangedSince'; revision: number };

export type TxnOperation =
  { kind: 'put'; key: string; value: string; ttlSeconds?: number } | { kind: 'delete'; key: string };

export interface WriteOptions {
  /** Key expires after this many seconds (etcd lease); used for a few status keys only. */
  ttlSeconds?: number;
}

export interface Datastore {
  /** Human-readable identity for error messages, e.g. `sqlite /var/lib/calico/calico.db` or `etcdv3 http://10.0.0.1:2379`. */
  readonly description: string;

  get(key: string): Promise<KVPair | undefined>;
  /** Every key starting with prefix, sorted by key. */
  list(prefix: string): Promise<ListResult>;
  /** Fails with AlreadyExistsError when the key exists. */
  create(key: string, value: string, opts?: WriteOptions): Promise<KVPair>;
  /** Compare-and-swap: fails with ConflictError when the key's revision differs, NotFoundError when absent. */
  update(key: string, value: string, expectedRevision: number, opts?: WriteOptions): Promise<KVPair>;
  /** Unconditional upsert (Calico's "apply" at the KV layer). */
  put(key: string, value: string, opts?: WriteOptions): Promise<KVPair>;
  /** Deletes and returns the previous pair; with expectedRevision it is a CAS. NotFoundError when absent. */
  delete(key: string, expectedRevision?: number): Promise<KVPair>;
  /** All conditions hold -> all operations applied atomically at one new revision; else ConflictError, nothing written. */
  txn(conditions: TxnCondition[], operations: TxnOperation[]): Promise<{ revision: number }>;
  /**
   * Delivers every change under prefix with revision >= fromRevision, in revision order, to onEvent.
   * fromRevision 0 means "changes from when the watch is established" (for etcd that is a round trip after the call:
   * to miss nothing, pass a list's revision + 1). Events are delivered asynchronously, never inside the writer's call.
   * If fromRevision is older than the compacted history, delivers one `resync-required` event and stops.
   * An open watch keeps its process alive until closed.
   */
  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void): Watch;
  /** Current store revision. */
  currentRevision(): Promise<number>;
  /** Discards history older than revision (watchers from before it get `resync-required`). */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export class DatastoreError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
export class AlreadyExistsError extends DatastoreError {}
export class NotFoundError extends DatastoreError {}
export class ConflictError extends DatastoreError {}
/**
 * A txn condition failed. Carries what the store held for the failing key when the txn was refused (undefined = the
 * key was absent), so a compare-and-swap loop can retry without reading the key again.
 */
export class TxnConflictError extends ConflictError {
  constructor(
    message: string,
    key: string,
    readonly current: KVPair | undefined,
  ) {
    super(message, key);
  }
}
/** The datastore could not be reached within the configured timeout; the message names the store and endpoint. */
export class UnreachableError extends DatastoreError {}
/**
 * libcalico-go's ErrorOperationNotSupported: "operation <op> is not supported on <identifier>[: <reason>]"
 * (e.g. deleting a built-in or non-empty tier).
 */
export class OperationNotSupportedError extends DatastoreError {
  constructor(
    readonly operation: string,
    readonly identifier: string,
    readonly reason?: string,
  ) {
    super(`operation ${operation} is not supported on ${identifier}${reason ? `: ${reason}` : ''}`);
  }
}
