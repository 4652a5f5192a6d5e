// install-cni (cni.md §B.10): copies the plugin into the CNI bin directory as `calico` and `calico-ipam`, the etcd
// TLS files from the secrets directory into <net dir>/calico-tls, renders 10-calico.conflist from the template and
// writes a kubeconfig for the plugin. Every file is written to a temporary name and renamed, so a runtime never sees
// half a file. `--dry-run` prints what would be written instead; `refreshInstall` re-writes what changed since.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { conflistTemplateFor, renderCniTemplate, templateValues } from './template.js';

export interface InstallPlan {
  binDir: string;
  netDir: string;
  confPath: string;
  conflist: string;
  kubeconfigPath?: string;
  kubeconfig?: string;
  /** [source, destination name] */
  binaries: [string, string][];
  removeOldConf?: string;
  /** <net dir>/calico-tls: replaced by this install's copies of the etcd TLS files (absent: left alone). */
  tlsDir?: string;
  /** [source, destination] of the etcd TLS files found in TLS_ASSETS_DIR. */
  tlsFiles: [string, string][];
}

/** The etcd TLS files Calico's secret carries, and the template placeholder each one's installed path fills. */
const TLS_FILES = [
  ['etcd-ca', 'CNI_CONF_ETCD_CA', 'ETCD_CA_CERT_FILE'],
  ['etcd-cert', 'CNI_CONF_ETCD_CERT', 'ETCD_CERT_FILE'],
  ['etcd-key', 'CNI_CONF_ETCD_KEY', 'ETCD_KEY_FILE'],
] as const;

type Env = Record<string, string | undefined>;
export const truthy = (v: string | undefined, dflt: boolean): boolean =>
  v === undefined || v === '' ? dflt : ['true', '1', 'yes'].includes(v.toLowerCase());

/** The directory of node_modules the bundle's external packages come from (walks up from the bundle). */
export function findNodeModules(from: string): string | undefined {
  let dir = path.dirname(from);
  for (;;) {
    const candidate = path.join(dir, 'node_modules');
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The kubeconfig Calico's install-cni writes: cluster `local`, user `calico` with the service-account token. */
export function renderKubeconfig(opts: {
  server: string;
  caData?: string;
  skipTlsVerify: boolean;
  token: string;
}): string {
  const cluster = opts.skipTlsVerify
    ? '    insecure-skip-tls-verify: true\n'
    : opts.caData
      ? `    certificate-authority-data: "${opts.caData}"\n`
      : '';
  return (
    '# Kubeconfig file for the Calico CNI plugin (written by calico-node install-cni).\n' +
    'apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n' +
    `    server: ${opts.server}\n${cluster}` +
    `users:\n- name: calico\n  user:\n    token: ${opts.token}\n` +
    'contexts:\n- name: calico-context\n  context:\n    cluster: local\n    user: calico\ncurrent-context: calico-context\n'
  );
}

export function planInstall(env: Env, pluginSource: string): InstallPlan {
  const binDir = env.CNI_BIN_DIR || '/opt/cni/bin';
  const netDir = env.CNI_NET_DIR || '/etc/cni/net.d';
  const confName = env.CNI_CONF_NAME || '10-calico.conflist';
  const oldConfName = env.CNI_OLD_CONF_NAME || '10-calico.conflist';
  const nodePath = env.CNI_NODE_PATH;
  if (nodePath && (!path.isAbsolute(nodePath) || /\s/.test(nodePath))) {
    // Checked before anything is written, so a bad value leaves the host as it was.
    throw new Error(`install-cni: CNI_NODE_PATH: must be an absolute path without spaces, got "${nodePath}"`);
  }
  const template = env.CNI_NETWORK_CONFIG_FILE
    ? readFileSync(env.CNI_NETWORK_CONFIG_FILE, 'utf8')
    : env.CNI_NETWORK_CONFIG || conflistTemplateFor(env.CALICO_NETWORKING_BACKEND);

  // etcd TLS files from the mounted secret go to <net dir>/calico-tls and their paths into the conflist (as Calico);
  // without the secret, CNI_CONF_ETCD_* or the datastore's own ETCD_*_FILE settings name them.
  const tlsAssets = env.TLS_ASSETS_DIR || '/calico-secrets';
  const tlsDir = path.join(netDir, 'calico-tls');
  const tlsFiles: [string, string][] = [];
  const tlsPath: Record<string, string | undefined> = {};
  const haveTls = existsSync(tlsAssets) && statSync(tlsAssets).isDirectory();
  for (const [name, confEnv, datastoreEnv] of TLS_FILES) {
    const src = path.join(tlsAssets, name);
    if (haveTls && existsSync(src) && statSync(src).isFile()) {
      tlsFiles.push([src, path.join(tlsDir, name)]);
      tlsPath[name] = path.join(tlsDir, name);
    } else {
      tlsPath[name] = env[confEnv] || env[datastoreEnv];
    }
  }

  // Kubeconfig for the plugin, when running against a Kubernetes API.
  let kubeconfig: string | undefined;
  let kubeconfigPath: string | undefined;
  let token = '';
  if (env.KUBERNETES_SERVICE_HOST) {
    const saDir = env.CALICO_SERVICEACCOUNT_DIR || '/var/run/secrets/kubernetes.io/serviceaccount';
    try {
      token = readFileSync(path.join(saDir, 'token'), 'utf8').trim();
    } catch {
      throw new Error(`install-cni: KUBERNETES_SERVICE_HOST is set but no service-account token in ${saDir}/token`);
    }
    const caFile = path.join(saDir, 'ca.crt');
    const host = env.KUBERNETES_SERVICE_HOST.includes(':')
      ? `[${env.KUBERNETES_SERVICE_HOST}]`
      : env.KUBERNETES_SERVICE_HOST;
    kubeconfigPath = path.join(netDir, 'calico-kubeconfig');
    kubeconfig = renderKubeconfig({
      server: `${env.KUBERNETES_SERVICE_PROTOCOL || 'https'}://${host}:${env.KUBERNETES_SERVICE_PORT || '443'}`,
      caData: existsSync(caFile) ? readFileSync(caFile).toString('base64') : undefined,
      skipTlsVerify: truthy(env.SKIP_TLS_VERIFY, false),
      token,
    });
  }

  let nodeName = env.KUBERNETES_NODE_NAME;
  if (!nodeName && env.CALICO_NODENAME_FILE && existsSync(env.CALICO_NODENAME_FILE)) {
    nodeName = readFileSync(env.CALICO_NODENAME_FILE, 'utf8').trim();
  }
  const num = (v: string | undefined, dflt: number, name: string): number => {
    if (!v) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`install-cni: ${name}: must be a non-negative integer, got "${v}"`);
    return n;
  };
  const conflist = renderCniTemplate(
    template,
    templateValues({
      logLevel: env.LOG_LEVEL,
      logFilePath: env.LOG_FILE_PATH,
      logFileMaxSize: num(env.LOG_FILE_MAX_SIZE, 100, 'LOG_FILE_MAX_SIZE'),
      logFileMaxAge: num(env.LOG_FILE_MAX_AGE, 30, 'LOG_FILE_MAX_AGE'),
      logFileMaxCount: num(env.LOG_FILE_MAX_COUNT, 10, 'LOG_FILE_MAX_COUNT'),
      datastoreType: env.DATASTORE_TYPE || 'sqlite',
      nodeName: nodeName || hostname().toLowerCase(),
      kubeconfigPath,
      mtu: num(env.CNI_MTU, 1500, 'CNI_MTU'),
      kubernetesServiceHost: env.KUBERNETES_SERVICE_HOST,
      kubernetesServicePort: env.KUBERNETES_SERVICE_PORT,
      serviceAccountToken: token,
      calicoApiGroup: env.CALICO_API_GROUP,
      etcdEndpoints: env.ETCD_ENDPOINTS,
      etcdDiscoverySrv: env.ETCD_DISCOVERY_SRV,
      etcdCertFile: tlsPath['etcd-cert'],
      etcdCaCertFile: tlsPath['etcd-ca'],
      etcdKeyFile: tlsPath['etcd-key'],
      requireMtuFile: truthy(env.REQUIRE_MTU_FILE, false),
      sqlitePath: env.SQLITE_PATH || env.CALICO_SQLITE_PATH,
      nodenameFile: env.CALICO_NODENAME_FILE,
      agentSocket: env.CALICO_AGENT_SOCKET,
    }),
  );

  const skip = new Set(
    (env.SKIP_CNI_BINARIES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const binaries: [string, string][] = [];
  for (const name of ['calico', 'calico-ipam']) if (!skip.has(name)) binaries.push([pluginSource, name]);
  // The plugin's in-process half (src/cni/core.ts) lives beside it.
  const core = path.join(path.dirname(pluginSource), 'calico-plugin-core');
  if (!skip.has('calico') && existsSync(core)) binaries.push([core, 'calico-plugin-core']);
  const extraDir = env.CNI_EXTRA_PLUGINS_DIR;
  if (extraDir && existsSync(extraDir)) {
    for (const f of readdirSync(extraDir).sort()) {
      if (['install', 'calico', 'calico-ipam', 'calico-plugin-core'].includes(f) || skip.has(f)) continue;
      if (statSync(path.join(extraDir, f)).isFile()) binaries.push([path.join(extraDir, f), f]);
    }
  }
  return {
    binDir,
    netDir,
    confPath: path.join(netDir, confName),
    conflist,
    kubeconfigPath,
    kubeconfig,
    binaries,
    removeOldConf: oldConfName !== confName ? path.join(netDir, oldConfName) : undefined,
    tlsDir: haveTls ? tlsDir : undefined,
    tlsFiles,
  };
}

export function writeAtomic(file: string, content: string | Buffer, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/**
 * The copied plugin is a bundle whose few external packages (SQLite, etcd client) live in the project's node_modules;
 * its copy gets one line pointing module resolution there, so the in-process fallback works from any directory.
 * With `nodePath` (CNI_NODE_PATH: where node is on the host) the first line names node directly instead of going
 * through /usr/bin/env — one exec less on every CNI call.
 */
export function pluginCopy(source: string, nodePath?: string): Buffer {
  let text = readFileSync(source, 'utf8');
  if (!text.startsWith('#!')) return Buffer.from(text);
  if (nodePath) {
    if (!path.isAbsolute(nodePath) || /\s/.test(nodePath)) {
      throw new Error(`install-cni: CNI_NODE_PATH: must be an absolute path without spaces, got "${nodePath}"`);
    }
    text = `#!${nodePath}${text.slice(text.indexOf('\n'))}`;
  }
  const modules = findNodeModules(source);
  if (!modules) return Buffer.from(text);
  const nl = text.indexOf('\n');
  return Buffer.from(`${text.slice(0, nl + 1)}module.paths.push(${JSON.stringify(modules)});\n${text.slice(nl + 1)}`);
}

export function applyInstall(plan: InstallPlan, env: Env, log: (line: string) => void): void {
  const update = truthy(env.UPDATE_CNI_BINARIES, true);
  for (const [source, name] of plan.binaries) {
    const dest = path.join(plan.binDir, name);
    if (!update && existsSync(dest)) {
      log(`${dest} exists and UPDATE_CNI_BINARIES=false: left as is`);
      continue;
    }
    const isOurs = name === 'calico' || name === 'calico-ipam' || name === 'calico-plugin-core';
    writeAtomic(dest, isOurs ? pluginCopy(source, env.CNI_NODE_PATH || undefined) : readFileSync(source), 0o755);
    log(`installed ${dest}`);
  }
  if (plan.tlsDir) {
    // Calico starts from an empty calico-tls, so a file gone from the secret is gone from the host too.
    rmSync(plan.tlsDir, { recursive: true, force: true });
    for (const [name] of TLS_FILES) {
      if (!plan.tlsFiles.some(([src]) => path.basename(src) === name)) log(`no ${name} in the TLS assets directory`);
    }
  }
  for (const [src, dest] of plan.tlsFiles) {
    writeAtomic(dest, readFileSync(src), statSync(src).mode & 0o777);
    log(`installed ${dest}`);
  }
  if (plan.kubeconfig && plan.kubeconfigPath) {
    writeAtomic(plan.kubeconfigPath, plan.kubeconfig, 0o600);
    log(`wrote ${plan.kubeconfigPath}`);
  }
  writeAtomic(plan.confPath, plan.conflist, 0o644);
  log(`wrote ${plan.confPath}`);
  if (plan.removeOldConf && existsSync(plan.removeOldConf)) {
    rmSync(plan.removeOldConf, { force: true });
    log(`removed old ${plan.removeOldConf}`);
  }
}

const sameContent = (file: string, content: string | Buffer): boolean => {
  try {
    return readFileSync(file).equals(Buffer.from(content));
  } catch {
    return false;
  }
};

/**
 * Re-writes the files whose inputs changed since `previous` was rendered (TLS files, kubeconfig, conflist), and any
 * that went missing — what a sleeping install-cni does when a secret or token is renewed or the template changes.
 * A file whose inputs did not change is left alone even if its content differs, so another writer (calico-node's
 * CNI token renewal rewrites the kubeconfig) is not undone. Binaries are not re-copied. Returns the paths written.
 */
export function refreshInstall(plan: InstallPlan, previous: InstallPlan, log: (line: string) => void): string[] {
  const written: string[] = [];
  const ensure = (file: string, content: string | Buffer, before: string | Buffer | undefined, mode: number) => {
    const changed = before === undefined || !Buffer.from(before).equals(Buffer.from(content));
    if (existsSync(file) && (!changed || sameContent(file, content))) return;
    writeAtomic(file, content, mode);
    written.push(file);
    log(`updated ${file}`);
  };
  const tlsBefore = new Map(previous.tlsFiles.map(([src, dest]) => [dest, src]));
  for (const [src, dest] of plan.tlsFiles) {
    const content = readFileSync(src);
    // A secret's files are compared with the installed copy: the input is the file itself.
    ensure(dest, content, tlsBefore.has(dest) ? readFileSyncOr(dest) : undefined, statSync(src).mode & 0o777);
  }
  if (plan.kubeconfig && plan.kubeconfigPath) ensure(plan.kubeconfigPath, plan.kubeconfig, previous.kubeconfig, 0o600);
  ensure(plan.confPath, plan.conflist, previous.conflist, 0o644);
  return written;
}

function readFileSyncOr(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}
