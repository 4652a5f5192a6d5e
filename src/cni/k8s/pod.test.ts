import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podInfo } from './pod.js';

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
