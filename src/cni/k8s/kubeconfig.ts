// Reads a kubeconfig (the one install-cni writes for the plugin) into what a bare HTTPS client needs: the server
// URL, CA, bearer token or client certificate. Only the current context is used.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface KubeCredentials {
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** The kubeconfig file these came from (named when the API server refuses them). */
  source?: string;
}

type Named<T> = { name: string } & T;
interface KubeconfigDoc {
  'current-context'?: string;
  clusters?: Named<{ cluster: Record<string, any> }>[];
  users?: Named<{ user: Record<string, any> }>[];
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
}

export async function loadKubeconfig(file: string): Promise<KubeCredentials> {
  const text = readFileSync(file, 'utf8');
  const { parse } = await import('yaml');
  const doc = parse(text) as KubeconfigDoc;
  const contexts = doc.contexts ?? [];
  const ctx = contexts.find((c) => c.name === doc['current-context']) ?? contexts[0];
  const cluster = (doc.clusters ?? []).find((c) => c.name === ctx?.context.cluster) ?? doc.clusters?.[0];
  const user = (doc.users ?? []).find((u) => u.name === ctx?.context.user) ?? doc.users?.[0];
  if (!cluster?.cluster?.server) throw new Error(`kubeconfig ${file}: no cluster server`);
  const dir = path.dirname(file);
  const fileOrData = (data: unknown, fileRef: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    if (typeof fileRef === 'string' && fileRef) return readFileSync(path.resolve(dir, fileRef));
    return undefined;
  };
  const u = user?.user ?? {};
  let token: string | undefined = typeof u.token === 'string' ? u.token : undefined;
  if (!token && typeof u.tokenFile === 'string') token = readFileSync(path.resolve(dir, u.tokenFile), 'utf8').trim();
  return {
    server: String(cluster.cluster.server).replace(/\/+$/, ''),
    ca: fileOrData(cluster.cluster['certificate-authority-data'], cluster.cluster['certificate-authority']),
    insecureSkipTlsVerify: cluster.cluster['insecure-skip-tls-verify'] === true,
    token,
    cert: fileOrData(u['client-certificate-data'], u['client-certificate']),
    key: fileOrData(u['client-key-data'], u['client-key']),
    source: file,
  };
}
