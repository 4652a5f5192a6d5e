// Opens the configured datastore backend (SQLite or etcd v3). Backends load lazily, so a process pays only for its own.
import type { Datastore } from './types.js';
import type { DatastoreSettings, SqliteSynchronous } from './settings.js';

export interface OpenOptions {
  /** Bound on connecting and on every later call; errors name the datastore and endpoint. Default 5000 ms. */
  timeoutMs?: number;
  /** SQLite only: the WAL fsync policy, over the settings' own (default NORMAL; see sqlite.ts). */
  sqliteSynchronous?: SqliteSynchronous;
  /**
   * etcd only: 'grpc' (default; etcd3's client, for long-running components) or 'json' (etcd's JSON gateway over
   * HTTP/1.1, etcd-json.ts: the same records and transactions without loading gRPC, for a process that makes a few calls
   * and exits, such as the calico-ipam plugin).
   */
  etcdTransport?: 'grpc' | 'json';
}

/** Opens the datastore the settings describe; fails within timeoutMs with UnreachableError if it cannot be reached. */
export async function openDatastore(settings: DatastoreSettings, opts: OpenOptions = {}): Promise<Datastore> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (settings.type === 'sqlite') {
    const { SqliteDatastore } = await import('./sqlite.js');
    return SqliteDatastore.open(settings.sqlitePath, {
      timeoutMs,
      synchronous: opts.sqliteSynchronous ?? settings.sqliteSynchronous,
    });
  }
  const etcdSettings = {
    endpoints: settings.etcdEndpoints,
    caCertFile: settings.etcdCACertFile,
    certFile: settings.etcdCertFile,
    keyFile: settings.etcdKeyFile,
    username: settings.etcdUsername,
    password: settings.etcdPassword,
  };
  const ds: Datastore =
    opts.etcdTransport === 'json'
      ? new (await import('./etcd-json.js')).EtcdJsonDatastore(etcdSettings, { timeoutMs })
      : new (await import('./etcd.js')).EtcdDatastore(etcdSettings, { timeoutMs });
  try {
    await ds.currentRevision(); // surfaces "unreachable" now rather than at the first real call
  } catch (err) {
    await ds.close();
    throw err;
  }
  return ds;
}
