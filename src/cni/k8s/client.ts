// A minimal Kubernetes API reader for the CNI plugin: GET one object over HTTP(S) with the kubeconfig's token or
// client certificate. Cheap to load (no client library), bounded by a timeout, errors name the object and status.
// A resident reader (calico-node's CNI server) keeps its connections and watches the namespaces.
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type RequestOptions } from 'node:http';
import type { KubeCredentials } from './kubeconfig.js';
import { NamespaceWatch } from './namespace-watch.js';

export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** A kept connection was found closed by the server when reused: the request may be sent again. */
class StaleConnectionError extends Error {}

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

/** What a long-lived process adds to the reader: kept connections and a namespace watch. */
export interface KubeReaderOptions {
  /**
   * calico-node's CNI server: a connection pool of its own whose idle connections stay a minute (Node's default
   * agent drops them after 5 s, so ADDs seconds apart each paid a TLS handshake, ~2-3 ms), and the pods'
   * Namespaces from a watch (NamespaceWatch) instead of a GET per ADD.
   */
  resident?: boolean;
}

/** Idle connections of a resident reader live this long: under kube-apiserver's 90 s idle timeout (and the lab's 65 s). */
const IDLE_CONNECTION_MS = 60_000;

export class KubeReader {
  private readonly agent?: HttpAgent;
  private namespaces?: NamespaceWatch;

  constructor(
    private readonly creds: KubeCredentials,
    private readonly timeoutMs = 10_000,
    opts: KubeReaderOptions = {},
  ) {
    if (opts.resident) {
      const isHttps = creds.server.startsWith('https:');
      this.agent = new (isHttps ? HttpsAgent : HttpAgent)({ keepAlive: true, timeout: IDLE_CONNECTION_MS });
      this.namespaces = new NamespaceWatch(this);
    }
  }

  /** GET one object. A kept connection the server closed meanwhile (reset on reuse) is retried once, fresh. */
  async get(apiPath: string): Promise<KubeObject> {
    try {
      return await this.getOnce(apiPath);
    } catch (err) {
      if (!(err instanceof StaleConnectionError)) throw err;
      return this.getOnce(apiPath);
    }
  }

  private options(timeout: number | undefined, agent: HttpAgent | false | undefined): RequestOptions {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.creds.token) headers.Authorization = `Bearer ${this.creds.token}`;
    return {
      method: 'GET',
      headers,
      ...(timeout ? { timeout } : {}),
      ...(agent !== undefined ? { agent } : {}),
      ...(this.creds.server.startsWith('https:')
        ? {
            ca: this.creds.ca,
            cert: this.creds.cert,
            key: this.creds.key,
            rejectUnauthorized: !this.creds.insecureSkipTlsVerify,
          }
        : {}),
    };
  }

  private request(apiPath: string, options: RequestOptions, onResponse: (res: IncomingMessage) => void) {
    const url = new URL(this.creds.server + apiPath);
    return (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, onResponse);
  }

  private getOnce(apiPath: string): Promise<KubeObject> {
    return new Promise((resolve, reject) => {
      const req = this.request(apiPath, this.options(this.timeoutMs, this.agent), (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(this.refusal(apiPath, status, body));
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
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          reject(new StaleConnectionError(err.message));
        } else reject(err instanceof KubeApiError ? err : new KubeApiError(`GET ${apiPath}: ${err.message}`));
      });
      req.end();
    });
  }

  /**
   * A streamed GET (a watch) on a connection of its own: each line of the body to `onLine`, then `onEnd` once
   * (with the reason when it failed). Silent for `idleMs`: ended as failed. Returns a function that aborts it.
   */
  stream(apiPath: string, idleMs: number, onLine: (line: string) => void, onEnd: (err?: Error) => void): () => void {
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = this.request(apiPath, this.options(idleMs, false), (res) => {
      const status = res.statusCode ?? 0;
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buffered += d;
        if (status < 200 || status >= 300) return;
        let at: number;
        while ((at = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, at);
          buffered = buffered.slice(at + 1);
          if (line.trim()) onLine(line);
        }
      });
      res.on('end', () => end(status < 200 || status >= 300 ? this.refusal(apiPath, status, buffered) : undefined));
      res.on('error', (err) => end(err));
    });
    // A watch never keeps the process alive.
    req.on('socket', (sock) => sock.unref());
    req.on('timeout', () => req.destroy(new KubeApiError(`GET ${apiPath}: silent for ${idleMs} ms`)));
    req.on('error', (err) => end(err));
    req.end();
    return () => {
      ended = true;
      req.destroy();
    };
  }

  private refusal(apiPath: string, status: number, body: string): KubeApiError {
    let msg = body.trim();
    try {
      msg = (JSON.parse(body) as { message?: string }).message ?? msg;
    } catch {
      // plain text
    }
    return new KubeApiError(`GET ${apiPath}: ${status} ${msg}${this.refusalHint(status)}`, status);
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

  /** A resident reader answers from its namespace watch when that is current and holds the namespace. */
  getNamespace(name: string): Promise<KubeObject> {
    const watched = this.namespaces?.get(name);
    if (watched) return Promise.resolve(watched);
    return this.get(`/api/v1/namespaces/${encodeURIComponent(name)}`);
  }

  /** The namespace as a resident reader's watch holds it now (no request); undefined when it cannot say. */
  watchedNamespace(name: string): KubeObject | undefined {
    return this.namespaces?.get(name);
  }

  /**
   * Ends the namespace watch (a reader replaced after a kubeconfig change). Requests in flight finish; the kept
   * connections close once idle.
   */
  close(): void {
    this.namespaces?.stop();
  }
}
