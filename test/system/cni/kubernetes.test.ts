// The Kubernetes path: with kubernetes.kubeconfig and K8S_POD_NAMESPACE/K8S_POD_NAME, the plugin reads the pod and
// its namespace from the API (a fake HTTPS API server in the node namespace) and builds the endpoint from them:
// names, labels, profiles, service account, named ports; pool, ipAddrs, ipAddrsNoIpam and floatingIPs annotations.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { handleKey, resourceKey } from '../../../src/datastore/keys.js';
import { k8sHostVethName } from '../../../src/cni/plugin/names.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, inNs, startFakeApiServer, type CniOutcome } from './world.js';

let w: CniWorld;
let ds: SqliteDatastore;
let dataFile: string;
let kubeconfig: string;
const objects = {
  namespaces: {} as Record<string, unknown>,
  pods: {} as Record<string, unknown>,
  nodes: { 'tc-node-1': { metadata: { name: 'tc-node-1' }, spec: { podCIDRs: ['10.131.5.0/24'] } } } as Record<
    string,
    unknown
  >,
};

function setPod(
  ns: string,
  name: string,
  annotations: Record<string, string> = {},
  extra: Record<string, unknown> = {},
) {
  objects.namespaces[ns] = { metadata: { name: ns, labels: { team: 'blue' }, annotations: {} } };
  objects.pods[`${ns}/${name}`] = {
    metadata: { name, namespace: ns, labels: { app: 'web', tier: 'front' }, annotations, generateName: 'web-' },
    spec: {
      serviceAccountName: 'frontend',
      containers: [
        { name: 'c', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 9 }] },
      ],
    },
    ...extra,
  };
  writeFileSync(dataFile, JSON.stringify(objects));
}

const ok = (o: CniOutcome, what: string) => assert.equal(o.code, 0, `${what}: ${o.stdout} ${o.stderr}`);

before(async () => {
  w = await CniWorld.create('k8');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.128.0.0/16', { blockSize: 26 });
  await putPool(ds, 'tc-v4-special', '10.129.0.0/24', { blockSize: 26 });
  await putNode(ds, 'tc-node-1');
  dataFile = path.join(w.dir, 'k8s-objects.json');
  writeFileSync(dataFile, JSON.stringify(objects));
  kubeconfig = await startFakeApiServer(w, dataFile);
});

after(async () => {
  await ds?.close();
  await w?.destroy();
});

const conf = (extra: Record<string, unknown> = {}) =>
  w.netconf({
    name: 'k8s-pod-network',
    ipam: { type: 'calico-ipam' },
    policy: { type: 'k8s' },
    kubernetes: { kubeconfig },
    ...extra,
  });

async function addPod(ns: string, name: string, id: string, config = conf()) {
  const pod = w.addPod();
  const call = {
    containerId: id,
    netns: pod.netns,
    ifName: 'eth0',
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name}`,
  };
  const r = await w.run({ ...call, command: 'ADD', config });
  return { pod, call, r };
}

test('pod metadata from the API: names, labels, profiles, service account, named ports, pool annotation', async () => {
  setPod('prod', 'web-0', { 'cni.projectcalico.org/ipv4pools': '["tc-v4-special"]' });
  const { pod, call, r } = await addPod('prod', 'web-0', 'k8sctr0001');
  ok(r, 'ADD');
  assert.match(r.json.ips[0].address, /^10\.129\.0\.\d+\/32$/, 'address from the annotated pool');
  const veth = k8sHostVethName('prod', 'web-0');
  assert.equal(r.json.interfaces[0].name, veth);
  const kv = await ds.get(resourceKey('WorkloadEndpoint', 'tc--node--1-k8s-web--0-eth0', 'prod'));
  assert.ok(kv, 'WEP tc--node--1-k8s-web--0-eth0 in namespace prod');
  const wep = JSON.parse(kv.value);
  assert.deepEqual(wep.metadata.labels, {
    app: 'web',
    tier: 'front',
    'projectcalico.org/namespace': 'prod',
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': 'frontend',
  });
  assert.equal(wep.metadata.generateName, 'web-');
  assert.equal(wep.spec.orchestrator, 'k8s');
  assert.equal(wep.spec.pod, 'web-0');
  assert.equal(wep.spec.serviceAccountName, 'frontend');
  assert.deepEqual(wep.spec.profiles, ['kns.prod', 'ksa.prod.frontend']);
  assert.deepEqual(wep.spec.ports, [{ name: 'http', protocol: 'tcp', port: 8080 }]);
  assert.equal(wep.spec.interfaceName, veth);
  assert.ok(w.hostVeths().includes(veth));
  ok(await w.run({ ...call, command: 'DEL', config: conf() }), 'DEL');
  assert.equal(await ds.get(resourceKey('WorkloadEndpoint', 'tc--node--1-k8s-web--0-eth0', 'prod')), undefined);
  w.removePod(pod.name);
});

test('ipAddrs annotation: that exact address through calico-ipam', async () => {
  setPod('prod', 'fixed', { 'cni.projectcalico.org/ipAddrs': '["10.128.7.7"]' });
  const { pod, call, r } = await addPod('prod', 'fixed', 'k8sctr0002');
  ok(r, 'ADD');
  assert.equal(r.json.ips[0].address, '10.128.7.7/32');
  assert.ok(await ds.get(handleKey('k8s-pod-network.k8sctr0002')), 'allocated under the handle');
  ok(await w.run({ ...call, command: 'DEL', config: conf() }), 'DEL');
  assert.equal(await ds.get(handleKey('k8s-pod-network.k8sctr0002')), undefined);
  w.removePod(pod.name);
});

test('ipAddrsNoIpam needs its feature flag; with it the address is used without an allocation', async () => {
  setPod('prod', 'noipam', { 'cni.projectcalico.org/ipAddrsNoIpam': '["10.200.0.9"]' });
  const refused = await addPod('prod', 'noipam', 'k8sctr0003');
  assert.equal(refused.r.code, 1);
  assert.match(refused.r.json.msg, /^requested feature is not enabled: ip_addrs_no_ipam$/);
  assert.deepEqual(
    w.hostVeths().filter((v) => v === k8sHostVethName('prod', 'noipam')),
    [],
  );
  const c = conf({ feature_control: { ip_addrs_no_ipam: true } });
  const r = await w.run({ ...refused.call, command: 'ADD', config: c });
  ok(r, 'ADD with the flag');
  assert.equal(r.json.ips[0].address, '10.200.0.9/32');
  assert.equal(await ds.get(handleKey('k8s-pod-network.k8sctr0003')), undefined, 'no IPAM allocation');
  assert.match(inNs(refused.pod.name, ['ip', 'addr', 'show', 'dev', 'eth0']), /10\.200\.0\.9\/32/);
  ok(await w.run({ ...refused.call, command: 'DEL', config: c }), 'DEL');
  w.removePod(refused.pod.name);
});

test('floatingIPs need their feature flag and become ipNATs; a refused ADD releases its address', async () => {
  setPod('prod', 'float', { 'cni.projectcalico.org/floatingIPs': '["192.0.2.10"]' });
  const refused = await addPod('prod', 'float', 'k8sctr0004');
  assert.equal(refused.r.code, 1);
  assert.match(refused.r.json.msg, /^requested feature is not enabled: floating_ips$/);
  assert.equal(await ds.get(handleKey('k8s-pod-network.k8sctr0004')), undefined, 'address released');
  const c = conf({ feature_control: { floating_ips: true } });
  const r = await w.run({ ...refused.call, command: 'ADD', config: c });
  ok(r, 'ADD with the flag');
  const wep = JSON.parse((await ds.get(resourceKey('WorkloadEndpoint', 'tc--node--1-k8s-float-eth0', 'prod')))!.value);
  assert.deepEqual(wep.spec.ipNATs, [{ internalIP: r.json.ips[0].address.split('/')[0], externalIP: '192.0.2.10' }]);
  ok(await w.run({ ...refused.call, command: 'DEL', config: c }), 'DEL');
  w.removePod(refused.pod.name);
});

test('a pod the API does not know fails ADD naming it, and leaves nothing', async () => {
  const { pod, r } = await addPod('prod', 'ghost', 'k8sctr0005');
  assert.equal(r.code, 1);
  assert.match(r.json.msg, /pods\/ghost: 404/);
  assert.deepEqual(w.hostVeths(), []);
  w.removePod(pod.name);
});

test('host-local usePodCidr takes the Node podCIDR from the API', async () => {
  setPod('prod', 'hl', {});
  const config = conf({
    ipam: { type: 'host-local', ranges: [[{ subnet: 'usePodCidr' }]], dataDir: path.join(w.dir, 'hl-data') },
  });
  const { pod, call, r } = await addPod('prod', 'hl', 'k8sctr0006', config);
  ok(r, 'ADD');
  assert.match(r.json.ips[0].address, /^10\.131\.5\.\d+\/32$/);
  ok(await w.run({ ...call, command: 'DEL', config }), 'DEL');
  w.removePod(pod.name);
});

test('a new sandbox of a pod with ipAddrs takes the address over; the old sandbox DEL leaves the new one alone', async () => {
  setPod('prod', 'fixed2', { 'cni.projectcalico.org/ipAddrs': '["10.128.8.8"]' });
  const a = await addPod('prod', 'fixed2', 'k8sctrold01');
  ok(a.r, 'ADD first sandbox');
  const b = await addPod('prod', 'fixed2', 'k8sctrnew01');
  ok(b.r, 'ADD second sandbox without DEL of the first');
  assert.equal(b.r.json.ips[0].address, '10.128.8.8/32');
  assert.equal(await ds.get(handleKey('k8s-pod-network.k8sctrold01')), undefined, 'old sandbox released');
  ok(await w.run({ ...a.call, command: 'DEL', config: conf() }), 'DEL of the old sandbox');
  const wep = JSON.parse((await ds.get(resourceKey('WorkloadEndpoint', 'tc--node--1-k8s-fixed2-eth0', 'prod')))!.value);
  assert.equal(wep.spec.containerID, 'k8sctrnew01', 'endpoint of the new sandbox kept');
  assert.ok(w.hostVeths().includes(k8sHostVethName('prod', 'fixed2')), 'host veth of the new sandbox kept');
  assert.equal(inNs(b.pod.name, ['ip', '-o', 'link', 'show', 'eth0']).includes('eth0'), true);
  ok(await w.run({ ...b.call, command: 'DEL', config: conf() }), 'DEL of the new sandbox');
  assert.equal(await ds.get(handleKey('k8s-pod-network.k8sctrnew01')), undefined);
  assert.deepEqual(w.hostVeths(), []);
  w.removePod(a.pod.name);
  w.removePod(b.pod.name);
});

test('hwAddr sets the pod MAC; allowedSourcePrefixes reach the endpoint', async () => {
  setPod('prod', 'mac', {
    'cni.projectcalico.org/hwAddr': '02:11:22:33:44:55',
    'cni.projectcalico.org/allowedSourcePrefixes': '["192.0.2.0/24"]',
  });
  const { pod, call, r } = await addPod('prod', 'mac', 'k8sctr0007');
  ok(r, 'ADD');
  assert.equal(r.json.interfaces[1].mac, '02:11:22:33:44:55');
  assert.match(inNs(pod.name, ['ip', 'link', 'show', 'dev', 'eth0']), /link\/ether 02:11:22:33:44:55/);
  const wep = JSON.parse((await ds.get(resourceKey('WorkloadEndpoint', 'tc--node--1-k8s-mac-eth0', 'prod')))!.value);
  assert.equal(wep.spec.mac, '02:11:22:33:44:55');
  assert.deepEqual(wep.spec.allowSpoofedSourcePrefixes, ['192.0.2.0/24']);
  ok(await w.run({ ...call, command: 'DEL', config: conf() }), 'DEL');
  setPod('prod', 'badmac', { 'cni.projectcalico.org/hwAddr': 'zz:11' });
  const bad = await addPod('prod', 'badmac', 'k8sctr0008');
  assert.equal(bad.r.code, 1);
  assert.match(bad.r.json.msg, /hwAddr: "zz:11" is not a MAC address/);
  assert.equal(await ds.get(handleKey('k8s-pod-network.k8sctr0008')), undefined, 'address released');
  w.removePod(pod.name);
  w.removePod(bad.pod.name);
});
