// The API server against real clients: Debian's kubectl and @kubernetes/client-node (list with pagination, the
// informer through 410 re-list, a watch stream cut mid-line), raw HTTPS for the wire details (Status objects,
// bookmarks, 401 without a token), service-account tokens from TokenRequest, patches and leases.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CoordinationV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { openDatastore } from '../../../src/datastore/index.js';
import { generateTlsMaterial } from '../../../src/k8s/apiserver/index.js';
import { startTestApiServer, eventually, type TestApiServer } from '../../support/k8s.js';

interface RawResponse {
  status: number;
  body: string;
  json(): any;
}

function raw(
  t: TestApiServer,
  method: string,
  p: string,
  opts: { token?: string | null; body?: unknown; type?: string } = {},
): Promise<RawResponse> {
  const url = new URL(t.server.url + p);
  const token = opts.token === undefined ? t.server.adminToken : opts.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: t.server.caCert,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(opts.body !== undefined ? { 'Content-Type': opts.type ?? 'application/json' } : {}),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    req.end();
  });
}

/** Opens a raw watch and collects its lines until `until` says stop (or the stream ends). */
function rawWatch(t: TestApiServer, p: string, until: (lines: any[]) => boolean, timeoutMs = 8000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const lines: any[] = [];
    let buf = '';
    const req = https.request(
      new URL(t.server.url + p),
      { ca: t.server.caCert, headers: { Authorization: `Bearer ${t.server.adminToken}` } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            lines.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
          }
          if (until(lines)) {
            clearTimeout(timer);
            req.destroy();
            resolve(lines);
          }
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve(lines);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`watch ${p} timed out; got ${JSON.stringify(lines)}`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (!(e as NodeJS.ErrnoException).code?.includes('ECONNRESET')) reject(e);
    });
    req.end();
  });
}

const pod = (name: string, labels: Record<string, string> = {}, nodeName?: string): V1Pod => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
});

describe('Kubernetes API server', () => {
  let t: TestApiServer;
  before(async () => {
    t = await startTestApiServer({ bookmarkIntervalMs: 200, minTokenExpirationSeconds: 1 });
  });
  after(async () => {
    await t?.stop();
  });

  test('refuses requests without a valid bearer token with a 401 Status; health is open', async () => {
    for (const token of [null, 'not-a-token', 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA']) {
      const r = await raw(t, 'GET', '/api/v1/pods', { token });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json(), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    assert.equal((await raw(t, 'GET', '/healthz', { token: null })).body, 'ok');
    const k = await t.kubectl('get', 'pods', '--token', 'wrong');
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /Unauthorized|must be logged in/);
  });

  test('kubectl creates, lists, labels, applies and deletes against it', async () => {
    let r = await t.kubectl('create', 'namespace', 'kc');
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('-n', 'kc', 'run', 'web', '--image=busybox', '--labels=app=web');
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('get', 'pods', '-A');
    assert.match(r.stdout, /kc\s+web\s+0\/1\s+Pending/);
    r = await t.kubectl('-n', 'kc', 'label', 'pod', 'web', 'tier=front');
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('-n', 'kc', 'get', 'pods', '-l', 'tier=front', '-o', 'jsonpath={.items[*].metadata.name}');
    assert.equal(r.stdout, 'web');
    const policy = path.join(t.dir, 'np.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      policy,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: kc}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]\n',
    );
    r = await t.kubectl('apply', '-f', policy);
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('-n', 'kc', 'get', 'networkpolicy', 'db', '-o', 'jsonpath={.spec.policyTypes}');
    assert.equal(r.stdout, '["Ingress","Egress"]', 'egress rules without policyTypes default to Ingress+Egress');
    const podFile = path.join(t.dir, 'pod.yaml');
    writeFileSync(
      podFile,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: ssa, namespace: kc, labels: {app: ssa}}\nspec: {containers: [{name: c, image: busybox}]}\n',
    );
    r = await t.kubectl('apply', '--server-side', '-f', podFile);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(
      podFile,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: ssa, namespace: kc, labels: {app: ssa, v: "2"}}\nspec: {containers: [{name: c, image: busybox}]}\n',
    );
    r = await t.kubectl('apply', '--server-side', '-f', podFile);
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('-n', 'kc', 'get', 'pod', 'ssa', '-o', 'jsonpath={.metadata.labels.v}');
    assert.equal(r.stdout, '2', 'server-side apply updates');
    r = await t.kubectl('create', 'namespace', 'Bad_Name');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is invalid: metadata\.name/);
    r = await t.kubectl('-n', 'kc', 'delete', 'pod', 'web');
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('delete', 'namespace', 'kc');
    assert.equal(r.code, 0, r.stderr);
    r = await t.kubectl('get', 'networkpolicies', '-A', '-o', 'name');
    assert.equal(r.stdout.trim(), '', 'deleting a namespace removes what was in it');
  });

  test('list pages with limit/continue at one resourceVersion; a stale continue token is 410 Expired', async () => {
    const core = t.core();
    await core.createNamespace({ body: { metadata: { name: 'pages' } } });
    for (let i = 0; i < 23; i++)
      await core.createNamespacedPod({
        namespace: 'pages',
        body: pod(`p${String(i).padStart(2, '0')}`, { i: String(i % 2) }),
      });
    const seen: string[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedPod({ namespace: 'pages', limit: 10, _continue: cont });
      pages++;
      rv ??= page.metadata?.resourceVersion;
      assert.equal(page.metadata?.resourceVersion, rv, "every page is read at the first page's version");
      seen.push(...page.items.map((p) => p.metadata!.name!));
      cont = page.metadata?._continue;
      if (pages === 1) await core.createNamespacedPod({ namespace: 'pages', body: pod('late') }); // not in this list
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      Array.from({ length: 23 }, (_, i) => `p${String(i).padStart(2, '0')}`),
    );
    const odd = await core.listNamespacedPod({ namespace: 'pages', labelSelector: 'i=1' });
    assert.equal(odd.items.length, 11);
    const r = await raw(
      t,
      'GET',
      '/api/v1/namespaces/pages/pods?limit=5&continue=eyJ2IjoiY2FsaWNvLXRzLzEiLCJpZCI6Im5vbmUiLCJvZmZzZXQiOjV9',
    );
    assert.equal(r.status, 410);
    assert.equal(r.json().reason, 'Expired');
    const bad = await raw(t, 'GET', '/api/v1/pods?labelSelector=a%20in%20(');
    assert.equal(bad.status, 400);
    const field = await raw(t, 'GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
    assert.equal(field.status, 400);
    assert.match(field.json().message, /field label not supported: spec.bogus/);
  });

  test('Status objects: NotFound, AlreadyExists, Conflict on a stale update, Invalid with causes', async () => {
    let r = await raw(t, 'GET', '/api/v1/namespaces/default/pods/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 's1' }, spec: { containers: [{ name: 'c' }] } };
    r = await raw(t, 'POST', '/api/v1/namespaces/default/pods', { body });
    assert.equal(r.status, 201);
    const created = r.json();
    r = await raw(t, 'POST', '/api/v1/namespaces/default/pods', { body });
    assert.equal(r.status, 409);
    assert.equal(r.json().reason, 'AlreadyExists');
    const v1 = { ...created, metadata: { ...created.metadata, labels: { a: '1' } } };
    r = await raw(t, 'PUT', '/api/v1/namespaces/default/pods/s1', { body: v1 });
    assert.equal(r.status, 200);
    r = await raw(t, 'PUT', '/api/v1/namespaces/default/pods/s1', {
      body: { ...v1, metadata: { ...v1.metadata, labels: { a: '2' } } },
    });
    assert.equal(r.status, 409);
    assert.equal(r.json().reason, 'Conflict');
    assert.match(r.json().message, /the object has been modified/);
    r = await raw(t, 'POST', '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', {
      body: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'bad' },
        spec: { podSelector: {}, ingress: [{ ports: [{ port: 70000 }] }] },
      },
    });
    assert.equal(r.status, 422);
    assert.equal(r.json().reason, 'Invalid');
    assert.equal(r.json().details.causes[0].field, 'spec.ingress[0].ports[0].port');
    r = await raw(t, 'POST', '/api/v1/namespaces/missing/pods', { body: { ...body, metadata: { name: 'x' } } });
    assert.equal(r.status, 404);
    assert.equal(r.json().message, 'namespaces "missing" not found');
  });

  test('pods/status takes merge patches (patchNamespacedPodStatus) and a main-resource update keeps status', async () => {
    const core = t.core();
    await core.createNamespacedPod({ namespace: 'default', body: pod('st', { app: 'a' }, 'node-1') });
    const patched = await core.patchNamespacedPodStatus(
      {
        name: 'st',
        namespace: 'default',
        body: { status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(patched.status?.podIP, '10.0.0.5');
    assert.deepEqual(patched.metadata?.labels, { app: 'a' });
    const relabeled = await core.patchNamespacedPod(
      { name: 'st', namespace: 'default', body: { metadata: { labels: { app: 'b' } }, status: { phase: 'Failed' } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(relabeled.metadata?.labels, { app: 'b' });
    assert.equal(relabeled.status?.phase, 'Running', 'status changes only through pods/status');
    const jp = await core.patchNamespacedPod({
      name: 'st',
      namespace: 'default',
      body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }],
    });
    assert.deepEqual(jp.metadata?.labels, { app: 'b', x: 'y' });
    const byNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    assert.deepEqual(
      byNode.items.map((p) => p.metadata?.name),
      ['st'],
    );
    await assert.rejects(
      core.patchNamespacedPod(
        { name: 'st', namespace: 'default', body: { spec: { nodeName: 'node-2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      (e: any) => e.code === 422,
    );
  });

  test('watch: ADDED/MODIFIED/DELETED in order, leaving a selector is DELETED, BOOKMARKs carry a resumable version', async () => {
    const core = t.core();
    await core.createNamespace({ body: { metadata: { name: 'w' } } });
    const start = (await core.listNamespacedPod({ namespace: 'w' })).metadata!.resourceVersion!;
    const lines = rawWatch(
      t,
      `/api/v1/namespaces/w/pods?watch=1&resourceVersion=${start}&allowWatchBookmarks=true&labelSelector=app%3Dweb`,
      (l) => l.filter((x) => x.type === 'BOOKMARK').length >= 2 && l.some((x) => x.type === 'DELETED'),
    );
    await new Promise((r) => setTimeout(r, 100));
    await core.createNamespacedPod({ namespace: 'w', body: pod('a', { app: 'web' }) });
    await core.createNamespacedPod({ namespace: 'w', body: pod('other', { app: 'db' }) });
    await core.patchNamespacedPod(
      { name: 'a', namespace: 'w', body: { metadata: { labels: { app: 'web', v: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.patchNamespacedPod(
      { name: 'a', namespace: 'w', body: { metadata: { labels: { app: 'gone' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const got = await lines;
    const events = got
      .filter((x) => x.type !== 'BOOKMARK')
      .map((x) => `${x.type} ${x.object.metadata.name} ${x.object.metadata.labels.app}`);
    assert.deepEqual(events, ['ADDED a web', 'MODIFIED a web', 'DELETED a gone']);
    const versions = got.filter((x) => x.type !== 'BOOKMARK').map((x) => Number(x.object.metadata.resourceVersion));
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    const bookmark = got.filter((x) => x.type === 'BOOKMARK').at(-1);
    assert.equal(bookmark.object.kind, 'Pod');
    assert.ok(Number(bookmark.object.metadata.resourceVersion) >= versions.at(-1)!);
    // Resuming from the bookmark's version delivers only what came after it.
    const resumed = rawWatch(
      t,
      `/api/v1/namespaces/w/pods?watch=1&resourceVersion=${bookmark.object.metadata.resourceVersion}`,
      (l) => l.length >= 1,
    );
    await new Promise((r) => setTimeout(r, 100));
    await core.deleteNamespacedPod({ name: 'other', namespace: 'w' });
    const after = await resumed;
    assert.deepEqual(
      after.map((x) => `${x.type} ${x.object.metadata.name}`),
      ['DELETED other'],
    );
  });

  test("client-node's Watch with allowWatchBookmarks receives BOOKMARKs and resumes from one", async () => {
    const core = t.core();
    await core.createNamespace({ body: { metadata: { name: 'bm' } } });
    const rv = (await core.listNamespacedPod({ namespace: 'bm' })).metadata!.resourceVersion!;
    const events: { type: string; rv: string; name?: string }[] = [];
    const watch = new Watch(t.kubeConfig());
    const ctrl = await watch.watch(
      '/api/v1/namespaces/bm/pods',
      { allowWatchBookmarks: true, resourceVersion: rv },
      (type, obj) => events.push({ type, rv: obj.metadata.resourceVersion, name: obj.metadata.name }),
      () => undefined,
    );
    await core.createNamespacedPod({ namespace: 'bm', body: pod('one') });
    await eventually(
      () =>
        events.some(
          (e) => e.type === 'BOOKMARK' && Number(e.rv) >= Number(events.find((x) => x.name === 'one')?.rv ?? Infinity),
        ),
      'a bookmark after the event',
    );
    ctrl.abort();
    const bookmark = events.filter((e) => e.type === 'BOOKMARK').at(-1)!;
    await core.createNamespacedPod({ namespace: 'bm', body: pod('two') });
    const resumed: string[] = [];
    const ctrl2 = await watch.watch(
      '/api/v1/namespaces/bm/pods',
      { resourceVersion: bookmark.rv },
      (type, obj) => resumed.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    await eventually(() => resumed.length >= 1, 'resumed watch delivers');
    ctrl2.abort();
    assert.deepEqual(resumed, ['ADDED two']);
  });

  test('a watch from a compacted version gets ERROR 410 Expired; the informer re-lists and converges', async () => {
    const kc = t.kubeConfig();
    const core = t.core();
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
    await core.createNamespacedPod({ namespace: 'inf', body: pod('keep') });
    await core.createNamespacedPod({ namespace: 'inf', body: pod('doomed') });
    let lists = 0;
    const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/inf/pods', () => {
      lists++;
      return core.listNamespacedPod({ namespace: 'inf' });
    });
    const deleted: string[] = [];
    informer.on('delete', (p) => deleted.push(p.metadata!.name!));
    await informer.start();
    await eventually(() => informer.list().length === 2, 'informer synced');
    const oldRv = (await core.listNamespacedPod({ namespace: 'inf' })).metadata!.resourceVersion!;
    await informer.stop();
    await core.deleteNamespacedPod({ name: 'doomed', namespace: 'inf' });
    await core.createNamespacedPod({ namespace: 'inf', body: pod('born') });
    await t.datastore.compact(await t.datastore.currentRevision());
    const raw410 = await rawWatch(t, `/api/v1/namespaces/inf/pods?watch=1&resourceVersion=${oldRv}`, () => false);
    assert.equal(raw410.length, 1);
    assert.equal(raw410[0].type, 'ERROR');
    assert.equal(raw410[0].object.code, 410);
    assert.equal(raw410[0].object.reason, 'Expired');
    assert.match(raw410[0].object.message, /too old resource version/);
    const listsBefore = lists;
    await informer.start();
    await eventually(
      () =>
        informer
          .list()
          .map((p) => p.metadata!.name)
          .sort()
          .join() === 'born,keep',
      'informer re-listed after 410',
    );
    assert.ok(lists > listsBefore);
    assert.deepEqual(deleted, ['doomed']);
    await informer.stop();
  });

  test('service-account tokens from TokenRequest authenticate until they expire or the account is deleted', async () => {
    const core = t.core();
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'cni' } } });
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'cni',
      namespace: 'default',
      body: { spec: { audiences: [], expirationSeconds: 2 } },
    });
    const token = tr.status!.token;
    assert.equal(token.split('.').length, 3);
    assert.ok(tr.status!.expirationTimestamp instanceof Date);
    assert.equal((await raw(t, 'GET', '/api/v1/namespaces/default/pods', { token })).status, 200);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await raw(t, 'GET', '/api/v1/namespaces/default/pods', { token })).status, 401, 'expired');
    const tr2 = await core.createNamespacedServiceAccountToken({
      name: 'cni',
      namespace: 'default',
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    assert.equal((await raw(t, 'GET', '/api/v1/pods', { token: tr2.status!.token })).status, 200);
    await core.deleteNamespacedServiceAccount({ name: 'cni', namespace: 'default' });
    assert.equal((await raw(t, 'GET', '/api/v1/pods', { token: tr2.status!.token })).status, 401, 'account deleted');
  });

  test('concurrent patches of one object lose nothing; a new namespace gets its default service account', async () => {
    const core = t.core();
    await core.createNamespace({ body: { metadata: { name: 'race' } } });
    const sas = await core.listNamespacedServiceAccount({ namespace: 'race' });
    assert.deepEqual(
      sas.items.map((s) => s.metadata?.name),
      ['default'],
    );
    await core.createNamespacedPod({ namespace: 'race', body: pod('target') });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        raw(t, 'PATCH', '/api/v1/namespaces/race/pods/target', {
          type: 'application/merge-patch+json',
          body: { metadata: { labels: { [`l${i}`]: 'x' } } },
        }).then((r) => assert.equal(r.status, 200, r.body)),
      ),
    );
    const final = await core.readNamespacedPod({ name: 'target', namespace: 'race' });
    assert.equal(Object.keys(final.metadata?.labels ?? {}).length, 20);
  });

  test('leases are compare-and-swap: the second writer of the same version gets 409', async () => {
    const coord = t.kubeConfig().makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({
      namespace: 'kube-system',
      body: { metadata: { name: 'l1' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    const mine = { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } };
    await coord.replaceNamespacedLease({ name: 'l1', namespace: 'kube-system', body: mine });
    await assert.rejects(
      coord.replaceNamespacedLease({
        name: 'l1',
        namespace: 'kube-system',
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } },
      }),
      (e: any) => e.code === 409,
    );
    const r = await raw(t, 'GET', '/apis/coordination.k8s.io/v1');
    assert.ok(r.json().resources.some((x: any) => x.name === 'leases' && x.namespaced));
  });
});

describe('Kubernetes API server: a watch stream cut mid-line', () => {
  test('the informer drops the partial line, re-watches from its last version and loses nothing', async () => {
    // A TLS-terminating proxy in front of the server forwards watch streams but cuts the first one half-way
    // through an event line, as a broken connection would.
    const tls = generateTlsMaterial(['127.0.0.1']);
    const t = await startTestApiServer({ tls });
    let cut = false;
    const proxy = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const up = https.request(
        new URL(t.server.url + req.url),
        { method: req.method, headers: req.headers, ca: tls.caCert },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          res.flushHeaders();
          const isWatch = /[?&]watch=/.test(req.url ?? '');
          ur.on('data', (d: Buffer) => {
            const text = d.toString('utf8');
            if (isWatch && !cut && text.includes('"name":"second"')) {
              cut = true;
              res.write(text.slice(0, Math.floor(text.length / 2)));
              res.socket?.destroy();
              ur.destroy();
              return;
            }
            res.write(d);
          });
          ur.on('end', () => res.end());
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (proxy.address() as { port: number }).port;
      const kc = new KubeConfig();
      kc.loadFromString(t.server.kubeconfig(`https://127.0.0.1:${port}`));
      const core = t.core();
      const viaProxy = kc.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api);
      const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/default/pods', () =>
        viaProxy.listNamespacedPod({ namespace: 'default' }),
      );
      let stopped = false;
      informer.on('error', () => {
        if (!stopped) setTimeout(() => void (stopped || informer.start()), 100);
      });
      await informer.start();
      await core.createNamespacedPod({ namespace: 'default', body: pod('first') });
      await eventually(() => informer.list().length === 1, 'first pod seen');
      await core.createNamespacedPod({ namespace: 'default', body: pod('second') });
      await core.createNamespacedPod({ namespace: 'default', body: pod('third') });
      await eventually(
        () =>
          informer
            .list()
            .map((p) => p.metadata!.name)
            .sort()
            .join() === 'first,second,third',
        'all pods after the cut',
      );
      assert.ok(cut, 'the proxy cut a watch stream mid-line');
      stopped = true;
      await informer.stop();
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await t.stop();
    }
  });
});

describe('Kubernetes API server on SQLite', () => {
  test('objects live in the datastore under /calico-ts/k8s/ with resourceVersion = the key revision', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tk-sqlite-'));
    const ds = await openDatastore({ type: 'sqlite', sqlitePath: path.join(dir, 'calico.db') });
    const t = await startTestApiServer({ datastore: ds });
    try {
      const created = await t.core().createNamespacedPod({ namespace: 'default', body: pod('persisted') });
      const kv = await ds.get('/calico-ts/k8s/core/pods/default/persisted');
      assert.ok(kv);
      assert.equal(String(kv.revision), created.metadata!.resourceVersion);
      assert.equal(JSON.parse(kv.value).metadata.resourceVersion, undefined);
    } finally {
      await t.stop();
      await ds.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
