// What both etcd v3 clients (gRPC, etcd.ts; JSON gateway, etcd-json.ts) share about reaching etcd and failing: the
// settings, the TLS files, and the DatastoreErrors their calls end in (unreachable ones naming `etcdv3 <endpoints>`).
// Transport-free: the calico-ipam plugin loads it (via etcd-json.ts) without etcd3, gRPC, yaml or zod.
import { readFileSync } from 'node:fs';
import {
  AlreadyExistsError,
  ConflictError,
  DatastoreError,
  NotFoundError,
  UnreachableError,
  type KVPair,
  type TxnCondition,
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

/** The PEM files a TLS connection presents and verifies with; without a CA the system's roots verify the server. */
export interface EtcdTlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads the configured TLS files (undefined when none is configured); an unreadable file is an UnreachableError. */
export function readTlsFiles(settings: EtcdSettings, description: string): EtcdTlsFiles | undefined {
  if (!settings.caCertFile && !settings.certFile && !settings.keyFile) return undefined;
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UnreachableError(`${description}: cannot read ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return {
    ...(settings.caCertFile ? { ca: read('CA certificate', settings.caCertFile) } : {}),
    ...(settings.certFile ? { cert: read('client certificate', settings.certFile) } : {}),
    ...(settings.keyFile ? { key: read('client key', settings.keyFile) } : {}),
  };
}

/** The errors of one client, worded alike whichever transport raised them. */
export class EtcdErrors {
  /** `etcdv3 <endpoint>,<endpoint>`: the name every unreachable error carries. */
  readonly description: string;
  /** The bound on every call (and on connecting). */
  readonly timeoutMs: number;

  /** Refuses settings with no endpoint. */
  constructor(settings: EtcdSettings, opts: EtcdOptions) {
    if (settings.endpoints.length === 0) throw new DatastoreError('etcdv3: no endpoints configured (ETCD_ENDPOINTS)');
    this.description = `etcdv3 ${settings.endpoints.join(',')}`;
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  closed(): UnreachableError {
    return new UnreachableError(`${this.description}: datastore is closed`);
  }

  noResponse(): UnreachableError {
    return new UnreachableError(`${this.description}: no response within ${this.timeoutMs} ms`);
  }

  watchNotEstablished(): UnreachableError {
    return new UnreachableError(`${this.description}: watch not established within ${this.timeoutMs} ms`);
  }

  /** Any transport failure as one readable line naming the endpoints. */
  unreachable(err: Error): UnreachableError {
    const code = (err as NodeJS.ErrnoException).code;
    // gRPC messages span lines and end in an empty "Resolution note:"; a socket error may carry only its code.
    const detail = (err.message || (typeof code === 'string' ? code : '') || err.constructor.name)
      .replace(/\s+/g, ' ')
      .replace(/\s*Resolution note:\s*$/, '')
      .trim();
    return new UnreachableError(`${this.description}: ${detail}`);
  }

  /**
   * What a refused compaction means, as the other backends say it: compacting again is a no-op (returns), a future
   * revision is a ConflictError; anything else is rethrown.
   */
  compactionRefused(err: unknown, revision: number): void {
    const message = (err as Error).message;
    if (/required revision has been compacted/.test(message)) return;
    if (/future revision/.test(message)) {
      throw new ConflictError(`compaction revision ${revision} is in the future (${this.description})`);
    }
    throw err;
  }

  /** A refused create: the key exists. */
  alreadyExists(key: string): AlreadyExistsError {
    return new AlreadyExistsError(`resource already exists: ${key}`, key);
  }

  notFound(key: string): NotFoundError {
    return new NotFoundError(`resource does not exist: ${key}`, key);
  }

  /** A refused update/delete compare-and-swap, given the key as the txn's failure branch read it. */
  casRefused(key: string, expectedRevision: number, current: KVPair | undefined): never {
    if (!current) throw this.notFound(key);
    throw new ConflictError(
      `update conflict: ${key} (revision ${expectedRevision} expected, ${current.revision} found)`,
      key,
    );
  }

  /** A refused Datastore.txn, given each condition's key as the failure branch read it: names the first failing one. */
  conditionsRefused(conditions: TxnCondition[], current: (KVPair | undefined)[]): never {
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
}
