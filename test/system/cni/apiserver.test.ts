// The Kubernetes path against the project's own API server (src/k8s/apiserver) instead of a stand-in: the server
// runs in the node namespace, kubectl creates the namespace and pod there, and the plugin reads them over HTTPS with
// a kubeconfig — the same wiring the lab has.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { resourceKey } from '../../../src/datastore/keys.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, startLabApiServer } from './world.js';

let w: CniWorld;
let ds: SqliteDatastore;
let kubeconfig: string;

function kubectl(...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', w.nodeNs, 'kubectl', '--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

before(async () => {
  w = await CniWorld.create('as');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.132.0.0/16', { blockSize: 26 });
  await putNode(ds, 'tc-node-1');
  kubeconfig = await startLabApiServer(w);
});

after(async () => {
  await ds?.close();
  await w?.destroy();
});

test('pod labels, service account and named ports come from the API server', async () => {
  const manifest = path.join(w.dir, 'pod.yaml');
  writeFileSync(
    manifest,
    [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata: {name: shop, labels: {tier: backend}}',
      '---',
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata: {name: cart, namespace: shop}',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: cart-0, namespace: shop, labels: {app: cart}}',
      'spec:',
      '  serviceAccountName: cart',
      '  containers:',
      '  - name: c',
      '    image: busybox',
      '    ports: [{name: http, containerPort: 8080}]',
      '',
    ].join('\n'),
  );
  kubectl('apply', '-f', manifest);
  const pod = w.addPod();
  const config = w.netconf({
    name: 'k8s-pod-network',
    ipam: { type: 'calico-ipam' },
    policy: { type: 'k8s' },
    kubernetes: { kubeconfig },
  });
  const call = {
    containerId: 'apisrv0001',
    netns: pod.netns,
    ifName: 'eth0',
    args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart-0',
  };
  const add = await w.run({ ...call, command: 'ADD', config });
  assert.equal(add.code, 0, add.stdout + add.stderr);
  const kv = await ds.get(resourceKey('WorkloadEndpoint', 'tc--node--1-k8s-cart--0-eth0', 'shop'));
  assert.ok(kv, 'endpoint written');
  const wep = JSON.parse(kv.value);
  assert.equal(wep.metadata.labels.app, 'cart');
  assert.equal(wep.metadata.labels['projectcalico.org/serviceaccount'], 'cart');
  assert.deepEqual(wep.spec.profiles, ['kns.shop', 'ksa.shop.cart']);
  assert.deepEqual(wep.spec.ports, [{ name: 'http', protocol: 'tcp', port: 8080 }]);
  const del = await w.run({ ...call, command: 'DEL', config });
  assert.equal(del.code, 0, del.stdout + del.stderr);
  w.removePod(pod.name);
});
