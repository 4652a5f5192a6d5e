import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATION, IPAM_ANNOTATIONS, podInfo, provisionalPodInfo, sameIpamInputs } from './pod.js';

test('named and host ports become endpoint ports as Calico converts them: tcp/udp/sctp lower-case, others left out', () => {
  const pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      containers: [
        {
          ports: [
            { name: 'web', containerPort: 80 },
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'sig', containerPort: 2905, protocol: 'SCTP', hostPort: 2905, hostIP: '10.0.0.1' },
            { containerPort: 9000 },
            { name: 'odd', containerPort: 7, protocol: 'ICMP' },
            { name: 'zero', containerPort: 0 },
          ],
        },
        { ports: [{ hostPort: 8443, containerPort: 443, protocol: 'TCP' }] },
      ],
    },
  };
  assert.deepEqual(podInfo(pod as never, undefined).ports, [
    { name: 'web', protocol: 'tcp', port: 80 },
    { name: 'dns', protocol: 'udp', port: 53 },
    { name: 'sig', protocol: 'sctp', port: 2905, hostPort: 2905, hostIP: '10.0.0.1' },
    { name: '', protocol: 'tcp', port: 443, hostPort: 8443 },
  ]);
});

const ns = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  metadata: { name: 'shop', labels, annotations },
});
const pod = (annotations: Record<string, string>) => ({
  metadata: { name: 'web-0', namespace: 'shop', labels: { app: 'web' }, annotations },
  spec: { serviceAccountName: 'web' },
});

test('a pod allocated for ahead keeps that allocation only without IPAM annotations and with the same namespace', () => {
  const provisional = provisionalPodInfo(ns({ team: 'blue' }, { [ANNOTATION.ipv4pools]: '["pool-b"]' }));
  assert.deepEqual(provisional.annotations, {});
  assert.deepEqual(provisional.namespaceLabels, { team: 'blue' });
  const plain = podInfo(
    pod({ 'kubernetes.io/config.seen': 'x', [ANNOTATION.hwAddr]: '02:00:00:00:00:01' }),
    ns({ team: 'blue' }, { [ANNOTATION.ipv4pools]: '["pool-b"]' }),
  );
  assert.equal(sameIpamInputs(provisional, plain), true, 'annotations IPAM does not read change nothing');
  for (const a of IPAM_ANNOTATIONS) {
    const annotated = podInfo(
      pod({ [a]: '["10.0.0.1"]' }),
      ns({ team: 'blue' }, { [ANNOTATION.ipv4pools]: '["pool-b"]' }),
    );
    assert.equal(sameIpamInputs(provisional, annotated), false, a);
  }
  const relabelled = podInfo(pod({}), ns({ team: 'red' }, { [ANNOTATION.ipv4pools]: '["pool-b"]' }));
  assert.equal(sameIpamInputs(provisional, relabelled), false, 'namespace labels changed meanwhile');
  const reannotated = podInfo(pod({}), ns({ team: 'blue' }));
  assert.equal(sameIpamInputs(provisional, reannotated), false, 'namespace annotations changed meanwhile');
});
