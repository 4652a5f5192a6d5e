// Property tests of the NetworkPolicy port mapping: whatever ports a rule lists, each protocol's Calico rule allows
// exactly the ports the Kubernetes rule allows (coalescing never widens or narrows), and named ports survive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { KubernetesNetworkPolicy, NetworkPolicyPort } from '../../api/k8s/types.js';
import { validateResource } from '../../api/validate/index.js';
import { networkPolicyToCalico } from './network-policy.js';

const portEntry: fc.Arbitrary<NetworkPolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'), port: fc.integer({ min: 1, max: 200 }) }),
  fc
    .record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.integer({ min: 1, max: 200 }), len: fc.nat(30) })
    .map(({ protocol, port, len }) => ({ protocol, port, endPort: port + len })),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom('http', 'dns', 'metrics') }),
);

function allowed(ports: (number | string)[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const p of ports ?? []) {
    if (typeof p === 'number') out.add(String(p));
    else if (/^\d+:\d+$/.test(p)) {
      const [a, b] = p.split(':').map(Number) as [number, number];
      for (let i = a; i <= b; i++) out.add(String(i));
    } else out.add(p);
  }
  return out;
}

test('each protocol allows exactly the listed ports, in one valid rule per protocol', () => {
  fc.assert(
    fc.property(fc.array(portEntry, { minLength: 1, maxLength: 12 }), (ports) => {
      const np = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'p', namespace: 'n' },
        spec: { podSelector: {}, ingress: [{ ports }] },
      } as unknown as KubernetesNetworkPolicy;
      const { policy, problems } = networkPolicyToCalico(np);
      assert.deepEqual(problems, []);
      validateResource(policy);
      const want = new Map<string, Set<string>>();
      for (const p of ports) {
        const set = want.get(p.protocol!) ?? new Set<string>();
        const end = p.endPort ?? p.port;
        if (typeof p.port === 'number') for (let i = p.port; i <= (end as number); i++) set.add(String(i));
        else set.add(p.port!);
        want.set(p.protocol!, set);
      }
      const rules = policy.spec.ingress ?? [];
      assert.deepEqual(
        rules.map((r) => r.protocol),
        [...want.keys()].sort(),
      );
      for (const r of rules) assert.deepEqual(allowed(r.destination?.ports), want.get(r.protocol as string));
    }),
    { numRuns: 300 },
  );
});
