// calico-kube-controllers against the project's API server: each watched kind's create/update/delete reaches the
// Calico datastore, a restart removes stale objects it owns (and only those), a WorkloadEndpoint whose pod died
// without a CNI DEL is removed with its addresses, a deleted Node takes its Calico Node and IPAM state along.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CALICO_API_VERSION } from '../../../src/api/resource.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { CoreV1Api } from '@kubernetes/client-node';
import { generateTlsMaterial, startApiServer, type ApiServer } from '../../../src/k8s/apiserver/index.js';
import { eventually } from '../../support/k8s.js';
import { putNode, putPool } from '../../support/ipam.js';
import { startControllersWorld, type ControllersWorld } from './controllers-world.js';
import { checkStatus, type KubeControllers } from '../../../src/k8s/controllers/index.js';

/** eventually() for a lookup that returns undefined until the object exists. */
async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  return (await eventually(check, what)) as T;
}

const profile = (w: ControllersWorld, name: string) => w.client.find('Profile', name);
const policy = (w: ControllersWorld, ns: string, name: string) => w.client.find('NetworkPolicy', name, ns);

describe('kube-controllers: namespaces, service accounts, policies', () => {
  let w: ControllersWorld;
  let kc: KubeControllers;
  before(async () => {
    w = await startControllersWorld();
    kc = await w.start();
    await eventually(() => kc.isLeader() && kc.running().length === 5, 'leadership and five controllers');
  });
  after(async () => w.stop());

  test('bootstrap namespaces and service accounts have profiles', async () => {
    const p = await until(() => profile(w, 'kns.kube-system'), 'kns.kube-system');
    assert.deepEqual(p.spec.ingress, [{ action: 'Allow' }]);
    assert.equal(p.spec.labelsToApply['pcns.kubernetes.io/metadata.name'], 'kube-system');
    await eventually(() => profile(w, 'ksa.default.default'), 'ksa.default.default');
  });

  test('Namespace create, relabel, delete -> kns. Profile', async () => {
    await w.core.createNamespace({ body: { metadata: { name: 'tj-prod', labels: { team: 'a' } } } });
    const p = await until(() => profile(w, 'kns.tj-prod'), 'kns.tj-prod');
    assert.deepEqual(p.spec.labelsToApply, {
      'pcns.team': 'a',
      'pcns.kubernetes.io/metadata.name': 'tj-prod',
      'pcns.projectcalico.org/name': 'tj-prod',
    });
    const ns = await w.core.readNamespace({ name: 'tj-prod' });
    ns.metadata!.labels = { ...ns.metadata!.labels, team: 'b' };
    await w.core.replaceNamespace({ name: 'tj-prod', body: ns });
    await eventually(async () => (await profile(w, 'kns.tj-prod'))?.spec.labelsToApply['pcns.team'] === 'b', 'relabel');
    await w.core.deleteNamespace({ name: 'tj-prod' });
    await eventually(async () => (await profile(w, 'kns.tj-prod')) === undefined, 'kns.tj-prod deleted');
  });

  test('ServiceAccount create, relabel, delete -> ksa. Profile', async () => {
    await w.core.createNamespacedServiceAccount({
      namespace: 'default',
      body: { metadata: { name: 'builder', labels: { role: 'ci' } } },
    });
    const p = await until(() => profile(w, 'ksa.default.builder'), 'ksa.default.builder');
    assert.deepEqual(p.spec.labelsToApply, { 'pcsa.role': 'ci', 'pcsa.projectcalico.org/name': 'builder' });
    const sa = await w.core.readNamespacedServiceAccount({ namespace: 'default', name: 'builder' });
    sa.metadata!.labels = { role: 'cd' };
    await w.core.replaceNamespacedServiceAccount({ namespace: 'default', name: 'builder', body: sa });
    await eventually(
      async () => (await profile(w, 'ksa.default.builder'))?.spec.labelsToApply['pcsa.role'] === 'cd',
      'relabel',
    );
    await w.core.deleteNamespacedServiceAccount({ namespace: 'default', name: 'builder' });
    await eventually(async () => (await profile(w, 'ksa.default.builder')) === undefined, 'ksa deleted');
  });

  test('NetworkPolicy create, update, delete -> knp.default. policy', async () => {
    await w.net.createNamespacedNetworkPolicy({
      namespace: 'default',
      body: {
        metadata: { name: 'db' },
        spec: {
          podSelector: { matchLabels: { app: 'db' } },
          egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
        },
      },
    });
    const p = await until(() => policy(w, 'default', 'knp.default.db'), 'knp.default.db');
    assert.equal(p.spec.selector, "projectcalico.org/orchestrator == 'k8s' && app == 'db'");
    assert.deepEqual(p.spec.types, ['Ingress', 'Egress']); // defaulted by the API server
    assert.equal(p.spec.order, 1000);
    assert.equal(p.spec.tier, 'default');
    const np = await w.net.readNamespacedNetworkPolicy({ namespace: 'default', name: 'db' });
    np.spec!.podSelector = { matchLabels: { app: 'db2' } };
    await w.net.replaceNamespacedNetworkPolicy({ namespace: 'default', name: 'db', body: np });
    await eventually(
      async () => (await policy(w, 'default', 'knp.default.db'))?.spec.selector.endsWith("app == 'db2'"),
      'policy updated',
    );
    await w.net.deleteNamespacedNetworkPolicy({ namespace: 'default', name: 'db' });
    await eventually(async () => (await policy(w, 'default', 'knp.default.db')) === undefined, 'policy deleted');
  });

  test('an owned object changed in the datastore is repaired; a user profile is left alone', async () => {
    const p = await until(() => profile(w, 'kns.default'), 'kns.default');
    await w.client.update({ ...p, spec: { ...p.spec, labelsToApply: { hacked: 'yes' } } });
    await eventually(
      async () => (await profile(w, 'kns.default'))?.spec.labelsToApply['pcns.projectcalico.org/name'] === 'default',
      'drift repaired',
    );
    await w.client.create({ apiVersion: CALICO_API_VERSION, kind: 'Profile', metadata: { name: 'tj-mine' }, spec: {} });
    await kc.idle();
    assert.ok(await profile(w, 'tj-mine'));
  });

  test('watches cut by the API server and a 410 Gone (compacted history) are survived by re-listing', async () => {
    const lists = async () =>
      (await kc.metrics.informerLists.get()).values.find((v) => v.labels.resource === 'Namespace')?.value ?? 0;
    const before = await lists();
    // A pod write moves the store on without the namespace watch seeing it; compacting there makes its version stale.
    await w.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'tj-bump' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    });
    await w.api.datastore.compact(await w.api.datastore.currentRevision());
    await w.api.server.closeWatches();
    await eventually(async () => (await lists()) > before, 'namespaces re-listed after 410');
    await w.core.createNamespace({ body: { metadata: { name: 'tj-after-410' } } });
    await eventually(() => profile(w, 'kns.tj-after-410'), 'kns.tj-after-410 after the re-list');
    await w.core.deleteNamespacedPod({ namespace: 'default', name: 'tj-bump' });
  });

  test('health and metrics endpoints answer on localhost', async () => {
    const ready = await fetch(`${kc.healthUrl}/readiness`);
    assert.equal(ready.status, 200);
    assert.match(JSON.stringify(await ready.json()), /leader: running/);
    // The exec probes (calico-kube-controllers -l / -r) ask the same endpoint.
    const port = Number(new URL(kc.healthUrl!).port);
    assert.deepEqual(await checkStatus('readiness', port), {
      ok: true,
      reason: 'ready (kube-controllers: leader: running namespace, serviceaccount, policy, workloadendpoint, node)',
    });
    assert.equal((await checkStatus('liveness', port)).ok, true);
    const metrics = await (await fetch(`${kc.metricsUrl}/metrics`)).text();
    assert.match(metrics, /calico_kube_controllers_is_leader 1/);
    assert.match(metrics, /calico_kube_controllers_datastore_writes_total\{controller="namespace",op="create"\} \d+/);
  });
});

describe('kube-controllers: the API server goes away and comes back', () => {
  let w: ControllersWorld;
  let second: ApiServer | undefined;
  after(async () => {
    await second?.close();
    await w.stop();
  });

  test('informers and the Lease recover; changes made while away are applied', async () => {
    const tls = generateTlsMaterial(['127.0.0.1']);
    w = await startControllersWorld({ tls, adminToken: 'tj-admin-token' });
    const kc = await w.start();
    await eventually(() => kc.isLeader() && kc.running().length === 5, 'leader');
    await kc.idle();
    const port = w.api.server.port;
    await w.api.server.close();
    await new Promise((r) => setTimeout(r, 300));
    // The same server identity, store and port: clients reconnect with the credentials they have.
    second = await startApiServer({
      datastore: w.api.datastore,
      port,
      tls,
      adminToken: 'tj-admin-token',
      bootstrapNamespaces: false,
    });
    const core = w.api.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'tj-after-outage' } } });
    await eventually(() => profile(w, 'kns.tj-after-outage'), 'kns.tj-after-outage', 20_000);
    await eventually(() => kc.isLeader() && kc.running().length === 5, 'leading again');
  });
});

describe('kube-controllers: restart finds stale Calico objects', () => {
  let w: ControllersWorld;
  before(async () => {
    w = await startControllersWorld();
  });
  after(async () => w.stop());

  test('only owned objects without a Kubernetes source are removed at start', async () => {
    const mk = (kind: string, name: string, namespace?: string, spec: Record<string, unknown> = {}) =>
      w.client.create({ apiVersion: CALICO_API_VERSION, kind, metadata: { name, namespace }, spec });
    await mk('Profile', 'kns.tj-gone');
    await mk('Profile', 'ksa.default.tj-gone');
    await mk('Profile', 'tj-user-profile');
    await mk('NetworkPolicy', 'knp.default.tj-gone', 'default', { selector: 'all()' });
    await mk('NetworkPolicy', 'tj-user-policy', 'default', { selector: 'all()' });
    // A stale profile of a namespace that does exist is rewritten, not deleted.
    await mk('Profile', 'kns.default', undefined, { labelsToApply: { stale: 'x' } });

    const kc = await w.start();
    await eventually(() => kc.isLeader() && kc.running().length === 5, 'leader');
    await eventually(async () => (await profile(w, 'kns.tj-gone')) === undefined, 'kns.tj-gone removed');
    await eventually(async () => (await profile(w, 'ksa.default.tj-gone')) === undefined, 'ksa removed');
    await eventually(async () => (await policy(w, 'default', 'knp.default.tj-gone')) === undefined, 'knp removed');
    await kc.idle();
    assert.ok(await profile(w, 'tj-user-profile'), 'user profile kept');
    assert.ok(await policy(w, 'default', 'tj-user-policy'), 'user policy kept');
    const def = await profile(w, 'kns.default');
    assert.equal(def?.spec.labelsToApply.stale, undefined);
    assert.equal(def?.spec.labelsToApply['pcns.projectcalico.org/name'], 'default');
  });
});

describe('kube-controllers: workload endpoints and nodes', () => {
  let w: ControllersWorld;
  let kc: KubeControllers;
  let ipam: IpamClient;
  before(async () => {
    w = await startControllersWorld();
    ipam = new IpamClient(w.calico);
    await putPool(w.calico, 'tj-pool', '10.77.0.0/16', { blockSize: 26 });
    await putNode(w.calico, 'tjn1');
    kc = await w.start();
    await eventually(() => kc.isLeader() && kc.running().length === 5, 'leader');
  });
  after(async () => w.stop());

  async function endpointFor(pod: string, node: string, containerId: string, labels: Record<string, string> = {}) {
    const res = await ipam.autoAssign({
      num4: 1,
      num6: 0,
      handleId: `k8s-pod-network.${containerId}`,
      attrs: { namespace: 'default', pod, node },
      hostname: node,
    });
    const ip = res.ipv4[0]!.split('/')[0]!;
    const name = `${node}-k8s-${pod}-eth0`;
    await w.client.create({
      apiVersion: CALICO_API_VERSION,
      kind: 'WorkloadEndpoint',
      metadata: {
        name,
        namespace: 'default',
        labels: { ...labels, 'projectcalico.org/namespace': 'default', 'projectcalico.org/orchestrator': 'k8s' },
      },
      spec: {
        orchestrator: 'k8s',
        node,
        pod,
        endpoint: 'eth0',
        containerID: containerId,
        interfaceName: 'cali0123456789a',
        ipNetworks: [`${ip}/32`],
        profiles: ['kns.default'],
      },
    });
    return { name, ip };
  }

  test('pod label changes reach the WorkloadEndpoint labels', async () => {
    await w.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: { nodeName: 'tjn1', containers: [{ name: 'c', image: 'x' }] },
      },
    });
    const { name } = await endpointFor('web', 'tjn1', 'c1');
    const labelsOf = async () => (await w.client.find('WorkloadEndpoint', name, 'default'))?.metadata.labels;
    await eventually(async () => (await labelsOf())?.app === 'web', 'initial labels');
    assert.deepEqual(await labelsOf(), {
      app: 'web',
      'projectcalico.org/namespace': 'default',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'default',
    });
    const pod = await w.core.readNamespacedPod({ namespace: 'default', name: 'web' });
    pod.metadata!.labels = { app: 'web', tier: 'front' };
    await w.core.replaceNamespacedPod({ namespace: 'default', name: 'web', body: pod });
    await eventually(async () => (await labelsOf())?.tier === 'front', 'new label on the endpoint');
  });

  test('a WorkloadEndpoint whose pod is gone without CNI DEL is removed and its address released', async () => {
    const { name, ip } = await endpointFor('ghost', 'tjn1', 'c2');
    assert.ok(await ipam.getAllocation(ip));
    await eventually(
      async () => (await w.client.find('WorkloadEndpoint', name, 'default')) === undefined,
      'WEP removed',
    );
    await eventually(async () => (await ipam.getAllocation(ip)) === undefined, 'address released');
    await assert.rejects(ipam.ipsByHandle('k8s-pod-network.c2'));
  });

  test('a deleted pod loses its endpoint after the grace period', async () => {
    await w.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'short' }, spec: { nodeName: 'tjn1', containers: [{ name: 'c', image: 'x' }] } },
    });
    const { name, ip } = await endpointFor('short', 'tjn1', 'c3');
    await kc.idle();
    assert.ok(await w.client.find('WorkloadEndpoint', name, 'default'), 'kept while the pod exists');
    await w.core.deleteNamespacedPod({ namespace: 'default', name: 'short' });
    await eventually(async () => (await w.client.find('WorkloadEndpoint', name, 'default')) === undefined, 'removed');
    await eventually(async () => (await ipam.getAllocation(ip)) === undefined, 'released');
  });

  test('an endpoint left on another node by an earlier pod of the same name is removed; the current one stays', async () => {
    await putNode(w.calico, 'tjn3');
    await w.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'moved', labels: { app: 'm' } },
        spec: { nodeName: 'tjn3', containers: [{ name: 'c', image: 'x' }] },
      },
    });
    const old = await endpointFor('moved', 'tjn1', 'c5');
    const cur = await endpointFor('moved', 'tjn3', 'c6');
    await eventually(
      async () => (await w.client.find('WorkloadEndpoint', old.name, 'default')) === undefined,
      'old removed',
    );
    await eventually(async () => (await ipam.getAllocation(old.ip)) === undefined, 'old address released');
    await eventually(
      async () => (await w.client.find('WorkloadEndpoint', cur.name, 'default'))?.metadata.labels?.app === 'm',
      'current endpoint kept and labelled',
    );
    assert.ok(await ipam.getAllocation(cur.ip));
  });

  test('Kubernetes Node deleted -> Calico Node, its affinities and addresses cleaned up', async () => {
    await w.core.createNode({ body: { metadata: { name: 'tjn2', labels: { zone: 'a', rack: '1' } } } });
    await w.client.create({
      apiVersion: CALICO_API_VERSION,
      kind: 'Node',
      metadata: { name: 'tjn2', labels: { 'calico-own': 'yes' } },
      spec: {},
    });
    // Kubernetes labels are copied; a label removed in Kubernetes goes; Calico's own labels stay.
    await eventually(async () => (await w.client.find('Node', 'tjn2'))?.metadata.labels?.zone === 'a', 'labels synced');
    const k8sNode = await w.core.readNode({ name: 'tjn2' });
    k8sNode.metadata!.labels = { zone: 'b' };
    await w.core.replaceNode({ name: 'tjn2', body: k8sNode });
    await eventually(async () => (await w.client.find('Node', 'tjn2'))?.metadata.labels?.zone === 'b', 'relabel');
    const synced = await w.client.get('Node', 'tjn2');
    assert.equal(synced.metadata.labels?.rack, undefined);
    assert.equal(synced.metadata.labels?.['calico-own'], 'yes');
    // Adopted: the Calico Node gets its Kubernetes orchRef.
    await eventually(
      async () => (await w.client.find('Node', 'tjn2'))?.spec.orchRefs?.[0]?.nodeName === 'tjn2',
      'orchRef added',
    );
    const tunnel = await ipam.ensureTunnelAddress('tjn2', 'vxlan', 4);
    // A leaked allocation (no endpoint, no pod) on that node.
    const leak = await ipam.autoAssign({
      num4: 1,
      num6: 0,
      handleId: 'k8s-pod-network.c4',
      attrs: { node: 'tjn2', namespace: 'default', pod: 'gone' },
      hostname: 'tjn2',
    });
    assert.ok((await ipam.store.listAffinities('tjn2')).length > 0);

    await w.core.deleteNode({ name: 'tjn2' });
    await eventually(async () => (await w.client.find('Node', 'tjn2')) === undefined, 'Calico Node deleted');
    await eventually(async () => (await ipam.store.listAffinities('tjn2')).length === 0, 'affinities released');
    await eventually(async () => (await ipam.getAllocation(tunnel)) === undefined, 'tunnel address released');
    await eventually(
      async () => (await ipam.getAllocation(leak.ipv4[0]!.split('/')[0]!)) === undefined,
      'leak released',
    );
    // Another node's state is untouched.
    assert.ok(await ipam.store.listAffinities('tjn1').then((a) => a.length > 0));
  });
});
