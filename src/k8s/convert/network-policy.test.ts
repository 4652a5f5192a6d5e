import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubernetesNetworkPolicy } from '../../api/k8s/types.js';
import { validateResource } from '../../api/validate/index.js';
import { networkPolicyToCalico } from './network-policy.js';

const knp = (spec: Record<string, unknown>, name = 'np1'): KubernetesNetworkPolicy =>
  ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'prod' },
    spec,
  }) as unknown as KubernetesNetworkPolicy;

/** Converts, checks the datastore's validator accepts the result, and returns the spec. */
function convert(spec: Record<string, unknown>): Record<string, any> {
  const { policy, problems } = networkPolicyToCalico(knp(spec));
  assert.deepEqual(problems, []);
  validateResource(policy);
  return policy.spec;
}

const ORCH = "projectcalico.org/orchestrator == 'k8s'";

describe('NetworkPolicy -> Calico: envelope', () => {
  test('the reference example: name, namespace, tier, order, selector, types and rule', () => {
    const { policy } = networkPolicyToCalico({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'db-allow', namespace: 'prod', uid: 'abc', resourceVersion: '7' },
      spec: {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'api' } } }], ports: [{ port: 5432 }] }],
      },
    });
    assert.deepEqual(policy, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'knp.default.db-allow', namespace: 'prod' },
      spec: {
        tier: 'default',
        order: 1000,
        selector: `${ORCH} && app == 'db'`,
        types: ['Ingress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: `${ORCH} && role == 'api'` },
            destination: { ports: [5432] },
          },
        ],
      },
    });
  });

  test('empty podSelector selects every pod of the namespace (orchestrator term only)', () => {
    assert.equal(convert({ podSelector: {} }).selector, ORCH);
  });

  test('a policy without a namespace lands in default', () => {
    const { policy } = networkPolicyToCalico({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'x' },
      spec: { podSelector: {} },
    });
    assert.equal(policy.metadata.namespace, 'default');
  });

  test('matchLabels sorted by key, then matchExpressions in order with every operator', () => {
    const s = convert({
      podSelector: {
        matchLabels: { zeta: 'z', alpha: 'a' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
    }).selector;
    assert.equal(
      s,
      `${ORCH} && alpha == 'a' && zeta == 'z' && tier in { 'web', 'api' } && env not in { 'dev' } && has(team) && ! has(legacy)`,
    );
  });
});

describe('NetworkPolicy -> Calico: types and defaulting of raw input', () => {
  test('no policyTypes, no egress: Ingress', () => {
    assert.deepEqual(convert({ podSelector: {} }).types, ['Ingress']);
  });
  test('raw input with egress rules but no policyTypes isolates egress too (API-server defaulting)', () => {
    const spec = convert({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] });
    assert.deepEqual(spec.types, ['Ingress', 'Egress']);
    assert.equal(spec.egress.length, 1);
  });
  test('an empty policyTypes list is defaulted like an absent one', () => {
    assert.deepEqual(convert({ podSelector: {}, policyTypes: [], egress: [{}] }).types, ['Ingress', 'Egress']);
  });
  test('Egress-only policy: types [Egress], ingress not isolated', () => {
    const spec = convert({ podSelector: {}, policyTypes: ['Egress'] });
    assert.deepEqual(spec.types, ['Egress']);
    assert.equal(spec.ingress, undefined);
    assert.equal(spec.egress, undefined);
  });
  test('explicit policyTypes [Ingress] with egress rules: types kept, still accepted by the datastore', () => {
    const spec = convert({ podSelector: {}, policyTypes: ['Ingress'], egress: [{ ports: [{ port: 53 }] }] });
    assert.deepEqual(spec.types, ['Ingress']);
  });
  test('IPv6 ipBlock', () => {
    const r = convert({
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: 'fd00::1/64', except: ['fd00::8:1/120'] } }] }],
    }).ingress;
    assert.deepEqual(r[0].source, { nets: ['fd00::/64'], notNets: ['fd00::8:0/120'] });
  });
  test('types always in Ingress, Egress order', () => {
    assert.deepEqual(convert({ podSelector: {}, policyTypes: ['Egress', 'Ingress'] }).types, ['Ingress', 'Egress']);
  });
  test('a port without protocol is TCP (defaulted)', () => {
    assert.equal(convert({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }).ingress[0].protocol, 'TCP');
  });
  test('the input object is not changed', () => {
    const input = knp({ podSelector: {}, egress: [{ ports: [{ port: 53 }] }] });
    const before = structuredClone(input);
    networkPolicyToCalico(input);
    assert.deepEqual(input, before);
  });
});

describe('NetworkPolicy -> Calico: peers', () => {
  test('empty rule {} allows everything: one rule with no source or ports', () => {
    assert.deepEqual(convert({ podSelector: {}, ingress: [{}] }).ingress, [{ action: 'Allow' }]);
  });
  test('empty from list is the same as absent', () => {
    assert.deepEqual(convert({ podSelector: {}, ingress: [{ from: [] }] }).ingress, [{ action: 'Allow' }]);
  });
  test('no ingress rules: no Calico rules (deny all ingress)', () => {
    const spec = convert({ podSelector: {}, policyTypes: ['Ingress'] });
    assert.equal(spec.ingress, undefined);
  });
  test('podSelector peer: source selector with orchestrator term, no namespaceSelector', () => {
    const r = convert({ podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }).ingress;
    assert.deepEqual(r, [{ action: 'Allow', source: { selector: ORCH } }]);
  });
  test('namespaceSelector only: orchestrator selector plus the namespace selector without it', () => {
    const r = convert({
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }] }],
    }).ingress;
    assert.deepEqual(r, [
      {
        action: 'Allow',
        source: { selector: ORCH, namespaceSelector: "kubernetes.io/metadata.name == 'x'" },
      },
    ]);
  });
  test('empty namespaceSelector {} is all()', () => {
    const r = convert({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }).ingress;
    assert.deepEqual(r[0].source, { selector: ORCH, namespaceSelector: 'all()' });
  });
  test('podSelector AND namespaceSelector in one peer: one rule with both', () => {
    const r = convert({
      podSelector: {},
      ingress: [
        {
          from: [
            {
              podSelector: { matchLabels: { app: 'b' } },
              namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y', 'z'] }] },
            },
          ],
        },
      ],
    }).ingress;
    assert.deepEqual(r, [
      { action: 'Allow', source: { selector: `${ORCH} && app == 'b'`, namespaceSelector: "ns in { 'y', 'z' }" } },
    ]);
  });
  test('two peers are two rules (OR)', () => {
    const r = convert({
      podSelector: {},
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }, { namespaceSelector: {} }] }],
    }).ingress;
    assert.equal(r.length, 2);
    assert.deepEqual(r[0].source, { selector: `${ORCH} && app == 'b'` });
    assert.deepEqual(r[1].source, { selector: ORCH, namespaceSelector: 'all()' });
  });
  test('ipBlock with except: nets and notNets, host bits cleared, no selectors', () => {
    const r = convert({
      podSelector: {},
      egress: [{ to: [{ ipBlock: { cidr: '10.1.2.3/16', except: ['10.1.5.9/24', '10.1.6.0/25'] } }] }],
    }).egress;
    assert.deepEqual(r, [
      { action: 'Allow', destination: { nets: ['10.1.0.0/16'], notNets: ['10.1.5.0/24', '10.1.6.0/25'] } },
    ]);
  });
  test('ipBlock without except has no notNets', () => {
    const r = convert({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/24' } }] }] }).ingress;
    assert.deepEqual(r, [{ action: 'Allow', source: { nets: ['192.168.0.0/24'] } }]);
  });
  test('egress peers and ports both go to destination', () => {
    const r = convert({
      podSelector: {},
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'dns' } } }], ports: [{ port: 53, protocol: 'UDP' }] }],
    }).egress;
    assert.deepEqual(r, [
      { action: 'Allow', protocol: 'UDP', destination: { selector: `${ORCH} && app == 'dns'`, ports: [53] } },
    ]);
  });
  test('a bad CIDR drops only its rule and is reported', () => {
    const { policy, problems } = networkPolicyToCalico(
      knp({
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }, { ports: [{ port: 80 }] }],
      }),
    );
    assert.equal(policy.spec.ingress?.length, 1);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: invalid CIDR "10\.0\.0\.0\/33"/);
  });
});

describe('NetworkPolicy -> Calico: ports', () => {
  const ports = (p: unknown[]) => convert({ podSelector: {}, ingress: [{ ports: p }] }).ingress;

  test('numeric ports of one protocol coalesce into ranges', () => {
    assert.deepEqual(ports([{ port: 9090 }, { port: 81 }, { port: 80 }, { port: 82 }]), [
      { action: 'Allow', protocol: 'TCP', destination: { ports: ['80:82', 9090] } },
    ]);
  });
  test('endPort makes a range; overlapping ranges merge', () => {
    assert.deepEqual(
      ports([
        { port: 8000, endPort: 8080 },
        { port: 8050, endPort: 8100 },
      ]),
      [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['8000:8100'] } }],
    );
  });
  test('one rule per protocol, protocols sorted by name', () => {
    const r = ports([
      { port: 80, protocol: 'UDP' },
      { port: 80, protocol: 'TCP' },
      { port: 81, protocol: 'SCTP' },
    ]);
    assert.deepEqual(
      r.map((x: any) => [x.protocol, x.destination.ports]),
      [
        ['SCTP', [81]],
        ['TCP', [80]],
        ['UDP', [80]],
      ],
    );
  });
  test('named ports are kept (before numeric ones)', () => {
    assert.deepEqual(ports([{ port: 81 }, { port: 'serve-80-tcp' }, { port: 80 }]), [
      { action: 'Allow', protocol: 'TCP', destination: { ports: ['serve-80-tcp', '80:81'] } },
    ]);
  });
  test('a numeric string port is a number', () => {
    assert.deepEqual(ports([{ port: '8080' }])[0].destination, { ports: [8080] });
  });
  test('a protocol without port allows every port of that protocol, overriding its other ports', () => {
    const r = ports([{ port: 80, protocol: 'UDP' }, { protocol: 'UDP' }, { port: 443, protocol: 'UDP' }, { port: 22 }]);
    assert.deepEqual(r, [
      { action: 'Allow', protocol: 'TCP', destination: { ports: [22] } },
      { action: 'Allow', protocol: 'UDP' },
    ]);
  });
  test('protocols x peers: one rule per pair', () => {
    const r = convert({
      podSelector: {},
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { a: '1' } } }, { ipBlock: { cidr: '10.0.0.0/8' } }],
          ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }],
        },
      ],
    }).ingress;
    assert.deepEqual(
      r.map((x: any) => `${x.protocol} ${JSON.stringify(x.source)}`),
      [
        `TCP {"selector":"${ORCH} && a == '1'"}`,
        'TCP {"nets":["10.0.0.0/8"]}',
        `UDP {"selector":"${ORCH} && a == '1'"}`,
        'UDP {"nets":["10.0.0.0/8"]}',
      ],
    );
  });
  test('endPort below port drops the rule with a reason naming the field', () => {
    const { policy, problems } = networkPolicyToCalico(
      knp({ podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }),
    );
    assert.equal(policy.spec.ingress, undefined);
    assert.match(problems[0]!, /spec\.ingress\[0\]\.ports\[0\]: port range 90:80/);
  });
  test('a named port with endPort is refused', () => {
    const { problems } = networkPolicyToCalico(
      knp({ podSelector: {}, egress: [{ ports: [{ port: 'http', endPort: 90 }] }] }),
    );
    assert.match(problems[0]!, /spec\.egress\[0\]\.ports\[0\]\.port: invalid port "http"/);
  });
  test('each k8s rule converts separately (multiple rules append)', () => {
    const r = convert({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }, { ports: [{ port: 81 }] }] }).ingress;
    assert.deepEqual(
      r.map((x: any) => x.destination.ports),
      [[80], [81]],
    );
  });
});
