// calico-kube-controllers replicas under leader election (a coordination.k8s.io Lease on the project's API server):
// one acts, the other waits; a leader that loses its Lease stops acting; a stopped leader hands over at once.
// Also KubeControllersConfiguration choosing the controllers, with ENABLED_CONTROLLERS overriding it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { eventually } from '../../support/k8s.js';
import { checkStatus } from '../../../src/k8s/controllers/index.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { putNode, putPool } from '../../support/ipam.js';
import { startControllersWorld, type ControllersWorld } from './controllers-world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function writes(k: { metrics: { writes: { get(): Promise<{ values: { value: number }[] }> } } }) {
  return (await k.metrics.writes.get()).values.reduce((n, v) => n + v.value, 0);
}

describe('kube-controllers: two replicas under leader election', () => {
  let w: ControllersWorld;
  before(async () => {
    w = await startControllersWorld();
  });
  after(async () => w.stop());

  test('one leader acts; the other stays idle; a stopped leader hands over', async () => {
    const a = await w.start({ identity: 'tj-replica-a' });
    await eventually(() => a.isLeader() && a.running().length === 5, 'a leads');
    const b = await w.start({ identity: 'tj-replica-b' });
    await w.core.createNamespace({ body: { metadata: { name: 'tj-one' } } });
    await eventually(() => w.client.find('Profile', 'kns.tj-one'), 'a created kns.tj-one');
    await sleep(800); // several retry periods of b
    assert.equal(b.isLeader(), false);
    assert.deepEqual(b.running(), []);
    assert.equal(await writes(b), 0, 'the standby replica wrote nothing');
    const lease = await w.api.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({
      namespace: 'kube-system',
      name: 'calico-kube-controllers',
    });
    assert.equal(lease.spec?.holderIdentity, 'tj-replica-a');
    const standby = await (await fetch(`${b.healthUrl}/readiness`)).json();
    assert.match(JSON.stringify(standby), /standby/);

    const aPort = Number(new URL(a.healthUrl!).port);
    await a.stop();
    const gone = await checkStatus('liveness', aPort);
    assert.equal(gone.ok, false);
    assert.match(gone.reason, /health endpoint 127\.0\.0\.1:\d+ unreachable/);
    await eventually(() => b.isLeader() && b.running().length === 5, 'b took over', 5000);
    await w.core.createNamespace({ body: { metadata: { name: 'tj-two' } } });
    await eventually(() => w.client.find('Profile', 'kns.tj-two'), 'b created kns.tj-two');
    await b.stop();
  });

  test('a leader whose Lease is taken stops acting before the holder could', async () => {
    const a = await w.start({ identity: 'tj-replica-c' });
    await eventually(() => a.isLeader() && a.running().length > 0, 'c leads');
    const leases = w.api.kubeConfig().makeApiClient(CoordinationV1Api);
    // Another holder takes the Lease (as after a partition): c cannot renew and must step down.
    const lease = await leases.readNamespacedLease({ namespace: 'kube-system', name: 'calico-kube-controllers' });
    lease.spec = {
      ...lease.spec,
      holderIdentity: 'tj-intruder',
      leaseDurationSeconds: 60,
      renewTime: new V1MicroTime(),
    };
    await leases.replaceNamespacedLease({ namespace: 'kube-system', name: 'calico-kube-controllers', body: lease });
    await eventually(() => !a.isLeader() && a.running().length === 0, 'c stepped down', 5000);
    const before = await writes(a);
    await w.core.createNamespace({ body: { metadata: { name: 'tj-three' } } });
    await sleep(600);
    assert.equal(await w.client.find('Profile', 'kns.tj-three'), undefined, 'nobody leads: nothing written');
    assert.equal(await writes(a), before);
    await a.stop();
    // Free the Lease for the next test.
    const cur = await leases.readNamespacedLease({ namespace: 'kube-system', name: 'calico-kube-controllers' });
    cur.spec = { ...cur.spec, holderIdentity: '', leaseDurationSeconds: 1 };
    await leases.replaceNamespacedLease({ namespace: 'kube-system', name: 'calico-kube-controllers', body: cur });
  });

  test('leaked addresses on a live node are released only after the leak grace period; live ones stay', async () => {
    const ipam = new IpamClient(w.calico);
    await putPool(w.calico, 'tj-gc-pool', '10.78.0.0/16', { blockSize: 26 });
    await putNode(w.calico, 'tjgc1');
    await w.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'tj-alive' }, spec: { nodeName: 'tjgc1', containers: [{ name: 'c', image: 'x' }] } },
    });
    const assign = async (pod: string, cid: string) =>
      (
        await ipam.autoAssign({
          num4: 1,
          num6: 0,
          handleId: `k8s-pod-network.${cid}`,
          attrs: { namespace: 'default', pod, node: 'tjgc1' },
          hostname: 'tjgc1',
        })
      ).ipv4[0]!.split('/')[0]!;
    const leaked = await assign('tj-never-existed', 'g1'); // no pod, no endpoint: a leak
    const live = await assign('tj-alive', 'g2'); // pod exists (endpoint not written yet): never a leak
    const kcc = await w.client.get('KubeControllersConfiguration', 'default');
    await w.client.update({
      ...kcc,
      spec: { ...kcc.spec, controllers: { node: { reconcilerPeriod: '1s', leakGracePeriod: '2s' } } },
    });
    const k = await w.start({ identity: 'tj-replica-gc' });
    await eventually(() => k.isLeader() && k.running().includes('node'), 'gc replica leads');
    const t0 = Date.now();
    await eventually(async () => (await k.metrics.gcCandidates.get()).values[0]?.value === 1, 'one candidate');
    assert.ok(await ipam.getAllocation(leaked), 'still held during the grace period');
    await eventually(async () => (await ipam.getAllocation(leaked)) === undefined, 'leak released', 10_000);
    assert.ok(Date.now() - t0 >= 1500, 'not before the grace period');
    assert.ok(await ipam.getAllocation(live), 'the live pod keeps its address');
    assert.equal((await k.metrics.gcReclamations.get()).values[0]?.value, 1);
    await k.stop();
    await w.client.update({ ...(await w.client.get('KubeControllersConfiguration', 'default')), spec: kcc.spec });
  });

  test('KubeControllersConfiguration chooses controllers; ENABLED_CONTROLLERS overrides; changes restart them', async () => {
    const a = await w.start({ identity: 'tj-replica-d', env: { ENABLED_CONTROLLERS: 'namespace,policy' } });
    await eventually(() => a.isLeader() && a.running().length > 0, 'd leads');
    assert.deepEqual(a.running().sort(), ['namespace', 'policy']);
    await a.stop();

    const b = await w.start({ identity: 'tj-replica-e' });
    await eventually(() => b.isLeader() && b.running().length === 5, 'e runs all five');
    const kcc = await w.client.get('KubeControllersConfiguration', 'default');
    assert.equal(kcc.spec.controllers.node.leakGracePeriod, '15m');
    await w.client.update({
      ...kcc,
      spec: { ...kcc.spec, controllers: { namespace: { reconcilerPeriod: '1m' }, node: { leakGracePeriod: '30s' } } },
    });
    await eventually(() => b.running().length === 2, 'restarted with two controllers');
    assert.deepEqual(b.running().sort(), ['namespace', 'node']);
    assert.equal(b.config().leakGracePeriodMs, 30_000);
    await eventually(async () => {
      const st = (await w.client.get('KubeControllersConfiguration', 'default')).status as any;
      return st?.runningConfig?.controllers?.node?.leakGracePeriod === '30s' && !st.runningConfig.controllers.policy;
    }, 'status.runningConfig follows');
    assert.equal(b.config().controllers.namespace?.reconcilerPeriodMs, 60_000);
    await b.stop();
  });
});
