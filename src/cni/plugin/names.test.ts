import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cniHostVethName, ipamHandleId, k8sHostVethName, workloadEndpointName } from './names.js';
import { workloadIdentity } from './workload.js';
import type { CniRequest } from '../skel/types.js';

test("WorkloadEndpoint names double each segment's dashes (reference example)", () => {
  assert.equal(workloadEndpointName('node-1', 'k8s', 'web-0', 'eth0'), 'node--1-k8s-web--0-eth0');
  assert.equal(workloadEndpointName('n1', 'cni', 'abc-def', 'eth0'), 'n1-cni-abc--def-eth0');
  assert.throws(() => workloadEndpointName('', 'k8s', 'p', 'eth0'), /node is empty/);
});

test('Kubernetes host veth: cali + 11 hex of sha1(namespace.pod), 15 characters', () => {
  const want = 'cali' + createHash('sha1').update('prod.web-0').digest('hex').slice(0, 11);
  assert.equal(k8sHostVethName('prod', 'web-0'), want);
  assert.equal(want.length, 15);
  assert.equal(k8sHostVethName('prod', 'web-0', 'tap'), 'tap' + want.slice(4));
});

test('other orchestrators: cali + the first 11 characters of the container ID', () => {
  assert.equal(cniHostVethName('3f9c0123456789abcdef'), 'cali3f9c0123456');
  assert.equal(cniHostVethName('short'), 'calishort');
  assert.equal(ipamHandleId('k8s-pod-network', 'abc'), 'k8s-pod-network.abc');
});

const req = (args: Record<string, string>, env: Record<string, string> = {}): CniRequest => ({
  command: 'ADD',
  containerId: '3f9c0123456789abcdef',
  netns: '/x',
  ifName: 'eth0',
  args,
  path: [],
  config: { cniVersion: '1.0.0', name: 'net', type: 'calico' },
  stdin: '',
  env,
});

test('identity: Kubernetes only when both pod namespace and name are given', () => {
  const k = workloadIdentity(req({ K8S_POD_NAMESPACE: 'prod', K8S_POD_NAME: 'web-0' }), 'node-1', 'k8s-pod-network');
  assert.equal(k.orchestrator, 'k8s');
  assert.equal(k.wepName, 'node--1-k8s-web--0-eth0');
  assert.equal(k.namespace, 'prod');
  assert.equal(k.hostVeth, k8sHostVethName('prod', 'web-0'));
  assert.equal(k.handleId, 'k8s-pod-network.3f9c0123456789abcdef');
  const c = workloadIdentity(req({ K8S_POD_NAME: 'web-0' }), 'node-1', 'net');
  assert.equal(c.orchestrator, 'cni');
  assert.equal(c.namespace, 'default');
  assert.equal(c.wepName, 'node--1-cni-3f9c0123456789abcdef-eth0');
  assert.equal(c.hostVeth, 'cali3f9c0123456');
});

test('identity: FELIX_INTERFACEPREFIX first entry sets the Kubernetes veth prefix', () => {
  const k = workloadIdentity(
    req({ K8S_POD_NAMESPACE: 'a', K8S_POD_NAME: 'b' }, { FELIX_INTERFACEPREFIX: 'tap,cali' }),
    'n',
    'x',
  );
  assert.match(k.hostVeth, /^tap[0-9a-f]{11}$/);
});
