// kubelet's path through the calico-node agent, against the project's API server: the agent watches namespaces and
// allocates while it reads the pod; the pod's own IPAM annotations (pools, fixed addresses) and its namespace's
// pools still decide the addresses, an allocation made ahead for a pod that asks otherwise is released, and a pod the
// API server does not know leaves nothing allocated.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { resourcePrefix } from '../../../src/datastore/keys.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, startAgent, startLabApiServer } from './world.js';

let w: CniWorld;
let ds: SqliteDatastore;
let kubeconfig: string;

const pod = (namespace: string, name: string, annotations: Record<string, string> = {}) =>
  [
    'apiVersion: v1',
    'kind: Pod',
    `metadata: {name: ${name}, namespace: ${namespace}, labels: {app: web}, annotations: ${JSON.stringify(annotations)}}`,
    'spec: {containers: [{name: c, image: busybox}]}',
  ].join('\n');

before(async () => {
  w = await CniWorld.create('ak', 'tx');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tx-default', '10.135.0.0/16', { blockSize: 26 });
  await putPool(ds, 'tx-special', '10.136.0.0/24', { blockSize: 26 });
  await putNode(ds, 'tc-node-1');
  kubeconfig = await startLabApiServer(w);
  const manifest = path.join(w.dir, 'objects.yaml');
  writeFileSync(
    manifest,
    [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: blue}}',
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: special, annotations: {'cni.projectcalico.org/ipv4pools': '["tx-special"]'}}`,
      pod('shop', 'warm'),
      pod('shop', 'plain'),
      pod('shop', 'pooled', { 'cni.projectcalico.org/ipv4pools': '["tx-special"]' }),
      pod('shop', 'fixed', { 'cni.projectcalico.org/ipAddrs': '["10.135.200.7"]' }),
      pod('special', 'inherits'),
    ].join('\n---\n') + '\n',
  );
  const r = spawnSync(
    'nsenter',
    [`--net=/var/run/netns/${w.nodeNs}`, 'kubectl', '--kubeconfig', kubeconfig, 'apply', '-f', manifest],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, `kubectl apply: ${r.stdout}${r.stderr}`);
});

after(async () => {
  await ds?.close();
  await w?.destroy();
});

test('through the agent, pool and address annotations decide as without allocating ahead; nothing leaks', async () => {
  const agent = await startAgent(w);
  const config = w.netconf({
    name: 'k8s-pod-network',
    ipam: { type: 'calico-ipam' },
    policy: { type: 'k8s' },
    kubernetes: { kubeconfig },
  });
  const pods: { namespace: string; name: string; netns: string; podNs: string; id: string }[] = [];
  const call = (namespace: string, name: string, command: string) => {
    let p = pods.find((x) => x.namespace === namespace && x.name === name);
    if (!p) {
      const made = w.addPod();
      p = { namespace, name, netns: made.netns, podNs: made.name, id: `ak${pods.length}x0123456789` };
      pods.push(p);
    }
    return w.run({
      command,
      containerId: p.id,
      netns: p.netns,
      ifName: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name}`,
      config,
      env: { CALICO_CNI_HANDOFF: 'required' },
    });
  };
  const address = (r: { json?: { ips?: { address: string }[] } }) => r.json?.ips?.[0]?.address ?? '';
  try {
    // The first lookup starts the agent's namespace watch; the ADDs after it allocate ahead.
    const warm = await call('shop', 'warm', 'ADD');
    assert.equal(warm.code, 0, warm.stdout + warm.stderr);
    await new Promise((r) => setTimeout(r, 300));

    const plain = await call('shop', 'plain', 'ADD');
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(address(plain), /^10\.135\./);

    const pooled = await call('shop', 'pooled', 'ADD');
    assert.equal(pooled.code, 0, pooled.stdout + pooled.stderr);
    assert.match(address(pooled), /^10\.136\.0\./, 'the pod annotation picks the pool');

    const fixed = await call('shop', 'fixed', 'ADD');
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.equal(address(fixed), '10.135.200.7/32');

    const inherits = await call('special', 'inherits', 'ADD');
    assert.equal(inherits.code, 0, inherits.stdout + inherits.stderr);
    assert.match(address(inherits), /^10\.136\.0\./, "the namespace's annotation picks the pool");

    const ghost = await call('shop', 'ghost', 'ADD');
    assert.notEqual(ghost.code, 0, 'a pod the API server does not know fails');
    assert.match(ghost.stdout, /404|not found/i);

    assert.match(
      agent.log(),
      /ask for other addresses than allocated ahead/,
      'the annotated pods were allocated ahead',
    );
    const ipam = new IpamClient(ds);
    const held = async (id: string) => ipam.ipsByHandle(`k8s-pod-network.${id}`).catch(() => []);
    assert.deepEqual(await held(pods.find((p) => p.name === 'ghost')!.id), [], 'the failed ADD released its address');
    assert.deepEqual(
      (await held(pods.find((p) => p.name === 'pooled')!.id)).map(String),
      [address(pooled).split('/')[0]],
      'only the annotated pool address is held',
    );

    for (const p of pods) {
      const d = await call(p.namespace, p.name, 'DEL');
      assert.equal(d.code, 0, `DEL ${p.name}: ${d.stdout} ${d.stderr}`);
    }
    assert.deepEqual(w.hostVeths(), []);
    assert.equal((await ds.list(resourcePrefix('WorkloadEndpoint'))).items.length, 0);
    for (const p of pods) assert.deepEqual(await held(p.id), [], `${p.name} released`);
  } finally {
    await agent.stop();
    for (const p of pods) w.removePod(p.podNs);
  }
});
