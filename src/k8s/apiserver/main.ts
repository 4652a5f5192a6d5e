// `calico-k8s-apiserver`: runs the lab's Kubernetes API server. Flags: --listen ADDR:PORT, --data-dir DIR (keeps
// ca.crt/ca.key/tls.crt/tls.key, the admin token, the service-account signing key and admin.kubeconfig there, so a
// restart keeps credentials), --min-token-seconds N, --bookmark-interval-ms N. Datastore from the environment
// (DATASTORE_TYPE, SQLITE_PATH, ETCD_ENDPOINTS, ...). Stops cleanly on SIGTERM/SIGINT.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { datastoreSettingsFromEnv, openDatastore } from '../../datastore/index.js';
import { TokenAuthority } from './auth.js';
import { adminKubeconfig, startApiServer } from './server.js';
import { generateTlsMaterial, type TlsMaterial } from './tls.js';

export interface ApiServerFlags {
  host: string;
  port: number;
  dataDir: string;
  minTokenSeconds?: number;
  bookmarkIntervalMs?: number;
}

export function parseApiServerFlags(argv: string[]): ApiServerFlags {
  let listen = '127.0.0.1:6443';
  let dataDir = '';
  let minTokenSeconds: number | undefined;
  let bookmarkIntervalMs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag}: missing value`);
      return v;
    };
    switch (flag) {
      case '--listen':
        listen = value();
        break;
      case '--data-dir':
        dataDir = value();
        break;
      case '--min-token-seconds':
        minTokenSeconds = positive(flag, value());
        break;
      case '--bookmark-interval-ms':
        bookmarkIntervalMs = positive(flag, value());
        break;
      default:
        throw new Error(
          `unknown flag ${JSON.stringify(argv[i])}; known: --listen ADDR:PORT --data-dir DIR --min-token-seconds N --bookmark-interval-ms N`,
        );
    }
  }
  if (!dataDir) throw new Error('--data-dir is required (the CA, admin token and kubeconfig are written there)');
  const m = /^(\[([^\]]+)\]|[^:]+|[0-9a-fA-F:]+):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen: expected ADDR:PORT, got ${JSON.stringify(listen)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen: port must be 0..65535, got ${port}`);
  return { host: m[2] ?? m[1]!, port, dataDir, minTokenSeconds, bookmarkIntervalMs };
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function writeAtomic(file: string, text: string | Buffer, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** Reads the credentials kept in dataDir, creating whatever is missing. */
export function loadOrCreateCredentials(
  dataDir: string,
  host: string,
): { tls: TlsMaterial; adminToken: string; signingKey: Buffer } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const f = (n: string): string => path.join(dataDir, n);
  let tls: TlsMaterial;
  if (['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].every((n) => existsSync(f(n)))) {
    tls = {
      caCert: readFileSync(f('ca.crt'), 'utf8'),
      caKey: readFileSync(f('ca.key'), 'utf8'),
      cert: readFileSync(f('tls.crt'), 'utf8'),
      key: readFileSync(f('tls.key'), 'utf8'),
    };
  } else {
    tls = generateTlsMaterial([host]);
    writeAtomic(f('ca.key'), tls.caKey);
    writeAtomic(f('tls.key'), tls.key);
    writeAtomic(f('tls.crt'), tls.cert, 0o644);
    writeAtomic(f('ca.crt'), tls.caCert, 0o644);
  }
  if (!existsSync(f('admin.token'))) writeAtomic(f('admin.token'), TokenAuthority.randomSecret() + '\n');
  const adminToken = readFileSync(f('admin.token'), 'utf8').trim();
  if (!existsSync(f('sa.key'))) writeAtomic(f('sa.key'), randomBytes(32).toString('hex') + '\n');
  const signingKey = Buffer.from(readFileSync(f('sa.key'), 'utf8').trim(), 'hex');
  return { tls, adminToken, signingKey };
}

export async function runApiServer(
  argv: string[],
  io: { env?: Record<string, string | undefined>; out?: (t: string) => void; err?: (t: string) => void } = {},
): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const flags = parseApiServerFlags(argv);
  const creds = loadOrCreateCredentials(flags.dataDir, flags.host);
  // admin.kubeconfig appears only once this run is serving: callers wait for the file.
  rmSync(path.join(flags.dataDir, 'admin.kubeconfig'), { force: true });
  const datastore = await openDatastore(datastoreSettingsFromEnv(env));
  const server = await startApiServer({
    datastore,
    host: flags.host,
    port: flags.port,
    adminToken: creds.adminToken,
    signingKey: creds.signingKey,
    tls: creds.tls,
    minTokenExpirationSeconds: flags.minTokenSeconds,
    bookmarkIntervalMs: flags.bookmarkIntervalMs,
  });
  writeAtomic(
    path.join(flags.dataDir, 'admin.kubeconfig'),
    adminKubeconfig(server.url, creds.tls.caCert, creds.adminToken),
  );
  out(
    `calico-k8s-apiserver: serving ${server.url} (datastore ${datastore.description}); kubeconfig ${path.join(flags.dataDir, 'admin.kubeconfig')}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  await datastore.close();
  return 0;
}
