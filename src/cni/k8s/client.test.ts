import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { KubeReader } from './client.js';
import { loadKubeconfig } from './kubeconfig.js';
import { ANNOTATION, annotationList, podInfo } from './pod.js';

function selfSigned(): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3600_000);
  const attrs = [{ name: 'commonName', value: '127.0.0.1' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

const POD = {
  metadata: {
    name: 'web-0',
    namespace: 'prod',
    labels: { app: 'web' },
    annotations: { [ANNOTATION.ipv4pools]: '["pool-a"]', [ANNOTATION.floatingIPs]: '["1.2.3.4"]' },
    generateName: 'web-',
  },
  spec: {
    serviceAccountName: 'frontend',
    containers: [
      {
        ports: [
          { name: 'http', containerPort: 8080 },
          { containerPort: 9000 },
          { containerPort: 53, protocol: 'UDP', hostPort: 5353 },
        ],
      },
    ],
  },
};
const NS = {
  metadata: { name: 'prod', labels: { team: 'blue' }, annotations: { [ANNOTATION.ipv6pools]: '["fd00::/64"]' } },
};

let server: Server;
let dir: string;
let kubeconfig: string;
const seenAuth: string[] = [];
const gets: string[] = [];
const watchers: ServerResponse[] = [];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tc-kube-'));
  const { cert, key } = selfSigned();
  server = createServer({ cert, key }, (req, res) => {
    seenAuth.push(String(req.headers.authorization));
    gets.push(String(req.url));
    if (req.url === '/api/v1/namespaces') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ metadata: { resourceVersion: '7' }, items: [NS] }));
      return;
    }
    if (req.url?.startsWith('/api/v1/namespaces?watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watchers.push(res);
      return;
    }
    const body =
      req.url === '/api/v1/namespaces/prod/pods/web-0' ? POD : req.url === '/api/v1/namespaces/prod' ? NS : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { kind: 'Status', message: `not found: ${req.url}` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  kubeconfig = path.join(dir, 'calico-kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: local',
      '  cluster:',
      `    server: https://127.0.0.1:${port}`,
      `    certificate-authority-data: "${Buffer.from(cert).toString('base64')}"`,
      'users:',
      '- name: calico',
      '  user:',
      '    token: sekret',
      'contexts:',
      '- name: calico-context',
      '  context:',
      '    cluster: local',
      '    user: calico',
      'current-context: calico-context',
    ].join('\n'),
  );
});

after(() => {
  server?.closeAllConnections();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('reads pod and namespace over HTTPS with the kubeconfig CA and token', async () => {
  const kube = new KubeReader(await loadKubeconfig(kubeconfig));
  const [pod, ns] = await Promise.all([kube.getPod('prod', 'web-0'), kube.getNamespace('prod')]);
  assert.equal(pod.metadata.name, 'web-0');
  assert.ok(seenAuth.every((a) => a === 'Bearer sekret'));
  const info = podInfo(pod, ns);
  assert.deepEqual(info.labels, { app: 'web' });
  assert.equal(info.serviceAccountName, 'frontend');
  assert.equal(info.generateName, 'web-');
  assert.deepEqual(info.ports, [
    { name: 'http', protocol: 'tcp', port: 8080 },
    { name: '', protocol: 'udp', port: 53, hostPort: 5353 },
  ]);
  assert.deepEqual(annotationList(info.annotations, ANNOTATION.ipv4pools), ['pool-a']);
  assert.deepEqual(annotationList(info.namespaceAnnotations, ANNOTATION.ipv6pools), ['fd00::/64']);
  assert.deepEqual(info.namespaceLabels, { team: 'blue' });
});

test('a missing pod is an error naming the path and status', async () => {
  const kube = new KubeReader(await loadKubeconfig(kubeconfig));
  await assert.rejects(kube.getPod('prod', 'nope'), /GET \/api\/v1\/namespaces\/prod\/pods\/nope: 404 not found/);
});

test('a server with an unknown CA is refused', async () => {
  const creds = await loadKubeconfig(kubeconfig);
  const kube = new KubeReader({ ...creds, ca: undefined });
  await assert.rejects(kube.getNamespace('prod'), /self.signed|certificate/i);
});

test('a malformed annotation is an error naming it', () => {
  assert.throws(
    () => annotationList({ [ANNOTATION.ipAddrs]: '10.0.0.1' }, ANNOTATION.ipAddrs),
    /cni.projectcalico.org\/ipAddrs.*not a JSON list/,
  );
  assert.throws(() => annotationList({ [ANNOTATION.ipAddrs]: '[1]' }, ANNOTATION.ipAddrs), /list of strings/);
});

test('a resident reader answers namespaces from its watch, and follows changes', async () => {
  const kube = new KubeReader(await loadKubeconfig(kubeconfig), undefined, { resident: true });
  try {
    const direct = () => gets.filter((u) => u === '/api/v1/namespaces/prod').length;
    const before = direct();
    assert.equal((await kube.getNamespace('prod')).metadata.name, 'prod');
    assert.equal(direct(), before + 1, 'the first lookup is a GET (and starts the watch)');
    const deadline = Date.now() + 5000;
    while (watchers.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(gets.find((u) => u.includes('watch=true')) ?? '', /resourceVersion=7/);
    assert.deepEqual((await kube.getNamespace('prod')).metadata.labels, { team: 'blue' });
    assert.equal(direct(), before + 1, 'then no GET');
    const changed = { metadata: { ...NS.metadata, labels: { team: 'red' }, resourceVersion: '8' } };
    watchers[0]!.write(JSON.stringify({ type: 'MODIFIED', object: changed }) + '\n');
    let labels: unknown;
    while (Date.now() < deadline) {
      labels = (await kube.getNamespace('prod')).metadata.labels;
      if ((labels as { team?: string }).team === 'red') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(labels, { team: 'red' });
    // The pod is always read fresh.
    await kube.getPod('prod', 'web-0');
    await kube.getPod('prod', 'web-0');
    assert.equal(gets.filter((u) => u === '/api/v1/namespaces/prod/pods/web-0').length >= 2, true);
  } finally {
    kube.close();
  }
});
