// Where the datastore is: read from the environment, calicoctl.cfg or a CNI network config (CONVENTIONS.md
// "Datastore settings"; Calico's variable names, each env variable also accepted with a CALICO_ prefix).
// Pure parsing: no files are opened here; bad input throws an Error naming the field and the reason. The calicoctl.cfg
// reader (YAML) is calicoctl-config.ts, so a process that reads only env or a netconf never loads the YAML parser.

export const DEFAULT_SQLITE_PATH = '/var/lib/calico/calico.db';
/** Calico's historical default endpoint when etcdv3 is chosen without endpoints. */
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface SqliteSettings {
  type: 'sqlite';
  sqlitePath: string;
  /** The WAL's fsync policy (sqlite.ts); absent = the store's default, NORMAL. */
  sqliteSynchronous?: SqliteSynchronous;
}

export interface EtcdV3Settings {
  type: 'etcdv3';
  etcdEndpoints: string[];
  etcdCACertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdUsername?: string;
  etcdPassword?: string;
}

export type DatastoreSettings = SqliteSettings | EtcdV3Settings;

export class DatastoreSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatastoreSettingsError';
  }
}

export interface RawSettings {
  type?: string;
  sqlitePath?: string;
  sqliteSynchronous?: string;
  endpoints?: string;
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

/** The names each raw field is known by in one source, for error messages. */
export type FieldNames = Record<keyof RawSettings, string>;

const ENV_NAMES: FieldNames = {
  type: 'DATASTORE_TYPE',
  sqlitePath: 'SQLITE_PATH',
  sqliteSynchronous: 'SQLITE_SYNCHRONOUS',
  endpoints: 'ETCD_ENDPOINTS',
  caCertFile: 'ETCD_CA_CERT_FILE',
  certFile: 'ETCD_CERT_FILE',
  keyFile: 'ETCD_KEY_FILE',
  username: 'ETCD_USERNAME',
  password: 'ETCD_PASSWORD',
};

export const CONFIG_NAMES: FieldNames = {
  type: 'spec.datastoreType',
  sqlitePath: 'spec.sqlitePath',
  sqliteSynchronous: 'spec.sqliteSynchronous',
  endpoints: 'spec.etcdEndpoints',
  caCertFile: 'spec.etcdCACertFile',
  certFile: 'spec.etcdCertFile',
  keyFile: 'spec.etcdKeyFile',
  username: 'spec.etcdUsername',
  password: 'spec.etcdPassword',
};

const NETCONF_NAMES: FieldNames = {
  type: 'datastore_type',
  sqlitePath: 'sqlite_path',
  sqliteSynchronous: 'sqlite_synchronous',
  endpoints: 'etcd_endpoints',
  caCertFile: 'etcd_ca_cert_file',
  certFile: 'etcd_cert_file',
  keyFile: 'etcd_key_file',
  username: 'etcd_username',
  password: 'etcd_password',
};

/** From environment variables (`DATASTORE_TYPE`, `SQLITE_PATH`, `ETCD_*`, or the same with a `CALICO_` prefix). */
export function datastoreSettingsFromEnv(env: Record<string, string | undefined>): DatastoreSettings {
  return finish(readEnv(env), ENV_NAMES);
}

/**
 * From a CNI network config: its `datastore_type`, `sqlite_path` and `etcd_*` fields win, as Calico's plugin copies
 * them over its environment; anything the netconf leaves out comes from env.
 */
export function datastoreSettingsFromNetConf(
  netconf: Record<string, unknown>,
  env: Record<string, string | undefined> = {},
): DatastoreSettings {
  const raw = readEnv(env);
  const names: FieldNames = { ...ENV_NAMES };
  for (const [field, key] of Object.entries(NETCONF_NAMES) as [keyof RawSettings, string][]) {
    const v = netconf[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new DatastoreSettingsError(`network config: ${key}: expected a string`);
    raw[field] = v;
    names[field] = key;
  }
  return finish(raw, names);
}

function readEnv(env: Record<string, string | undefined>): RawSettings {
  const raw: RawSettings = {};
  for (const [field, name] of Object.entries(ENV_NAMES) as [keyof RawSettings, string][]) {
    const v = env[name] || env[`CALICO_${name}`];
    if (v) raw[field] = v;
  }
  return raw;
}

/** Validates raw fields into settings; errors name each field as `names` gives it. */
export function finish(raw: RawSettings, names: FieldNames): DatastoreSettings {
  // Calico: an empty type means etcdv3 when endpoints are given; our default otherwise is sqlite (CONVENTIONS.md).
  const type = (raw.type ?? (raw.endpoints ? 'etcdv3' : 'sqlite')).trim();
  if (type === 'sqlite') {
    const sqlitePath = raw.sqlitePath ?? DEFAULT_SQLITE_PATH;
    if (!sqlitePath.startsWith('/')) {
      throw new DatastoreSettingsError(`${names.sqlitePath}: must be an absolute path, got "${sqlitePath}"`);
    }
    const sync = raw.sqliteSynchronous?.trim().toUpperCase();
    if (sync === undefined || sync === '') return { type: 'sqlite', sqlitePath };
    if (sync !== 'FULL' && sync !== 'NORMAL') {
      throw new DatastoreSettingsError(
        `${names.sqliteSynchronous}: expected "FULL" or "NORMAL", got "${raw.sqliteSynchronous}"`,
      );
    }
    return { type: 'sqlite', sqlitePath, sqliteSynchronous: sync };
  }
  if (type === 'etcdv3') {
    const etcdEndpoints = (raw.endpoints ?? DEFAULT_ETCD_ENDPOINT)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (etcdEndpoints.length === 0) throw new DatastoreSettingsError(`${names.endpoints}: no endpoint given`);
    for (const e of etcdEndpoints) {
      let url: URL;
      try {
        url = new URL(e);
      } catch {
        throw new DatastoreSettingsError(`${names.endpoints}: "${e}" is not a URL (expected http(s)://host:port)`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new DatastoreSettingsError(`${names.endpoints}: "${e}" must start with http:// or https://`);
      }
    }
    const s: EtcdV3Settings = { type: 'etcdv3', etcdEndpoints };
    if (raw.caCertFile) s.etcdCACertFile = raw.caCertFile;
    if (raw.certFile) s.etcdCertFile = raw.certFile;
    if (raw.keyFile) s.etcdKeyFile = raw.keyFile;
    if (Boolean(raw.certFile) !== Boolean(raw.keyFile)) {
      const missing = raw.certFile ? names.keyFile : names.certFile;
      throw new DatastoreSettingsError(`${missing}: a client certificate and its key must be given together`);
    }
    if (raw.username) s.etcdUsername = raw.username;
    if (raw.password) s.etcdPassword = raw.password;
    return s;
  }
  if (type === 'kubernetes') {
    throw new DatastoreSettingsError(
      `${names.type}: "kubernetes" (KDD) is not supported by Calico-TS: use "sqlite" or "etcdv3"`,
    );
  }
  throw new DatastoreSettingsError(`${names.type}: unknown datastore type "${type}" (expected "sqlite" or "etcdv3")`);
}
