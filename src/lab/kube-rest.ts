// A small REST client for the Kubernetes objects the lab writes (Namespace, Pod, ServiceAccount, Node,
// NetworkPolicy). It sends objects as written: @kubernetes/client-node's typed serializer drops fields whose model
// name differs from the wire name (NetworkPolicy `from` becomes `_from`), which would silently change a policy.
import https from 'node:https';
import * as k8s from '@kubernetes/client-node';

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

export class KubeRest {
  constructor(private readonly kc: k8s.KubeConfig) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const server = new URL(this.kc.getCurrentCluster()!.server);
    const opts: https.RequestOptions = {
      method,
      hostname: server.hostname,
      port: server.port || 443,
      path,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    };
    await this.kc.applyToHTTPSOptions(opts);
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
