// The Kubernetes API server for the lab and the tests: HTTPS with bearer tokens, discovery, and get/list/create/
// update/patch/delete/watch for the served resources, stored in the project's Datastore. Request flow:
//   authenticate -> route (group, version, namespace, resource, name, subresource) -> admit (default, validate)
//   -> KubeStore (CAS on the datastore revision) -> JSON (or a Table for kubectl) | watch stream
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import type { Datastore } from '../../datastore/index.js';
import { admit, checkEnvelope, checkImmutable, type KubeObject } from './admission.js';
import { TokenAuthority, type Identity } from './auth.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { openApiGroupVersion, openApiRoot } from './openapi.js';
import { applyPatch, strategicMergePatch } from './patch.js';
import { apiVersionOf, findResource, SERVED_RESOURCES, type ServedResource } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import {
  ApiError,
  badRequest,
  expired,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  pathNotFound,
  unauthorized,
} from './status.js';
import { KubeStore, parseResourceVersion } from './storage.js';
import { renderTable, wantsTable } from './table.js';
import { generateTlsMaterial, type TlsMaterial } from './tls.js';
import { WatchStream } from './watch.js';

export interface ApiServerOptions {
  datastore: Datastore;
  /** Address to listen on (default 127.0.0.1) and port (default 0 = any free port). */
  host?: string;
  port?: number;
  /** The static admin bearer token (default: random). */
  adminToken?: string;
  /** Key that signs service-account tokens (default: random; pass a persisted one to survive restarts). */
  signingKey?: Buffer;
  /** TLS material (default: generated for host and extraSans). */
  tls?: TlsMaterial;
  extraSans?: string[];
  /** Shortest expirationSeconds a TokenRequest may ask for (kube-apiserver: 600). */
  minTokenExpirationSeconds?: number;
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (default 60 s). */
  bookmarkIntervalMs?: number;
  /** How long a watch stays open without timeoutSeconds (default 30 to 60 minutes, randomised as kube-apiserver). */
  watchTimeoutMs?: number;
  /** How long a `continue` token stays valid (default 5 minutes); an older one gets 410 Expired. */
  continueTtlMs?: number;
  /** Create default, kube-system, kube-public, kube-node-lease and their `default` service accounts (default true). */
  bootstrapNamespaces?: boolean;
}

export interface ApiServer {
  /** https://host:port */
  readonly url: string;
  readonly port: number;
  readonly caCert: string;
  readonly adminToken: string;
  readonly store: KubeStore;
  readonly tokens: TokenAuthority;
  /** A kubeconfig for the admin token (the CA embedded). */
  kubeconfig(server?: string): string;
  /** Ends every open watch stream (clients re-watch from their last version), as an API server restart would. */
  closeWatches(): Promise<void>;
  close(): Promise<void>;
}

interface Route {
  res: ServedResource;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface ListSnapshot {
  items: KubeObject[];
  revision: number;
  createdAt: number;
}

const BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const MAX_BODY = 3 * 1024 * 1024;

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const tls = opts.tls ?? generateTlsMaterial([host, ...(opts.extraSans ?? [])]);
  const adminToken = opts.adminToken ?? TokenAuthority.randomSecret();
  const tokens = new TokenAuthority(adminToken, opts.signingKey ?? randomBytes(32));
  const store = new KubeStore(opts.datastore);
  const handler = new RequestHandler(store, tokens, {
    minTokenExpirationSeconds: opts.minTokenExpirationSeconds ?? 600,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    watchTimeoutMs: opts.watchTimeoutMs,
    continueTtlMs: opts.continueTtlMs ?? 5 * 60_000,
  });
  if (opts.bootstrapNamespaces !== false) {
    for (const ns of BOOTSTRAP_NAMESPACES) await handler.ensureNamespace(ns);
  }
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => void handler.handle(req, res));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `https://${hostPart}:${port}`;
  handler.serverAddress = `${hostPart}:${port}`;
  return {
    url,
    port,
    caCert: tls.caCert,
    adminToken,
    store,
    tokens,
    kubeconfig: (server = url) => adminKubeconfig(server, tls.caCert, adminToken),
    closeWatches: () => handler.closeWatches(),
    close: async () => {
      await handler.closeWatches();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A kubeconfig with one cluster, the admin token as user `admin`, and a current context. */
export function adminKubeconfig(server: string, caCert: string, token: string, user = 'admin'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: calico-ts',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(caCert).toString('base64')}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: calico-ts',
    '  context:',
    '    cluster: calico-ts',
    `    user: ${user}`,
    'current-context: calico-ts',
    '',
  ].join('\n');
}

class RequestHandler {
  serverAddress = '';
  private readonly watches = new Set<WatchStream>();
  private readonly snapshots = new Map<string, ListSnapshot>();

  constructor(
    private readonly store: KubeStore,
    private readonly tokens: TokenAuthority,
    private readonly cfg: {
      minTokenExpirationSeconds: number;
      bookmarkIntervalMs: number;
      watchTimeoutMs?: number;
      continueTtlMs: number;
    },
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://apiserver');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (['/healthz', '/livez', '/readyz'].includes(path)) return this.text(res, 200, 'ok');
      const identity = await this.tokens.authenticate(req.headers.authorization, (ns, name) => this.saUid(ns, name));
      if (!identity) throw unauthorized();
      await this.route(req, res, url, path, identity);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private async saUid(namespace: string, name: string): Promise<string | undefined> {
    const sa = await this.store.find(resource('', 'v1', 'serviceaccounts'), namespace, name);
    return sa?.metadata.uid;
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    identity: Identity,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/version') return this.json(res, 200, SERVER_VERSION);
    if (path === '/api') return this.json(res, 200, apiVersions(this.serverAddress));
    if (path === '/apis') return this.json(res, 200, apiGroupList());
    if (path === '/openapi/v3') return this.json(res, 200, openApiRoot());
    if (path.startsWith('/openapi/v3/')) {
      const doc = openApiGroupVersion(path.slice('/openapi/v3/'.length));
      if (!doc) throw pathNotFound(path);
      return this.json(res, 200, doc);
    }
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg.length >= 2) {
      group = '';
      version = seg[1]!;
      rest = seg.slice(2);
    } else if (seg[0] === 'apis' && seg.length >= 2) {
      if (seg.length === 2) {
        const g = apiGroup(seg[1]!);
        if (!g) throw pathNotFound(path);
        return this.json(res, 200, g);
      }
      group = seg[1]!;
      version = seg[2]!;
      rest = seg.slice(3);
    } else throw pathNotFound(path);
    if (rest.length === 0) {
      const list = apiResourceList(group, version);
      if (!list) throw pathNotFound(path);
      return this.json(res, 200, list);
    }
    const route = this.parseRoute(group, version, rest, path);
    void identity;
    await this.dispatch(method, route, req, res, url);
  }

  private parseRoute(group: string, version: string, rest: string[], path: string): Route {
    let namespace: string | undefined;
    let parts = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, version, rest[2]!)?.namespaced) {
      namespace = rest[1];
      parts = rest.slice(2);
    }
    const res = findResource(group, version, parts[0]!);
    if (!res || parts.length > 3) throw pathNotFound(path);
    if (res.namespaced && namespace === undefined && parts.length > 1) throw pathNotFound(path);
    const route: Route = { res, namespace, name: parts[1], subresource: parts[2] };
    if (route.subresource && !(res.subresources ?? []).some((s) => s.name === route.subresource))
      throw pathNotFound(path);
    return route;
  }

  private async dispatch(method: string, r: Route, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const q = url.searchParams;
    const accept = req.headers.accept;
    if (r.name === undefined) {
      if (method === 'GET') {
        if (q.get('watch') === '1' || q.get('watch') === 'true') return this.watch(r, q, res, wantsTable(accept));
        return this.list(r, q, res, accept);
      }
      if (method === 'POST') return this.create(r, await readJson(req), res, q);
      if (method === 'DELETE') return this.deleteCollection(r, q, res);
      throw methodNotAllowed();
    }
    if (r.subresource === 'token') {
      if (method !== 'POST') throw methodNotAllowed();
      return this.tokenRequest(r, await readJson(req), res);
    }
    switch (method) {
      case 'GET': {
        const obj = await this.store.get(r.res, r.namespace, r.name);
        if (wantsTable(accept))
          return this.json(res, 200, renderTable(r.res.kind, [obj], obj.metadata.resourceVersion));
        return this.json(res, 200, obj);
      }
      case 'PUT':
        return this.update(r, await readJson(req), res, q.get('dryRun') === 'All');
      case 'PATCH':
        if ((req.headers['content-type'] ?? '').startsWith('application/apply-patch+yaml'))
          return this.serverSideApply(r, await readBody(req), res, q.get('dryRun') === 'All');
        return this.patch(r, req, res, q.get('dryRun') === 'All');
      case 'DELETE':
        return this.delete(r, await readJson(req, true), res);
      default:
        throw methodNotAllowed();
    }
  }

  // ------------------------------------------------------------------------------------------------ reads

  private selectors(r: Route, q: URLSearchParams) {
    try {
      return {
        labels: parseLabelSelector(q.get('labelSelector') ?? undefined),
        fields: parseFieldSelector(q.get('fieldSelector') ?? undefined, [
          'metadata.name',
          'metadata.namespace',
          ...(r.res.fields ?? []),
        ]),
      };
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
  }

  private async list(r: Route, q: URLSearchParams, res: ServerResponse, accept?: string): Promise<void> {
    const { labels, fields } = this.selectors(r, q);
    const limit = Number(q.get('limit') ?? 0);
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get('limit')}`);
    const token = q.get('continue');
    let snap: ListSnapshot;
    let offset = 0;
    let id: string;
    if (token) {
      const parsed = decodeContinue(token);
      const found = parsed && this.snapshots.get(parsed.id);
      if (!parsed || !found || Date.now() - found.createdAt > this.cfg.continueTtlMs) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      snap = found;
      offset = parsed.offset;
      id = parsed.id;
    } else {
      const all = await this.store.list(r.res, r.namespace);
      snap = {
        items: all.items.filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o)),
        revision: all.revision,
        createdAt: Date.now(),
      };
      id = randomBytes(8).toString('hex');
    }
    const page = limit > 0 ? snap.items.slice(offset, offset + limit) : snap.items.slice(offset);
    const nextOffset = offset + page.length;
    let next: string | undefined;
    if (limit > 0 && nextOffset < snap.items.length) {
      this.remember(id, snap);
      next = encodeContinue({ id, offset: nextOffset, rv: snap.revision });
    } else this.snapshots.delete(id);
    const rv = String(snap.revision);
    if (wantsTable(accept)) return this.json(res, 200, renderTable(r.res.kind, page, rv, next));
    this.json(res, 200, {
      kind: `${r.res.kind}List`,
      apiVersion: apiVersionOf(r.res),
      metadata: {
        resourceVersion: rv,
        ...(next ? { continue: next, remainingItemCount: snap.items.length - nextOffset } : {}),
      },
      items: page,
    });
  }

  private remember(id: string, snap: ListSnapshot): void {
    this.snapshots.set(id, snap);
    const now = Date.now();
    for (const [k, s] of this.snapshots) if (now - s.createdAt > this.cfg.continueTtlMs) this.snapshots.delete(k);
    while (this.snapshots.size > 64) this.snapshots.delete(this.snapshots.keys().next().value!);
  }

  private async watch(r: Route, q: URLSearchParams, res: ServerResponse, table = false): Promise<void> {
    const { labels, fields } = this.selectors(r, q);
    const rv = parseResourceVersion(q.get('resourceVersion') ?? '');
    if (Number.isNaN(rv)) throw badRequest(`invalid resource version: ${q.get('resourceVersion')}`);
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0);
    const timeoutMs =
      timeoutSeconds > 0 ? timeoutSeconds * 1000 : (this.cfg.watchTimeoutMs ?? (1800 + Math.random() * 1800) * 1000);
    const stream = new WatchStream(
      this.store,
      {
        res: r.res,
        namespace: r.namespace,
        labels,
        fields,
        resourceVersion: rv || undefined,
        bookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
        initialEventsEnd: q.get('sendInitialEvents') === 'true',
        timeoutMs,
        bookmarkIntervalMs: this.cfg.bookmarkIntervalMs,
        table,
      },
      res,
      (w) => this.watches.delete(w),
    );
    this.watches.add(stream);
    await stream.start();
  }

  async closeWatches(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.end()));
  }

  // ------------------------------------------------------------------------------------------------ writes

  private async create(r: Route, body: unknown, res: ServerResponse, q: URLSearchParams): Promise<void> {
    const obj = checkEnvelope(r.res, body, r.namespace);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (r.res.namespaced) await this.requireNamespace(meta.namespace);
    const admitted = admit(r.res, obj);
    if (r.res.kind === 'Pod') admitted.status = { phase: 'Pending' };
    if (r.res.kind === 'Namespace') admitted.status = { phase: 'Active' };
    if (q.get('dryRun') === 'All') return this.json(res, 201, admitted);
    const created = await this.store.create(r.res, admitted);
    if (r.res.kind === 'Namespace') await this.ensureDefaultServiceAccount(meta.name);
    this.json(res, 201, created);
  }

  private async update(r: Route, body: unknown, res: ServerResponse, dryRun: boolean): Promise<void> {
    const obj = checkEnvelope(r.res, body, r.namespace, r.name);
    const wanted = parseResourceVersion(obj.metadata.resourceVersion);
    if (Number.isNaN(wanted))
      throw badRequest(`invalid resourceVersion ${JSON.stringify(obj.metadata.resourceVersion)}`);
    const updated = await this.store.modify(
      r.res,
      r.namespace,
      r.name!,
      (current) => this.merge(r, current, obj),
      wanted,
      dryRun,
    );
    this.json(res, 200, updated);
  }

  private async patch(r: Route, req: IncomingMessage, res: ServerResponse, dryRun: boolean): Promise<void> {
    const text = await readBody(req);
    const updated = await this.store.modify(
      r.res,
      r.namespace,
      r.name!,
      (current) => {
        const patched = applyPatch(req.headers['content-type'], current, text) as KubeObject;
        const want = parseResourceVersion(patched?.metadata?.resourceVersion);
        if (want !== undefined && want !== Number(current.metadata.resourceVersion)) {
          throw new ApiError({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `Operation cannot be fulfilled on ${r.res.plural} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`,
            reason: 'Conflict',
            details: { name: r.name, kind: r.res.plural },
            code: 409,
          });
        }
        const obj = checkEnvelope(r.res, patched, r.namespace, r.name);
        return this.merge(r, current, obj);
      },
      undefined,
      dryRun,
    );
    this.json(res, 200, updated);
  }

  /**
   * Server-side apply (`kubectl apply --server-side`), simplified: the applied configuration is created when absent,
   * else merged into the stored object as a strategic merge patch. Field ownership (managedFields) is not tracked.
   */
  private async serverSideApply(r: Route, text: string, res: ServerResponse, dryRun: boolean): Promise<void> {
    let body: unknown;
    try {
      body = parseYaml(text);
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    const applied = checkEnvelope(r.res, body, r.namespace, r.name);
    if (r.subresource !== 'status' && !(await this.store.find(r.res, r.namespace, r.name!))) {
      if (r.res.namespaced) await this.requireNamespace(applied.metadata.namespace);
      const admitted = admit(r.res, applied);
      if (r.res.kind === 'Pod') admitted.status = { phase: 'Pending' };
      if (r.res.kind === 'Namespace') admitted.status = { phase: 'Active' };
      if (dryRun) return this.json(res, 201, admitted);
      const created = await this.store.create(r.res, admitted);
      if (r.res.kind === 'Namespace') await this.ensureDefaultServiceAccount(applied.metadata.name);
      return this.json(res, 201, created);
    }
    const { resourceVersion: _rv, ...meta } = applied.metadata;
    const updated = await this.store.modify(
      r.res,
      r.namespace,
      r.name!,
      (current) =>
        this.merge(
          r,
          current,
          checkEnvelope(r.res, strategicMergePatch(current, { ...applied, metadata: meta }, ''), r.namespace, r.name),
        ),
      undefined,
      dryRun,
    );
    this.json(res, 200, updated);
  }

  /** The object to store for an update of `current` with `next` (main resource or status subresource). */
  private merge(r: Route, current: KubeObject, next: KubeObject): KubeObject {
    if (r.subresource === 'status') return { ...current, status: next.status };
    const admitted = admit(r.res, next);
    checkImmutable(r.res, current, admitted);
    if (r.res.hasStatus) admitted.status = current.status;
    if (r.res.kind === 'Namespace') admitted.status = current.status ?? { phase: 'Active' };
    return admitted;
  }

  private async delete(r: Route, body: unknown, res: ServerResponse): Promise<void> {
    const pre =
      (body as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined)?.preconditions ?? {};
    const rv = parseResourceVersion(pre.resourceVersion);
    if (r.res.kind === 'Namespace') await this.emptyNamespace(r.name!);
    const removed = await this.store.delete(r.res, r.namespace, r.name!, {
      resourceVersion: rv === undefined || Number.isNaN(rv) ? undefined : rv,
      uid: pre.uid,
    });
    this.json(res, 200, removed);
  }

  private async deleteCollection(r: Route, q: URLSearchParams, res: ServerResponse): Promise<void> {
    const { labels, fields } = this.selectors(r, q);
    const all = await this.store.list(r.res, r.namespace);
    const items: KubeObject[] = [];
    for (const o of all.items) {
      if (!matchesLabels(labels, o.metadata.labels) || !matchesFields(fields, o)) continue;
      if (r.res.kind === 'Namespace') await this.emptyNamespace(o.metadata.name);
      try {
        items.push(await this.store.delete(r.res, o.metadata.namespace, o.metadata.name));
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    const rev = await this.store.datastore.currentRevision();
    this.json(res, 200, {
      kind: `${r.res.kind}List`,
      apiVersion: apiVersionOf(r.res),
      metadata: { resourceVersion: String(rev) },
      items,
    });
  }

  /** Namespace deletion removes everything in it (kube-apiserver does this through the namespace controller). */
  private async emptyNamespace(ns: string): Promise<void> {
    await this.store.get(resource('', 'v1', 'namespaces'), undefined, ns);
    for (const res of SERVED_RESOURCES.filter((x) => x.namespaced)) {
      const { items } = await this.store.list(res, ns);
      for (const o of items) {
        await this.store.delete(res, ns, o.metadata.name).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
      }
    }
  }

  private async requireNamespace(ns: string | undefined): Promise<void> {
    if (!ns) throw badRequest('a namespace is required for this resource');
    const found = await this.store.find(resource('', 'v1', 'namespaces'), undefined, ns);
    if (!found) throw notFound('namespaces', '', ns);
  }

  async ensureNamespace(name: string): Promise<void> {
    const nsRes = resource('', 'v1', 'namespaces');
    if (!(await this.store.find(nsRes, undefined, name))) {
      const obj = admit(nsRes, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      obj.status = { phase: 'Active' };
      await this.store.create(nsRes, obj).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      });
    }
    await this.ensureDefaultServiceAccount(name);
  }

  private async ensureDefaultServiceAccount(ns: string): Promise<void> {
    const saRes = resource('', 'v1', 'serviceaccounts');
    if (await this.store.find(saRes, ns, 'default')) return;
    await this.store
      .create(
        saRes,
        admit(saRes, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } }),
      )
      .catch((err: unknown) => {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      });
  }

  private async tokenRequest(r: Route, body: unknown, res: ServerResponse): Promise<void> {
    const sa = await this.store.get(r.res, r.namespace, r.name!);
    const b = (body ?? {}) as {
      kind?: string;
      spec?: { expirationSeconds?: number; audiences?: string[]; boundObjectRef?: unknown };
    };
    if (b.kind !== undefined && b.kind !== 'TokenRequest')
      throw badRequest(`expected a TokenRequest, got kind ${b.kind}`);
    const spec = b.spec ?? {};
    const seconds = spec.expirationSeconds ?? 3600;
    if (!Number.isInteger(seconds) || seconds < this.cfg.minTokenExpirationSeconds) {
      throw invalid('TokenRequest', 'authentication.k8s.io', r.name!, [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.expirationSeconds',
          message: `Invalid value: ${seconds}: may not specify a duration less than ${this.cfg.minTokenExpirationSeconds} seconds`,
        },
      ]);
    }
    const expiration = Math.min(seconds, 48 * 3600);
    const audiences = Array.isArray(spec.audiences) ? spec.audiences : [];
    const issued = this.tokens.issue(r.namespace!, r.name!, sa.metadata.uid, expiration, audiences);
    this.json(res, 201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: r.name, namespace: r.namespace, creationTimestamp: null },
      spec: {
        audiences: audiences.length ? audiences : ['https://kubernetes.default.svc.cluster.local'],
        expirationSeconds: expiration,
        boundObjectRef: spec.boundObjectRef ?? null,
      },
      status: { token: issued.token, expirationTimestamp: issued.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z') },
    });
  }

  // ------------------------------------------------------------------------------------------------ output

  private json(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-cache, private',
    });
    res.end(text);
  }

  private text(res: ServerResponse, code: number, body: string): void {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private fail(res: ServerResponse, err: unknown): void {
    const status =
      err instanceof ApiError ? err.status : internalError(err instanceof Error ? err.message : String(err)).status;
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    this.json(res, status.code, status);
  }
}

function resource(group: string, version: string, plural: string): ServedResource {
  return findResource(group, version, plural)!;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (const b of randomBytes(5)) s += alphabet[b % alphabet.length];
  return s;
}

function encodeContinue(t: { id: string; offset: number; rv: number }): string {
  return Buffer.from(JSON.stringify({ v: 'calico-ts/1', ...t })).toString('base64url');
}

function decodeContinue(token: string): { id: string; offset: number } | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (t?.v !== 'calico-ts/1' || typeof t.id !== 'string' || !Number.isInteger(t.offset)) return undefined;
    return t;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY)
      throw new ApiError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Request entity too large',
        reason: 'RequestEntityTooLarge',
        code: 413,
      });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage, optional = false): Promise<unknown> {
  const text = await readBody(req);
  if (!text.trim()) {
    if (optional) return undefined;
    throw badRequest('the request body is empty');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't decode the request body as JSON: ${(err as Error).message}`);
  }
}
