// A small REST client for the Kubernetes objects the lab writes (Namespace, Pod, ServiceAccount, Node,
// NetworkPolicy). It sends objects as written: @kubernetes/client-node's typed serializer drops fields whose model
// name differs from the wire name (NetworkPolicy `from` becomes `_from`), which would silently change a policy.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export class KubeRestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const PLURALS: Record<string, { plural: string; namespaced: boolean }> = {
  Namespace: { plural: 'namespaces', namespaced: false },
  Node: { plural: 'nodes', namespaced: false },
  Pod: { plural: 'pods', namespaced: true },
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  NetworkPolicy: { plural: 'networkpolicies', namespaced: true },
};

/** The collection path of an object's kind, and its own path. */
export function objectPaths(o: ObjectRef): { collection: string; item: string } {
  const kind = PLURALS[o.kind];
  if (!kind) throw new Error(`the lab does not send kind ${o.kind} to the API server`);
  const base = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion}`;
  const ns = kind.namespaced ? `/namespaces/${o.metadata.namespace ?? 'default'}` : '';
  const collection = `${base}${ns}/${kind.plural}`;
  return { collection, item: `${collection}/${encodeURIComponent(o.metadata.name)}` };
}

/** What a request needs from a kubeconfig: the current context's server, CA, and token or client certificate. */
export interface KubeCredentials {
  server: URL;
  ca?: Buffer;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Reads the current context of a kubeconfig file. Kept small on purpose: importing @kubernetes/client-node costs a
 * few hundred milliseconds, which `calico-lab apply` would pay on every call.
 */
export function loadKubeconfig(file: string): KubeCredentials {
  const doc = parseYaml(readFileSync(file, 'utf8')) as any;
  const ctxName = doc['current-context'];
  const ctx = (doc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
  const cluster = (doc.clusters ?? []).find((c: any) => c.name === ctx?.cluster)?.cluster;
  const user = (doc.users ?? []).find((u: any) => u.name === ctx?.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${file}: no server for the current context "${ctxName}"`);
  const dir = path.dirname(file);
  const material = (data?: string, fileName?: string) =>
    data ? Buffer.from(data, 'base64') : fileName ? readFileSync(path.resolve(dir, fileName)) : undefined;
  return {
    server: new URL(cluster.server),
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    token: user.token ?? (user.tokenFile ? readFileSync(path.resolve(dir, user.tokenFile), 'utf8').trim() : undefined),
    cert: material(user['client-certificate-data'], user['client-certificate']),
    key: material(user['client-key-data'], user['client-key']),
  };
}

export class KubeRest {
  constructor(private readonly creds: KubeCredentials) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const { server, ca, token, cert, key } = this.creds;
    const opts: https.RequestOptions = {
      method,
      hostname: server.hostname,
      port: server.port || 443,
      path,
      ca,
      cert,
      key,
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    };
    return new Promise<T>((resolve, reject) => {
      const req = https.request(opts, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const parsed = text ? JSON.parse(text) : undefined;
          if ((res.statusCode ?? 500) >= 300) {
            reject(
              new KubeRestError(res.statusCode ?? 500, parsed?.message ?? `${method} ${path}: HTTP ${res.statusCode}`),
            );
          } else resolve(parsed as T);
        });
      });
      req.on('error', reject);
      req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: no answer from the API server`)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}
