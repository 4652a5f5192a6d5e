// The conformance cases: the kinds of the upstream Kubernetes netpol e2e suite (network_policy.go), plus Calico
// policy cases (order, Deny, Pass and tiers, Log, notNets, notSelector, GlobalNetworkPolicy, profile fallback,
// Kubernetes policies at order 1000 among Calico ones). Each step says what to write and which pairs must be
// reachable afterwards; the expectations follow the documented semantics, not our output.
import {
  networkPolicy as knp,
  nsLabels,
  nsOf,
  podLabels,
  podOf,
  podSel,
  type PodKey,
  type Probe,
} from './netpol-world.js';

export interface World {
  /** The pod's IPv4 address. */
  ip(key: PodKey): string;
}

export interface Step {
  apply?: object[];
  delete?: object[];
  probes: Probe[];
  reach: (from: PodKey, to: PodKey, probe: Probe) => boolean;
}

export interface Case {
  name: string;
  steps: (w: World) => Step[];
  /** Objects to apply after the case to restore the world (relabelled namespaces and pods). */
  restore?: object[];
}

const TCP80: Probe = { port: 80, protocol: 'TCP' };
const TCP81: Probe = { port: 81, protocol: 'TCP' };
const UDP80: Probe = { port: 80, protocol: 'UDP' };
const UDP81: Probe = { port: 81, protocol: 'UDP' };
const is = (k: PodKey, ...keys: PodKey[]) => keys.includes(k);
const all = {};

/** A case of one step. */
const single = (name: string, apply: (w: World) => object[], probes: Probe[], reach: Step['reach']): Case => ({
  name,
  steps: (w) => [{ apply: apply(w), probes, reach }],
});

const gnp = (name: string, spec: object) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'GlobalNetworkPolicy',
  metadata: { name },
  spec,
});
const cnp = (namespace: string, name: string, spec: object) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});
const tier = (name: string, order: number, defaultAction?: 'Deny' | 'Pass') => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Tier',
  metadata: { name },
  spec: { order, ...(defaultAction ? { defaultAction } : {}) },
});
const XA = "projectcalico.org/namespace == 'x' && pod == 'a'";

export const KUBERNETES_CASES: Case[] = [
  single(
    'default-deny-ingress',
    () => [knp('x', 'deny-ingress', { podSelector: all, policyTypes: ['Ingress'] })],
    [TCP80],
    (_f, t) => nsOf(t) !== 'x',
  ),
  single(
    'default-deny-ingress on UDP',
    () => [knp('x', 'deny-ingress', { podSelector: all, policyTypes: ['Ingress'] })],
    [UDP80],
    (_f, t) => nsOf(t) !== 'x',
  ),
  single(
    'default-deny-all',
    () => [knp('x', 'deny-all', { podSelector: all, policyTypes: ['Ingress', 'Egress'] })],
    [TCP80],
    (f, t) => nsOf(t) !== 'x' && nsOf(f) !== 'x',
  ),
  single(
    'default-deny-egress',
    () => [knp('x', 'deny-egress', { podSelector: all, policyTypes: ['Egress'] })],
    [UDP81],
    (f) => nsOf(f) !== 'x',
  ),
  single(
    'a policy in another namespace does not isolate x',
    () => [knp('y', 'deny-ingress', { podSelector: all, policyTypes: ['Ingress'] })],
    [TCP80],
    (_f, t) => nsOf(t) !== 'y',
  ),
  single(
    'allow from pods within the server namespace by podSelector',
    () => [
      knp('x', 'allow-b', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || f === 'x/b',
  ),
  single(
    'allow all ingress to a target in a default-deny namespace',
    () => [
      knp('x', 'deny', { podSelector: all, policyTypes: ['Ingress'] }),
      knp('x', 'allow-a', { podSelector: podSel({ pod: 'a' }), ingress: [{}] }),
    ],
    [TCP80],
    (_f, t) => nsOf(t) !== 'x' || t === 'x/a',
  ),
  single(
    'allow ingress from pods in all namespaces',
    () => [
      knp('x', 'deny', { podSelector: all, policyTypes: ['Ingress'] }),
      knp('x', 'allow-all-ns', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ namespaceSelector: all }] }],
      }),
    ],
    [TCP80],
    (_f, t) => nsOf(t) !== 'x' || t === 'x/a',
  ),
  single(
    'allow only from a different namespace by namespaceSelector',
    () => [
      knp('x', 'allow-y', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ namespaceSelector: podSel({ ns: 'y' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) === 'y',
  ),
  single(
    'podSelector with matchExpressions',
    () => [
      knp('x', 'expr', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || f === 'x/b',
  ),
  single(
    'namespaceSelector with matchExpressions',
    () => [
      knp('x', 'expr', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [
          { from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y'] }] } }] },
        ],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) === 'y',
  ),
  single(
    'podSelector OR namespaceSelector (two peers)',
    () => [
      knp('x', 'or', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [
          {
            from: [
              { namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] } },
              { podSelector: podSel({ pod: 'b' }) },
            ],
          },
        ],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) !== 'x' || f === 'x/b',
  ),
  single(
    'podSelector AND namespaceSelector (one peer)',
    () => [
      knp('x', 'and', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] },
                podSelector: podSel({ pod: 'b' }),
              },
            ],
          },
        ],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || (nsOf(f) !== 'x' && podOf(f) === 'b'),
  ),
  single(
    'multiple podSelectors and namespaceSelectors',
    () => [
      knp('x', 'multi', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] },
                podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] },
              },
            ],
          },
        ],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || (nsOf(f) !== 'x' && podOf(f) !== 'a'),
  ),
  single(
    'any of two podSelectors',
    () => [
      knp('x', 'any', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }, { podSelector: podSel({ pod: 'c' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || is(f, 'x/b', 'x/c'),
  ),
  single(
    'a pod in a different namespace by podSelector and namespaceSelector',
    () => [
      knp('x', 'ya', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ namespaceSelector: podSel({ ns: 'y' }), podSelector: podSel({ pod: 'a' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || f === 'y/a',
  ),
  single(
    'namespaceSelector with the default kubernetes.io/metadata.name label',
    () => [
      knp('x', 'default-label', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ namespaceSelector: podSel({ 'kubernetes.io/metadata.name': 'y' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) === 'y',
  ),
  single(
    'namespaceSelector matchExpressions on the default label',
    () => [
      knp('x', 'default-label-expr', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }],
                },
              },
            ],
          },
        ],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) !== 'x',
  ),
  single(
    'allow only port 81',
    () => [knp('x', 'port-81', { podSelector: podSel({ pod: 'a' }), ingress: [{ ports: [{ port: 81 }] }] })],
    [TCP80, TCP81],
    (_f, t, p) => t !== 'x/a' || p.port === 81,
  ),
  single(
    'endPort range 81-82',
    () => [knp('x', 'range', { podSelector: all, ingress: [{ ports: [{ port: 81, endPort: 82 }] }] })],
    [TCP80, TCP81],
    (_f, t, p) => nsOf(t) !== 'x' || p.port === 81,
  ),
  {
    name: 'stacked policies with overlapping podSelectors union their ports',
    steps: () => [
      {
        apply: [knp('x', 'allow-80', { podSelector: podSel({ pod: 'a' }), ingress: [{ ports: [{ port: 80 }] }] })],
        probes: [TCP80, TCP81],
        reach: (_f, t, p) => t !== 'x/a' || p.port === 80,
      },
      {
        apply: [knp('x', 'allow-81', { podSelector: all, ingress: [{ ports: [{ port: 81 }] }] })],
        probes: [TCP80, TCP81],
        reach: (_f, t, p) => nsOf(t) !== 'x' || t === 'x/a' || p.port === 81,
      },
    ],
  },
  single(
    'allow-all ingress in a namespace',
    () => [knp('x', 'allow-all', { podSelector: all, ingress: [{}] })],
    [TCP80],
    () => true,
  ),
  single(
    'ingress on one named port',
    () => [knp('x', 'named', { podSelector: all, ingress: [{ ports: [{ port: 'serve-80-tcp' }] }] })],
    [TCP80, TCP81],
    (_f, t, p) => nsOf(t) !== 'x' || p.port === 80,
  ),
  single(
    'ingress from a namespace on one named port',
    () => [
      knp('x', 'named-ns', {
        podSelector: all,
        ingress: [{ from: [{ namespaceSelector: podSel({ ns: 'y' }) }], ports: [{ port: 'serve-80-tcp' }] }],
      }),
    ],
    [TCP80, TCP81],
    (f, t, p) => nsOf(t) !== 'x' || (p.port === 80 && nsOf(f) === 'y'),
  ),
  single(
    'egress on one named port',
    () => [
      knp('x', 'named-egress', {
        podSelector: all,
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'serve-80-tcp' }] }],
      }),
    ],
    [TCP80, TCP81],
    (f, _t, p) => nsOf(f) !== 'x' || p.port === 80,
  ),
  single(
    'named UDP port does not open TCP',
    () => [
      knp('x', 'named-udp', { podSelector: all, ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] }),
    ],
    [TCP81, UDP81],
    (_f, t, p) => nsOf(t) !== 'x' || p.protocol === 'UDP',
  ),
  {
    name: 'an updated policy is enforced',
    steps: () => [
      {
        apply: [
          knp('x', 'upd', {
            podSelector: podSel({ pod: 'a' }),
            ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }] }],
          }),
        ],
        probes: [TCP80],
        reach: (f, t) => t !== 'x/a' || f === 'x/b',
      },
      {
        apply: [
          knp('x', 'upd', {
            podSelector: podSel({ pod: 'a' }),
            ingress: [{ from: [{ podSelector: podSel({ pod: 'c' }) }] }],
          }),
        ],
        probes: [TCP80],
        reach: (f, t) => t !== 'x/a' || f === 'x/c',
      },
    ],
  },
  {
    name: 'ingress from an updated (relabelled) namespace',
    steps: () => [
      {
        apply: [
          knp('x', 'ns2', {
            podSelector: podSel({ pod: 'a' }),
            ingress: [{ from: [{ namespaceSelector: podSel({ ns2: 'updated' }) }] }],
          }),
        ],
        probes: [TCP80],
        reach: (_f, t) => t !== 'x/a',
      },
      {
        apply: [nsLabels('y', { ns: 'y', ns2: 'updated' })],
        probes: [TCP80],
        reach: (f, t) => t !== 'x/a' || nsOf(f) === 'y',
      },
    ],
    restore: [nsLabels('y', { ns: 'y' })],
  },
  {
    name: 'ingress from an updated (relabelled) pod',
    steps: () => [
      {
        apply: [
          knp('x', 'pod2', {
            podSelector: podSel({ pod: 'a' }),
            ingress: [{ from: [{ podSelector: podSel({ pod2: 'updated' }) }] }],
          }),
        ],
        probes: [TCP80],
        reach: (_f, t) => t !== 'x/a',
      },
      {
        apply: [podLabels('x/b', { pod: 'b', pod2: 'updated' })],
        probes: [TCP80],
        reach: (f, t) => t !== 'x/a' || f === 'x/b',
      },
    ],
    restore: [podLabels('x/b', { pod: 'b' })],
  },
  single(
    'deny ingress from pods in other namespaces',
    () => [knp('x', 'same-ns', { podSelector: all, ingress: [{ from: [{ podSelector: all }] }] })],
    [TCP80],
    (f, t) => nsOf(t) !== 'x' || nsOf(f) === 'x',
  ),
  {
    name: 'deny ingress to an updated (relabelled) pod',
    steps: () => [
      {
        apply: [knp('x', 'isolate', { podSelector: podSel({ target: 'isolated' }), policyTypes: ['Ingress'] })],
        probes: [TCP80],
        reach: () => true,
      },
      { apply: [podLabels('x/a', { pod: 'a', target: 'isolated' })], probes: [TCP80], reach: (_f, t) => t !== 'x/a' },
    ],
    restore: [podLabels('x/a', { pod: 'a' })],
  },
  single(
    'deny egress from pods by podSelector',
    () => [knp('x', 'egress-a', { podSelector: podSel({ pod: 'a' }), policyTypes: ['Egress'] })],
    [TCP80],
    (f) => f !== 'x/a',
  ),
  single(
    'deny egress from all pods in a namespace',
    () => [knp('x', 'egress-all', { podSelector: all, policyTypes: ['Egress'] })],
    [TCP80],
    (f) => nsOf(f) !== 'x',
  ),
  single(
    'Ingress and Egress specified together',
    () => [
      knp('x', 'both', {
        podSelector: podSel({ pod: 'a' }),
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: podSel({ pod: 'b' }) }] }],
        egress: [{ to: [{ namespaceSelector: podSel({ ns: 'y' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => (t !== 'x/a' || f === 'x/b') && (f !== 'x/a' || nsOf(t) === 'y'),
  ),
  single(
    // kube-apiserver defaults policyTypes to [Ingress, Egress] here: ingress is isolated too, with no rule allowing any.
    'egress written without policyTypes isolates egress (and ingress)',
    () => [
      knp('x', 'implicit-egress', {
        podSelector: podSel({ pod: 'a' }),
        egress: [{ to: [{ namespaceSelector: podSel({ ns: 'z' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => (f !== 'x/a' || nsOf(t) === 'z') && t !== 'x/a',
  ),
  single(
    'client-side egress deny wins over a server that allows',
    () => [
      knp('x', 'client-deny', { podSelector: podSel({ pod: 'a' }), policyTypes: ['Egress'] }),
      knp('y', 'server-allow', { podSelector: all, ingress: [{}] }),
    ],
    [TCP80],
    (f) => f !== 'x/a',
  ),
  single(
    'egress to a pod in another namespace by podSelector and namespaceSelector',
    () => [
      knp('x', 'egress-ya', {
        podSelector: podSel({ pod: 'a' }),
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: podSel({ ns: 'y' }), podSelector: podSel({ pod: 'a' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => f !== 'x/a' || t === 'y/a',
  ),
  single(
    'egress to a namespace',
    () => [
      knp('x', 'egress-y', {
        podSelector: all,
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: podSel({ ns: 'y' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => nsOf(f) !== 'x' || nsOf(t) === 'y',
  ),
  single(
    'any port on a specific protocol (UDP only)',
    () => [knp('x', 'udp-only', { podSelector: all, ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    [TCP80, UDP80],
    (_f, t, p) => nsOf(t) !== 'x' || p.protocol === 'UDP',
  ),
  single(
    'TCP is refused when a policy allows only UDP 81',
    () => [
      knp('x', 'udp-81', { podSelector: podSel({ pod: 'a' }), ingress: [{ ports: [{ protocol: 'UDP', port: 81 }] }] }),
    ],
    [TCP81, UDP81],
    (_f, t, p) => t !== 'x/a' || p.protocol === 'UDP',
  ),
  single(
    'protocol SCTP is not treated as TCP, and isolates the pods it selects',
    () => [knp('x', 'sctp', { podSelector: all, ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }] })],
    [TCP80, UDP81],
    (_f, t) => nsOf(t) !== 'x',
  ),
  {
    name: 'an ingress allow-all takes precedence over a port-limited policy',
    steps: () => [
      {
        apply: [knp('x', 'only-80', { podSelector: podSel({ pod: 'a' }), ingress: [{ ports: [{ port: 80 }] }] })],
        probes: [TCP81],
        reach: (_f, t) => t !== 'x/a',
      },
      {
        apply: [knp('x', 'allow-all', { podSelector: all, ingress: [{}] })],
        probes: [TCP80, TCP81],
        reach: () => true,
      },
    ],
  },
  {
    name: 'an egress allow-all takes precedence over a port-limited policy',
    steps: () => [
      {
        apply: [
          knp('x', 'egress-80', {
            podSelector: podSel({ pod: 'a' }),
            policyTypes: ['Egress'],
            egress: [{ ports: [{ port: 80 }] }],
          }),
        ],
        probes: [TCP81],
        reach: (f) => f !== 'x/a',
      },
      {
        apply: [knp('x', 'egress-all', { podSelector: podSel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{}] })],
        probes: [TCP80, TCP81],
        reach: () => true,
      },
    ],
  },
  {
    name: 'policies stop being enforced after they are deleted',
    steps: () => [
      {
        apply: [knp('x', 'deny-all', { podSelector: all, policyTypes: ['Ingress', 'Egress'] })],
        probes: [TCP80],
        reach: (f, t) => nsOf(f) !== 'x' && nsOf(t) !== 'x',
      },
      { delete: [knp('x', 'deny-all', {})], probes: [TCP80], reach: () => true },
    ],
  },
  single(
    'egress to a server in a CIDR block',
    (w) => [
      knp('x', 'cidr', {
        podSelector: podSel({ pod: 'a' }),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${w.ip('y/b')}/32` } }] }],
      }),
    ],
    [TCP80],
    (f, t) => f !== 'x/a' || t === 'y/b',
  ),
  single(
    'egress except clause inside a CIDR block',
    (w) => [
      knp('x', 'except', {
        podSelector: podSel({ pod: 'a' }),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '192.168.0.0/16', except: [`${w.ip('y/b')}/32`] } }] }],
      }),
    ],
    [TCP80],
    (f, t) => f !== 'x/a' || t !== 'y/b',
  ),
  single(
    'an address in both an ipBlock and its except is allowed by another policy',
    (w) => [
      knp('x', 'except', {
        podSelector: podSel({ pod: 'a' }),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '192.168.0.0/16', except: [`${w.ip('y/b')}/32`] } }] }],
      }),
      knp('x', 'just-yb', {
        podSelector: podSel({ pod: 'a' }),
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${w.ip('y/b')}/32` } }] }],
      }),
    ],
    [TCP80],
    () => true,
  ),
  single(
    'ingress from an ipBlock',
    (w) => [
      knp('x', 'ingress-cidr', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ ipBlock: { cidr: `${w.ip('z/c')}/32` } }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || f === 'z/c',
  ),
  {
    name: 'ingress and egress are controlled independently',
    steps: () => [
      {
        apply: [knp('x', 'in', { podSelector: podSel({ pod: 'a' }), policyTypes: ['Ingress'] })],
        probes: [TCP80],
        reach: (_f, t) => t !== 'x/a',
      },
      {
        apply: [knp('x', 'out', { podSelector: podSel({ pod: 'a' }), policyTypes: ['Egress'] })],
        probes: [TCP80],
        reach: (f, t) => t !== 'x/a' && f !== 'x/a',
      },
    ],
  },
];

export const CALICO_CASES: Case[] = [
  single(
    'GlobalNetworkPolicy Deny by namespaceSelector, then Allow',
    () => [
      gnp('deny-y', {
        order: 10,
        selector: XA,
        types: ['Ingress'],
        ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'y'" } }, { action: 'Allow' }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) !== 'y',
  ),
  single(
    'Deny ordered before Allow wins',
    () => [
      gnp('allow-y', {
        order: 20,
        selector: XA,
        ingress: [{ action: 'Allow', source: { namespaceSelector: "ns == 'y'" } }],
      }),
      gnp('deny-yb', {
        order: 10,
        selector: XA,
        ingress: [{ action: 'Deny', source: { selector: "pod == 'b'", namespaceSelector: "ns == 'y'" } }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || is(f, 'y/a', 'y/c'),
  ),
  single(
    'Allow ordered before Deny wins',
    () => [
      gnp('allow-y', {
        order: 20,
        selector: XA,
        ingress: [{ action: 'Allow', source: { namespaceSelector: "ns == 'y'" } }],
      }),
      gnp('deny-yb', {
        order: 30,
        selector: XA,
        ingress: [{ action: 'Deny', source: { selector: "pod == 'b'", namespaceSelector: "ns == 'y'" } }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) === 'y',
  ),
  single(
    'Pass hands over to the next tier',
    () => [
      tier('security', 100),
      gnp('security.pass-y', {
        tier: 'security',
        order: 10,
        selector: XA,
        ingress: [{ action: 'Pass', source: { namespaceSelector: "ns == 'y'" } }, { action: 'Deny' }],
      }),
      knp('x', 'allow-yb', {
        podSelector: podSel({ pod: 'a' }),
        ingress: [{ from: [{ namespaceSelector: podSel({ ns: 'y' }), podSelector: podSel({ pod: 'b' }) }] }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || f === 'y/b',
  ),
  single(
    'end-of-tier drop stops traffic a later tier would allow',
    () => [
      tier('security', 100),
      gnp('security.allow-z', {
        tier: 'security',
        order: 10,
        selector: XA,
        ingress: [{ action: 'Allow', source: { namespaceSelector: "ns == 'z'" } }],
      }),
      knp('x', 'allow-all', { podSelector: all, ingress: [{}] }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) === 'z',
  ),
  single(
    'a tier with defaultAction Pass falls through to the profiles',
    () => [
      tier('permissive', 100, 'Pass'),
      gnp('permissive.deny-y', {
        tier: 'permissive',
        order: 10,
        selector: XA,
        ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'y'" } }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) !== 'y',
  ),
  single(
    'Log then Allow keeps traffic flowing',
    () => [
      gnp('log-then-deny-z', {
        order: 10,
        selector: XA,
        ingress: [
          { action: 'Log' },
          { action: 'Deny', source: { namespaceSelector: "ns == 'z'" } },
          { action: 'Allow' },
        ],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || nsOf(f) !== 'z',
  ),
  single(
    'notNets excludes one address',
    (w) => [
      gnp('not-nets', {
        order: 10,
        selector: XA,
        ingress: [{ action: 'Allow', source: { notNets: [`${w.ip('y/b')}/32`] } }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || f !== 'y/b',
  ),
  single(
    'notSelector excludes matching pods',
    () => [
      gnp('not-selector', {
        order: 10,
        selector: XA,
        ingress: [{ action: 'Allow', source: { notSelector: "pod == 'b'" } }],
      }),
    ],
    [TCP80],
    (f, t) => t !== 'x/a' || podOf(f) !== 'b',
  ),
  single(
    'GlobalNetworkPolicy with a policy-level namespaceSelector isolates a namespace',
    () => [gnp('isolate-z', { order: 10, namespaceSelector: "ns == 'z'", types: ['Ingress'] })],
    [TCP80],
    (_f, t) => nsOf(t) !== 'z',
  ),
  single(
    'profile fallback after Pass skips the rest of the tier',
    () => [
      gnp('pass-xa', { order: 10, selector: XA, ingress: [{ action: 'Pass' }] }),
      knp('x', 'deny', { podSelector: all, policyTypes: ['Ingress'] }),
    ],
    [TCP80],
    (_f, t) => nsOf(t) !== 'x' || t === 'x/a',
  ),
  single(
    'Kubernetes policies sit at order 1000 among Calico ones',
    () => [
      cnp('x', 'deny-y', {
        order: 500,
        selector: 'all()',
        ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'y'" } }],
      }),
      knp('x', 'allow-all', { podSelector: all, ingress: [{}] }),
      cnp('x', 'deny-z-late', {
        order: 1500,
        selector: 'all()',
        ingress: [{ action: 'Deny', source: { namespaceSelector: "ns == 'z'" } }],
      }),
    ],
    [TCP80],
    (f, t) => nsOf(t) !== 'x' || nsOf(f) !== 'y',
  ),
  single(
    'Calico NetworkPolicy with protocol and destination port',
    () => [
      cnp('x', 'tcp-81', {
        selector: "pod == 'a'",
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [81] } }],
      }),
    ],
    [TCP80, TCP81],
    (_f, t, p) => t !== 'x/a' || p.port === 81,
  ),
  single(
    'GlobalNetworkPolicy egress Deny to a net',
    (w) => [
      gnp('egress-deny-zc', {
        order: 10,
        selector: "projectcalico.org/namespace == 'x'",
        types: ['Egress'],
        egress: [{ action: 'Deny', destination: { nets: [`${w.ip('z/c')}/32`] } }, { action: 'Allow' }],
      }),
    ],
    [TCP80],
    (f, t) => nsOf(f) !== 'x' || t !== 'z/c',
  ),
];

export const isPolicyObject = (o: object): boolean => {
  const kind = (o as { kind: string }).kind;
  return kind !== 'Namespace' && kind !== 'Pod';
};

export type { PodKey };
void nsOf;
