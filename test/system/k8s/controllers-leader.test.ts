// calico-kube-controllers replicas under leader election (a coordination.k8s.io Lease on the project's API server):
// one acts, the other waits; a leader that loses its Lease stops acting; a stopped leader hands over at once.
// Also KubeControllersConfiguration choosing the controllers, with ENABLED_CONTROLLERS overriding it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { eventually } from '../../support/k8s.js';
import { checkStatus } from '../../../src/k8s/controllers/index.js';
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
    assert.equal(b.config().controllers.namespace?.reconcilerPeriodMs, 60_000);
    await b.stop();
  });
});
