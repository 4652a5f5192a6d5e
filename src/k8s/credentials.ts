// The CNI plugin's Kubernetes credentials: calico-node asks the API server for a service-account token
// (TokenRequest for `calico-cni-plugin`) and keeps <CNI_NET_DIR>/calico-kubeconfig holding a current one, renewing
// it when two thirds of its life has passed and rewriting the file atomically (an expired CNI token is Calico users'
// most common pod-start failure). Refusals are explained: which credential file, and what to check.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export const DEFAULT_SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
export const DEFAULT_CNI_SERVICE_ACCOUNT = 'calico-cni-plugin';
export const DEFAULT_TOKEN_VALIDITY_SECONDS = 86_400;

/** Where calico-node's own API credentials come from, and what it renews. */
export interface TokenRenewalSettings {
  /** API server URL, CA and calico-node's own bearer token. */
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  token: string;
  /** The file those credentials were read from (named in errors). */
  credentialSource: string;
  /** The kubeconfig the CNI plugin reads (rewritten with each new token). */
  cniKubeconfig: string;
  serviceAccount: string;
  namespace: string;
  validitySeconds: number;
}

export class CredentialError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Settings from the environment: calico-node's own credentials from KUBECONFIG, or in-cluster
 * (KUBERNETES_SERVICE_HOST/PORT and the mounted service-account token); undefined when neither is configured
 * (no Kubernetes: nothing to renew). CNI_NET_DIR, CALICO_CNI_SERVICE_ACCOUNT, CALICO_CNI_SERVICE_ACCOUNT_NAMESPACE,
 * CNI_TOKEN_VALIDITY_SECONDS tune it.
 */
export function tokenRenewalSettingsFromEnv(env: Env): TokenRenewalSettings | undefined {
  const netDir = env.CNI_NET_DIR || '/etc/cni/net.d';
  const saDir = env.CALICO_SERVICEACCOUNT_DIR || DEFAULT_SERVICEACCOUNT_DIR;
  const validity = Number(env.CNI_TOKEN_VALIDITY_SECONDS || DEFAULT_TOKEN_VALIDITY_SECONDS);
  if (!Number.isInteger(validity) || validity < 1)
    throw new CredentialError(
      `CNI_TOKEN_VALIDITY_SECONDS: must be a positive integer, got "${env.CNI_TOKEN_VALIDITY_SECONDS}"`,
    );
  const nsFile = path.join(saDir, 'namespace');
  const namespace =
    env.CALICO_CNI_SERVICE_ACCOUNT_NAMESPACE ||
    (existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : '') ||
    'kube-system';
  const common = {
    cniKubeconfig: path.join(netDir, 'calico-kubeconfig'),
    serviceAccount: env.CALICO_CNI_SERVICE_ACCOUNT || DEFAULT_CNI_SERVICE_ACCOUNT,
    namespace,
    validitySeconds: validity,
  };
  if (env.KUBECONFIG) return { ...readKubeconfigCredentials(env.KUBECONFIG), ...common };
  if (env.KUBERNETES_SERVICE_HOST) {
    const tokenFile = path.join(saDir, 'token');
    if (!existsSync(tokenFile))
      throw new CredentialError(
        `KUBERNETES_SERVICE_HOST is set but calico-node has no service-account token at ${tokenFile}; check the pod mounts its service account (automountServiceAccountToken)`,
      );
    const host = env.KUBERNETES_SERVICE_HOST.includes(':')
      ? `[${env.KUBERNETES_SERVICE_HOST}]`
      : env.KUBERNETES_SERVICE_HOST;
    const caFile = path.join(saDir, 'ca.crt');
    return {
      server: `${env.KUBERNETES_SERVICE_PROTOCOL || 'https'}://${host}:${env.KUBERNETES_SERVICE_PORT || '443'}`,
      ca: existsSync(caFile) ? readFileSync(caFile) : undefined,
      insecureSkipTlsVerify: env.SKIP_TLS_VERIFY === 'true',
      token: readFileSync(tokenFile, 'utf8').trim(),
      credentialSource: tokenFile,
      ...common,
    };
  }
  return undefined;
}

/** Server, CA and token of a kubeconfig's current context (token or tokenFile users only). */
export function readKubeconfigCredentials(
  file: string,
): Pick<TokenRenewalSettings, 'server' | 'ca' | 'insecureSkipTlsVerify' | 'token' | 'credentialSource'> {
  let doc: any;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CredentialError(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  const ctxName = doc?.['current-context'];
  const ctx = (doc?.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? doc?.contexts?.[0]?.context;
  const cluster =
    (doc?.clusters ?? []).find((c: any) => c.name === ctx?.cluster)?.cluster ?? doc?.clusters?.[0]?.cluster;
  const user = (doc?.users ?? []).find((u: any) => u.name === ctx?.user)?.user ?? doc?.users?.[0]?.user;
  if (!cluster?.server) throw new CredentialError(`kubeconfig ${file}: the current context has no cluster server`);
  let token: string | undefined = user?.token;
  if (!token && user?.tokenFile) token = readFileSync(path.resolve(path.dirname(file), user.tokenFile), 'utf8').trim();
  if (!token)
    throw new CredentialError(
      `kubeconfig ${file}: the current context's user has no bearer token (token or tokenFile)`,
    );
  const caData = cluster['certificate-authority-data'];
  const caFile = cluster['certificate-authority'];
  return {
    server: String(cluster.server).replace(/\/+$/, ''),
    ca: caData
      ? Buffer.from(caData, 'base64')
      : caFile
        ? readFileSync(path.resolve(path.dirname(file), caFile))
        : undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    token,
    credentialSource: file,
  };
}

/**
 * A one-line explanation of an API refusal for the holder of `credentialFile` (401: the token there is expired or
 * not trusted; 403: the account lacks a permission), for calico-node's and the CNI plugin's error messages.
 */
export function explainApiRefusal(status: number, credentialFile: string, action: string, message = ''): string {
  const detail = message ? ` (${message})` : '';
  if (status === 401)
    return `${action}: the API server refused the credentials in ${credentialFile} (401 Unauthorized${detail}); check that the token there has not expired — calico-node renews the CNI plugin's token, so check calico-node is running — and that it was issued by this cluster`;
  if (status === 403)
    return `${action}: the credentials in ${credentialFile} are not allowed to do this (403 Forbidden${detail}); check the RBAC rules bound to that service account`;
  return `${action}: the API server answered ${status}${detail} to the credentials in ${credentialFile}`;
}

/** Asks for a token for the CNI service account; returns it and its expiry. */
export async function requestCniToken(
  s: TokenRenewalSettings,
  timeoutMs = 10_000,
): Promise<{ token: string; expiresAt: Date }> {
  const apiPath = `/api/v1/namespaces/${encodeURIComponent(s.namespace)}/serviceaccounts/${encodeURIComponent(s.serviceAccount)}/token`;
  const body = JSON.stringify({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { audiences: [], expirationSeconds: s.validitySeconds },
  });
  const action = `requesting a token for service account ${s.namespace}/${s.serviceAccount}`;
  const res = await post(s, apiPath, body, timeoutMs).catch((err: Error) => {
    throw new CredentialError(
      `${action}: cannot reach the API server ${s.server}: ${err.message}; check the server address and CA in ${s.credentialSource}`,
    );
  });
  let parsed: any;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  if (res.status === 401 || res.status === 403)
    throw new CredentialError(explainApiRefusal(res.status, s.credentialSource, action, parsed?.message), res.status);
  if (res.status === 404)
    throw new CredentialError(
      `${action}: ${parsed?.message ?? 'not found'}; create the service account (the manifests define ${DEFAULT_CNI_SERVICE_ACCOUNT}) or set CALICO_CNI_SERVICE_ACCOUNT / CALICO_CNI_SERVICE_ACCOUNT_NAMESPACE`,
      404,
    );
  if (res.status !== 201 && res.status !== 200)
    throw new CredentialError(
      `${action}: the API server answered ${res.status}: ${parsed?.message ?? res.body}`,
      res.status,
    );
  const token = parsed?.status?.token;
  const expiresAt = new Date(parsed?.status?.expirationTimestamp);
  if (typeof token !== 'string' || Number.isNaN(expiresAt.getTime()))
    throw new CredentialError(`${action}: the answer holds no token`);
  return { token, expiresAt };
}

/** Writes (or rewrites, keeping its cluster and context) the CNI kubeconfig with token, atomically, mode 0600. */
export function writeCniKubeconfig(s: TokenRenewalSettings, token: string): void {
  let doc: any;
  if (existsSync(s.cniKubeconfig)) {
    try {
      doc = parseYaml(readFileSync(s.cniKubeconfig, 'utf8'));
    } catch {
      doc = undefined;
    }
  }
  const usable =
    doc && Array.isArray(doc.users) && doc.users.length > 0 && Array.isArray(doc.clusters) && doc.clusters.length > 0;
  if (usable) {
    const ctx = (doc.contexts ?? []).find((c: any) => c.name === doc['current-context'])?.context;
    const user = doc.users.find((u: any) => u.name === ctx?.user) ?? doc.users[0];
    user.user = { ...(user.user ?? {}), token };
    delete user.user.tokenFile;
  } else {
    doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'local',
          cluster: {
            server: s.server,
            ...(s.insecureSkipTlsVerify
              ? { 'insecure-skip-tls-verify': true }
              : s.ca
                ? { 'certificate-authority-data': s.ca.toString('base64') }
                : {}),
          },
        },
      ],
      users: [{ name: 'calico', user: { token } }],
      contexts: [{ name: 'calico-context', context: { cluster: 'local', user: 'calico' } }],
      'current-context': 'calico-context',
    };
  }
  const text = '# Kubeconfig file for the Calico CNI plugin (token renewed by calico-node).\n' + stringifyYaml(doc);
  const tmp = `${s.cniKubeconfig}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, s.cniKubeconfig);
}

export interface TokenRenewal {
  /** Expiry of the token now in the file. */
  readonly expiresAt: Date | undefined;
  readonly renewals: number;
  renewNow(): Promise<void>;
  stop(): void;
}

export interface TokenRenewalContext {
  env: Env;
  log: (line: string) => void;
  /** Explicit settings (tests); default from env. */
  settings?: TokenRenewalSettings;
}

/**
 * Keeps the CNI kubeconfig's token current: one TokenRequest now, then again when two thirds of the token's life
 * has passed; failures are logged with their explanation and retried with backoff (5 s doubling to 60 s, never
 * later than the current token's expiry allows). Undefined when no Kubernetes API is configured.
 */
export async function startTokenRenewal(ctx: TokenRenewalContext): Promise<TokenRenewal | undefined> {
  // Read again at each renewal: calico-node's own projected token is rotated by the kubelet.
  const load = (): TokenRenewalSettings | undefined => ctx.settings ?? tokenRenewalSettingsFromEnv(ctx.env);
  if (!load()) {
    ctx.log('CNI token renewal off: no KUBECONFIG or KUBERNETES_SERVICE_HOST');
    return undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let expiresAt: Date | undefined;
  let issuedAt = 0;
  let renewals = 0;
  let failures = 0;

  const schedule = (ms: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    // A failed renewal has already logged and rescheduled itself; it must not become an unhandled rejection.
    timer = setTimeout(() => void renew().catch(() => undefined), Math.max(0, ms));
    timer.unref();
  };
  const renew = async (): Promise<void> => {
    try {
      const settings = load()!;
      const { token, expiresAt: exp } = await requestCniToken(settings);
      writeCniKubeconfig(settings, token);
      issuedAt = Date.now();
      expiresAt = exp;
      renewals++;
      failures = 0;
      const life = exp.getTime() - issuedAt;
      ctx.log(`renewed the CNI token in ${settings.cniKubeconfig} (valid until ${exp.toISOString()})`);
      schedule((life * 2) / 3);
    } catch (err) {
      failures++;
      const backoff = Math.min(60_000, 5_000 * 2 ** (failures - 1));
      ctx.log(`CNI token renewal failed (retry in ${backoff / 1000}s): ${(err as Error).message}`);
      schedule(expiresAt ? Math.min(backoff, Math.max(1000, (expiresAt.getTime() - Date.now()) / 4)) : backoff);
      throw err;
    }
  };
  await renew().catch(() => undefined);
  return {
    get expiresAt() {
      return expiresAt;
    },
    get renewals() {
      return renewals;
    },
    renewNow: () => renew(),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function post(
  s: TokenRenewalSettings,
  apiPath: string,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const url = new URL(s.server + apiPath);
  const isHttps = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        timeout: timeoutMs,
        headers: {
          Authorization: `Bearer ${s.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
        ...(isHttps ? { ca: s.ca, rejectUnauthorized: !s.insecureSkipTlsVerify } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
