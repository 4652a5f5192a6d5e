// What both etcd v3 clients (gRPC, etcd.ts; JSON gateway, etcd-json.ts) share about reaching etcd: the settings, the
// TLS files, and the errors every call fails with, each naming `etcdv3 <endpoints>`. Transport-free: it must stay
// loadable by the calico-ipam plugin without etcd3, gRPC, yaml or zod (etcd-json.ts imports it).
import { readFileSync } from 'node:fs';
import { ConflictError, DatastoreError, UnreachableError } from './types.js';

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

export const DEFAULT_ETCD_TIMEOUT_MS = 5000;

/** `etcdv3 <endpoint>,<endpoint>`: the name every error carries; refuses settings with no endpoint. */
export function describeEtcd(settings: EtcdSettings): string {
  if (settings.endpoints.length === 0) throw new DatastoreError('etcdv3: no endpoints configured (ETCD_ENDPOINTS)');
  return `etcdv3 ${settings.endpoints.join(',')}`;
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
export class EtcdFailures {
  constructor(
    readonly description: string,
    readonly timeoutMs: number,
  ) {}

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
}
