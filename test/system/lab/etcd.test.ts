// The lab on etcd (calico-etcd.yaml's deployment: every component on the etcdv3 backend), dual-stack: pods made by
// kubelet through the real CNI plugin get an IPv4 and an IPv6 address, reach each other over both families, and their
// WorkloadEndpoints and IPAM records sit under Calico's etcd keys; deleting a pod releases its addresses and leaves
// `calicoctl ipam check` with nothing to report.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TestLab } from './lab-harness.js';
import { matrixDifferences, formatMatrix, type Matrix } from '../../../src/lab/matrix.js';
import { probeMatrix } from '../../../src/lab/probe.js';

const lab = new TestLab('tqd-');
const PODS = ['web-1', 'web-2', 'web-3'];

const podsYaml = (names: string[]): string =>
  [
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}',
    ...names.map(
      (name, i) =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: shop, labels: {app: web}}\n` +
        `spec: {nodeName: node${(i % 2) + 1}, containers: [{name: c, image: busybox, ports: [{name: http, containerPort: 80}]}]}`,
    ),
  ].join('\n---\n');

/** Keys under an etcd prefix, read with etcdctl from the lab's underlay namespace (where etcd listens). */
function etcdKeys(prefix: string): string[] {
  const out = execFileSync(
    'ip',
    [
      'netns',
      'exec',
      `${lab.prefix}ul`,
      'etcdctl',
      '--endpoints=http://172.31.255.1:2379',
      'get',
      '--prefix',
      '--keys-only',
      prefix,
    ],
    { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } },
  );
  return out.split('\n').filter(Boolean);
}

async function expectAllReachable(family: 4 | 6, timeoutMs = 20_000): Promise<void> {
  const keys = PODS.map((p) => `shop/${p}`);
  const everyPair: Matrix = Object.fromEntries(keys.map((f) => [f, Object.fromEntries(keys.map((t) => [t, true]))]));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const actual = await probeMatrix(lab.labDir, { port: 80, protocol: 'TCP', family, timeoutMs: 250 });
    const diff = matrixDifferences(everyPair, actual);
    if (diff.length === 0) return;
    if (Date.now() > deadline) assert.fail(`IPv${family} matrix:\n${formatMatrix(actual)}\n${diff.join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  lab.up(['--nodes', '2', '--datastore', 'etcd', '--ipv6']);
  lab.apply(podsYaml(PODS));
  await lab.waitForPods(PODS.length);
});

after(() => {
  lab.down();
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith(lab.prefix));
  if (left.length) throw new Error(`lab down left namespaces behind: ${left.join(', ')}`);
});

test('every pod has an IPv4 and an IPv6 address and reaches the others over both', async () => {
  for (const pod of lab.pods()) {
    assert.equal(pod.ips.filter((ip) => !ip.includes(':')).length, 1, `${pod.name}: ${pod.ips.join(', ')}`);
    assert.equal(pod.ips.filter((ip) => ip.includes(':')).length, 1, `${pod.name}: ${pod.ips.join(', ')}`);
  }
  await expectAllReachable(4);
  await expectAllReachable(6);
});

test("endpoints, blocks and handles are under Calico's etcd keys", () => {
  const weps = etcdKeys('/calico/resources/v3/projectcalico.org/workloadendpoints/shop/');
  assert.deepEqual(weps.map((k) => k.split('/').pop()).sort(), [
    'node1-k8s-web--1-eth0',
    'node1-k8s-web--3-eth0',
    'node2-k8s-web--2-eth0',
  ]);
  const handles = etcdKeys('/calico/ipam/v2/handle/').map((k) => k.split('/').pop()!);
  assert.equal(handles.filter((h) => h.startsWith('k8s-pod-network.')).length, PODS.length, handles.join('\n'));
  const blocks = etcdKeys('/calico/ipam/v2/assignment/');
  assert.ok(
    blocks.some((k) => k.startsWith('/calico/ipam/v2/assignment/ipv4/block/192.168.')),
    blocks.join('\n'),
  );
  assert.ok(
    blocks.some((k) => k.startsWith('/calico/ipam/v2/assignment/ipv6/block/fd00:c0de:')),
    blocks.join('\n'),
  );
  const affinities = etcdKeys('/calico/ipam/v2/host/');
  assert.ok(
    affinities.some((k) => /^\/calico\/ipam\/v2\/host\/node1\/ipv4\/block\/192\.168\./.test(k)),
    affinities.join('\n'),
  );
});

test('a deleted pod releases its addresses and ipam check finds no problem', async () => {
  const inUse = () => {
    const out = lab.mustRun(['calicoctl', 'ipam', 'show']);
    return [...out.matchAll(/\|\s*IP Pool\s*\|\s*(\S+)\s*\|\s*\S+\s*\|\s*(\d+) \(/g)].map((m) => `${m[1]} ${m[2]}`);
  };
  assert.deepEqual(inUse(), ['192.168.0.0/16 3', 'fd00:c0de::/48 3']);
  lab.delete(podsYaml(['web-2']).split('\n---\n')[1]!);
  const deadline = Date.now() + 20_000;
  while (inUse().join() !== ['192.168.0.0/16 2', 'fd00:c0de::/48 2'].join()) {
    if (Date.now() > deadline) assert.fail(`addresses in use after the delete: ${inUse().join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(etcdKeys('/calico/resources/v3/projectcalico.org/workloadendpoints/shop/node2-k8s-web--2-eth0'), []);
  const check = lab.run(['calicoctl', 'ipam', 'check']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /Check complete; found 0 problems\./);
});
