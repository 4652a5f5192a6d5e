// A minimal Kubernetes API reader for the CNI plugin: GET one object over HTTP(S) with the kubeconfig's token or
// client certificate. Cheap to load (no client library), bounded by a timeout, errors name the object and status.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeCredentials } from './kubeconfig.js';

export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generateName?: string;
    uid?: string;
  };
  spec?: Record<string, any>;
  status?: Record<string, any>;
}

export class KubeReader {
  constructor(
    private readonly creds: KubeCredentials,
    private readonly timeoutMs = 10_000,
  ) {}

  get(apiPath: string): Promise<KubeObject> {
    const url = new URL(this.creds.server + apiPath);
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.creds.token) headers.Authorization = `Bearer ${this.creds.token}`;
    return new Promise((resolve, reject) => {
      const options = {
        method: 'GET',
        headers,
        timeout: this.timeoutMs,
        ...(isHttps
          ? {
              ca: this.creds.ca,
              cert: this.creds.cert,
              key: this.creds.key,
              rejectUnauthorized: !this.creds.insecureSkipTlsVerify,
            }
          : {}),
      };
      const req = (isHttps ? httpsRequest : httpRequest)(url, options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            let msg = body.trim();
            try {
              msg = (JSON.parse(body) as { message?: string }).message ?? msg;
            } catch {
              // plain text
            }
            reject(new KubeApiError(`GET ${apiPath}: ${status} ${msg}${this.refusalHint(status)}`, status));
            return;
          }
          try {
            resolve(JSON.parse(body) as KubeObject);
          } catch (err) {
            reject(new KubeApiError(`GET ${apiPath}: unreadable JSON: ${(err as Error).message}`, status));
          }
        });
      });
      req.on('timeout', () => req.destroy(new KubeApiError(`GET ${apiPath}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(err instanceof KubeApiError ? err : new KubeApiError(`GET ${apiPath}: ${err.message}`)),
      );
      req.end();
    });
  }

  /** For 401/403: which credential file was refused and what to check. */
  private refusalHint(status: number): string {
    const file = this.creds.source ?? 'the kubeconfig';
    if (status === 401)
      return `; the API server refused the token in ${file}: check it has not expired (calico-node renews it, so check calico-node is running) and was issued by this cluster`;
    if (status === 403)
      return `; the credentials in ${file} lack permission: check the RBAC rules bound to that service account`;
    return '';
  }

  getPod(namespace: string, name: string): Promise<KubeObject> {
    return this.get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
  }

  getNode(name: string): Promise<KubeObject> {
    return this.get(`/api/v1/nodes/${encodeURIComponent(name)}`);
  }

  getNamespace(name: string): Promise<KubeObject> {
    return this.get(`/api/v1/namespaces/${encodeURIComponent(name)}`);
  }
}
