// Sandbox restart (cni.md §B.5 steps 7/11, §B.7 step 3): kubelet ADDs a new sandbox of a pod without a DEL of the
// dead one, and DELs the old one later. The new container takes over the endpoint and the host veth (same name for the
// same pod); the old DEL releases only its own addresses and leaves the new sandbox's endpoint, link and routes alone.
// Also the result routes (the IPAM result's) and that a repeated ADD returns the same result and passes CHECK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { handleKey, resourceKey } from '../../../src/datastore/keys.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { k8sHostVethName } from '../../../src/cni/plugin/names.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, inNs, startFakeApiServer, tryInNs, type CniOutcome } from './world.js';

const NODE = 'tc-node-1';
const NETWORK = 'k8s-pod-network';
let w: CniWorld;
let ds: SqliteDatastore;
let dataFile: string;
let kubeconfig: string;
const objects = { namespaces: {} as Record<string, unknown>, pods: {} as Record<string, unknown> };

const ok = (o: CniOutcome, what: string) => assert.equal(o.code, 0, `${what}: ${o.stdout} ${o.stderr}`);
const bare = (cidr: string) => cidr.split('/')[0]!;
const addressesOf = (r: CniOutcome): string[] => (r.json.ips as { address: string }[]).map((i) => i.address);
const held = (containerId: string) =>
  new IpamClient(ds).ipsByHandle(`${NETWORK}.${containerId}`).catch(() => [] as string[]);
const wepOf = async (ns: string, pod: string) => {
  const kv = await ds.get(resourceKey('WorkloadEndpoint', `tc--node--1-k8s-${pod.replace(/-/g, '--')}-eth0`, ns));
  return kv ? JSON.parse(kv.value) : undefined;
};
const podHasEth0 = (ns: string) => tryInNs(ns, ['ip', 'link', 'show', 'dev', 'eth0']).status === 0;

function setPod(ns: string, name: string, annotations: Record<string, string> = {}) {
  objects.namespaces[ns] = { metadata: { name: ns, labels: {}, annotations: {} } };
  objects.pods[`${ns}/${name}`] = {
    metadata: { name, namespace: ns, labels: { app: name }, annotations },
    spec: { serviceAccountName: 'default', containers: [{ name: 'c' }] },
  };
  writeFileSync(dataFile, JSON.stringify(objects));
}

/** The fake API server (test/system/cni/fake-apiserver.ts) in the node namespace, and a kubeconfig for it. */
async function startApiServer(): Promise<void> {
  kubeconfig = await startFakeApiServer(w, dataFile);
}

before(async () => {
  w = await CniWorld.create('rs', 'ty');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'ty-v4', '10.126.0.0/16', { blockSize: 26 });
  await putPool(ds, 'ty-v6', 'fd12:6::/64', { blockSize: 122 });
  await putNode(ds, NODE);
  dataFile = path.join(w.dir, 'k8s-objects.json');
  writeFileSync(dataFile, JSON.stringify(objects));
  await startApiServer();
});

after(async () => {
  await ds?.close();
  await w?.destroy();
});

const podArgs = (ns: string, pod: string) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${pod}`;

test('a new sandbox without DEL of the old one takes the endpoint and veth; the old DEL releases only its own', async () => {
  // No kubeconfig: the pod is Kubernetes' by its CNI_ARGS alone, its metadata is not read.
  const config = w.netconf({
    name: NETWORK,
    ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true' },
  });
  const [a, b] = [w.addPod(), w.addPod()];
  const c1 = { containerId: 'tyold00001', netns: a.netns, ifName: 'eth0', args: podArgs('prod', 'web-0') };
  const c2 = { containerId: 'tynew00002', netns: b.netns, ifName: 'eth0', args: podArgs('prod', 'web-0') };
  const veth = k8sHostVethName('prod', 'web-0');
  try {
    const r1 = await w.run({ ...c1, command: 'ADD', config });
    ok(r1, 'ADD of the first sandbox');
    assert.deepEqual(
      r1.json.routes,
      addressesOf(r1).map((a) => ({ dst: a.replace(/\/32$/, '/26').replace(/\/128$/, '/122') })),
      "the result's routes are calico-ipam's: each address with its block's prefix",
    );

    const r2 = await w.run({ ...c2, command: 'ADD', config });
    ok(r2, 'ADD of the second sandbox, without DEL of the first');
    assert.equal(r2.json.interfaces[0].name, veth, 'the same host veth name');
    const [old, now] = [addressesOf(r1), addressesOf(r2)];
    assert.equal(now.length, 2);
    assert.ok(
      now.every((x) => !old.includes(x)),
      `new addresses ${now} (the old ${old} stay with their handle)`,
    );
    let wep = await wepOf('prod', 'web-0');
    assert.equal(wep.spec.containerID, c2.containerId, 'the new container owns the endpoint');
    assert.deepEqual([...wep.spec.ipNetworks].sort(), [...now].sort());
    assert.deepEqual(
      w.hostVeths().filter((v) => v === veth),
      [veth],
      'one host veth',
    );
    assert.equal(podHasEth0(a.name), false, "the stale link went with the old sandbox's interface");
    assert.equal(podHasEth0(b.name), true);
    const routesAfterAdd = w.hostRoutes();
    for (const x of now) assert.ok(routesAfterAdd.includes(`${bare(x)} dev ${veth}`), `${x} in ${routesAfterAdd}`);
    for (const x of old) assert.ok(!routesAfterAdd.some((r) => r.startsWith(`${bare(x)} `)), `no route for ${x}`);
    assert.deepEqual((await held(c1.containerId)).sort(), old.map(bare).sort(), 'old addresses held until its DEL');

    const again = await w.run({ ...c2, command: 'ADD', config });
    ok(again, 'repeated ADD of the new sandbox');
    assert.deepEqual(again.json, r2.json, 'a repeated ADD returns the same result, routes included');
    ok(await w.run({ ...c2, command: 'CHECK', config: { ...config, prevResult: r2.json } }), 'CHECK of the new');
    const stale = await w.run({ ...c1, command: 'CHECK', config: { ...config, prevResult: r1.json } });
    assert.equal(stale.code, 1);
    assert.match(stale.json.msg, /belongs to container tynew00002, not tyold00001/);

    // The dead sandbox's namespace is usually gone by the time kubelet DELs it.
    w.removePod(a.name);
    ok(await w.run({ ...c1, command: 'DEL', config }), 'DEL of the old sandbox');
    wep = await wepOf('prod', 'web-0');
    assert.equal(wep?.spec.containerID, c2.containerId, 'endpoint kept');
    assert.ok(w.hostVeths().includes(veth), 'host veth kept');
    assert.deepEqual(w.hostRoutes().sort(), routesAfterAdd.sort(), "the new sandbox's host routes kept");
    assert.equal(await ds.get(handleKey(`${NETWORK}.${c1.containerId}`)), undefined, 'old handle released');
    assert.deepEqual((await held(c2.containerId)).sort(), now.map(bare).sort(), 'new addresses still held');
    const ping = tryInNs(b.name, ['ping', '-c1', '-W2', w.nodeAddr4]);
    assert.equal(ping.status, 0, `new sandbox reaches the node: ${ping.stdout}${ping.stderr}`);
    ok(await w.run({ ...c1, command: 'DEL', config }), 'second DEL of the old sandbox');
    assert.ok(w.hostVeths().includes(veth));

    ok(await w.run({ ...c2, command: 'DEL', config }), 'DEL of the new sandbox');
    assert.equal(await wepOf('prod', 'web-0'), undefined);
    assert.deepEqual(w.hostVeths(), []);
    assert.deepEqual(w.hostRoutes(), []);
    assert.deepEqual(await held(c2.containerId), []);
  } finally {
    for (const c of [c1, c2]) await w.run({ ...c, command: 'DEL', config });
    w.removePod(a.name);
    w.removePod(b.name);
  }
});

test('ipAddrs: no result routes; a re-ADD after the interface went missing and a new sandbox both get the address', async () => {
  setPod('prod', 'fixed', { 'cni.projectcalico.org/ipAddrs': '["10.126.9.9"]' });
  const config = w.netconf({
    name: NETWORK,
    ipam: { type: 'calico-ipam' },
    policy: { type: 'k8s' },
    kubernetes: { kubeconfig },
  });
  const [a, b] = [w.addPod(), w.addPod()];
  const c1 = { containerId: 'tyfix00001', netns: a.netns, ifName: 'eth0', args: podArgs('prod', 'fixed') };
  const c2 = { containerId: 'tyfix00002', netns: b.netns, ifName: 'eth0', args: podArgs('prod', 'fixed') };
  const veth = k8sHostVethName('prod', 'fixed');
  try {
    const r1 = await w.run({ ...c1, command: 'ADD', config });
    ok(r1, 'ADD');
    assert.deepEqual(addressesOf(r1), ['10.126.9.9/32']);
    assert.equal('routes' in r1.json, false, 'Calico builds the ipAddrs result from the addresses alone');
    const same = await w.run({ ...c1, command: 'ADD', config });
    ok(same, 'repeated ADD');
    assert.deepEqual(same.json, r1.json);

    // The host veth (and with it the pod's eth0) is lost; the same container is ADDed again.
    inNs(w.nodeNs, ['ip', 'link', 'del', veth]);
    const redo = await w.run({ ...c1, command: 'ADD', config });
    ok(redo, 'ADD again after the interface went missing');
    assert.deepEqual(addressesOf(redo), ['10.126.9.9/32']);
    assert.deepEqual(await held(c1.containerId), ['10.126.9.9']);

    const r2 = await w.run({ ...c2, command: 'ADD', config });
    ok(r2, 'ADD of a new sandbox');
    assert.deepEqual(addressesOf(r2), ['10.126.9.9/32']);
    assert.deepEqual(await held(c1.containerId), [], "the old sandbox's hold was released first");
    ok(await w.run({ ...c1, command: 'DEL', config }), 'DEL of the old sandbox');
    assert.equal((await wepOf('prod', 'fixed'))?.spec.containerID, c2.containerId);
    assert.deepEqual(await held(c2.containerId), ['10.126.9.9'], 'the new sandbox keeps the address');
    assert.ok(w.hostRoutes().includes(`10.126.9.9 dev ${veth}`));
    ok(await w.run({ ...c2, command: 'DEL', config }), 'DEL of the new sandbox');
    assert.deepEqual(w.hostVeths(), []);
  } finally {
    for (const c of [c1, c2]) await w.run({ ...c, command: 'DEL', config });
    w.removePod(a.name);
    w.removePod(b.name);
  }
});

test('ipAddrsNoIpam: no result routes, also on a repeated ADD', async () => {
  setPod('prod', 'noipam', { 'cni.projectcalico.org/ipAddrsNoIpam': '["10.201.0.9"]' });
  const config = w.netconf({
    name: NETWORK,
    ipam: { type: 'calico-ipam' },
    policy: { type: 'k8s' },
    kubernetes: { kubeconfig },
    feature_control: { ip_addrs_no_ipam: true },
  });
  const a = w.addPod();
  const c1 = { containerId: 'tynoi00001', netns: a.netns, ifName: 'eth0', args: podArgs('prod', 'noipam') };
  try {
    for (const version of ['1.0.0', '0.2.0']) {
      const conf = { ...config, cniVersion: version };
      const first = await w.run({ ...c1, command: 'ADD', config: conf });
      ok(first, `ADD ${version}`);
      const again = await w.run({ ...c1, command: 'ADD', config: conf });
      ok(again, `repeated ADD ${version}`);
      assert.deepEqual(again.json, first.json);
      if (version === '1.0.0') assert.equal('routes' in first.json, false);
      else assert.deepEqual(first.json.ip4, { ip: '10.201.0.9/32' }, 'no routes in ip4');
    }
  } finally {
    await w.run({ ...c1, command: 'DEL', config });
    w.removePod(a.name);
  }
});
