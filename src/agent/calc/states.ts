// Named datastore states and the desired dataplane each must produce (Felix's calc-graph test style). Used by
// graph.test.ts (reached from empty, from the previous state, in reverse, duplicated, batched); a renderer's tests
// can feed the same states through CalcGraph. Pure data.
import {
  felixConfig,
  gnetset,
  gnp,
  hep,
  netset,
  node,
  np,
  nsProfile,
  profile,
  tier,
  wep,
  type Res,
  type View,
} from './testing/fixtures.js';

export interface CalcState {
  name: string;
  resources: Res[];
  expected: Partial<View> & Pick<View, 'endpoints' | 'policies' | 'profiles' | 'ipSets'>;
}

const base: Res[] = [
  nsProfile('ns1', { team: 'a' }),
  nsProfile('ns2', { team: 'b' }),
  wep('a', { labels: { app: 'web' }, ips: ['10.0.0.1/32'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
  wep('b', { labels: { app: 'db' }, ips: ['10.0.0.2/32', 'fd00::2/128'] }),
  wep('r1', { ns: 'ns2', node: 'node2', labels: { role: 'client' }, ips: ['10.0.1.1/32'] }),
  node('node1', '192.0.2.1/24'),
  node('node2', '192.0.2.2/24'),
];

const profilesOnly = {
  'wep/ns1/a': { iface: 'calia', ips: ['10.0.0.1/32'], in: ['profile kns.ns1'], out: ['profile kns.ns1'] },
  'wep/ns1/b': {
    iface: 'calib',
    ips: ['10.0.0.2/32', 'fd00::2/128'],
    in: ['profile kns.ns1'],
    out: ['profile kns.ns1'],
  },
};
const allowAll = { in: ['allow'], out: ['allow'] };
const hosts = { 'all-hosts-net': ['192.0.2.1/32', '192.0.2.2/32'], 'this-host': ['192.0.2.1/32'] };

const allowWeb = np('allow-web', 'ns1', {
  order: 100,
  selector: "app == 'web'",
  ingress: [
    {
      action: 'Allow',
      protocol: 'TCP',
      source: { selector: "role == 'client'", namespaceSelector: "team == 'b'" },
      destination: { ports: [80] },
    },
  ],
});

export const STATES: CalcState[] = [
  {
    name: 'empty',
    resources: [],
    expected: { endpoints: {}, policies: {}, profiles: {}, ipSets: {} },
  },
  {
    name: 'local endpoints fall back to their namespace profile',
    resources: base,
    expected: { endpoints: profilesOnly, policies: {}, profiles: { 'kns.ns1': allowAll }, ipSets: hosts },
  },
  {
    name: 'allow by label from another namespace; other pods untouched',
    resources: [...base, allowWeb],
    expected: {
      endpoints: {
        ...profilesOnly,
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          in: ['tier default: np/default/ns1/allow-web', 'profile kns.ns1'],
        },
      },
      policies: {
        'np/default/ns1/allow-web': {
          in: ['allow tcp src in {(pcns.team == "b" && role == "client")} dstport 80'],
          out: [],
        },
      },
      profiles: { 'kns.ns1': allowAll },
      ipSets: { ...hosts, '{(pcns.team == "b" && role == "client")}': ['10.0.1.1/32'] },
    },
  },
  {
    name: 'tiers: Pass tier, deny before allow by order, ties by name, default tier last',
    resources: [
      ...base,
      allowWeb,
      tier('audit', { order: 5, defaultAction: 'Pass' }),
      tier('security', { order: 10 }),
      gnp('audit.log-all', { tier: 'audit', selector: 'all()', ingress: [{ action: 'Log' }] }),
      gnp('security.pass-web', {
        tier: 'security',
        selector: "app == 'web'",
        ingress: [{ action: 'Pass', source: { nets: ['10.0.1.0/24'] } }, { action: 'Deny' }],
      }),
      gnp('block-bad', {
        order: 10,
        selector: 'all()',
        ingress: [{ action: 'Deny', source: { nets: ['10.0.9.0/24'] } }],
      }),
      gnp('aaa-same-order', { order: 100, selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'UDP' }] }),
      np('zz-egress', 'ns1', { selector: 'all()', egress: [{ action: 'Allow' }] }),
    ],
    expected: {
      endpoints: {
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          in: [
            'tier audit (pass): gnp/audit/audit.log-all',
            'tier security: gnp/security/security.pass-web',
            'tier default: gnp/default/block-bad gnp/default/aaa-same-order np/default/ns1/allow-web',
            'profile kns.ns1',
          ],
          out: ['tier default: np/default/ns1/zz-egress', 'profile kns.ns1'],
        },
        'wep/ns1/b': {
          ...profilesOnly['wep/ns1/b'],
          in: ['tier audit (pass): gnp/audit/audit.log-all', 'tier default: gnp/default/block-bad', 'profile kns.ns1'],
          out: ['tier default: np/default/ns1/zz-egress', 'profile kns.ns1'],
        },
      },
      policies: {
        'gnp/audit/audit.log-all': { in: ['log prefix calico-packet'], out: [] },
        'gnp/security/security.pass-web': { in: ['pass src net 10.0.1.0/24', 'deny'], out: [] },
        'gnp/default/block-bad': { in: ['deny src net 10.0.9.0/24'], out: [] },
        'gnp/default/aaa-same-order': { in: ['allow udp'], out: [] },
        'np/default/ns1/allow-web': {
          in: ['allow tcp src in {(pcns.team == "b" && role == "client")} dstport 80'],
          out: [],
        },
        'np/default/ns1/zz-egress': { in: [], out: ['allow'] },
      },
      profiles: { 'kns.ns1': allowAll },
      ipSets: { ...hosts, '{(pcns.team == "b" && role == "client")}': ['10.0.1.1/32'] },
    },
  },
  {
    name: 'staged policies are reported, never enforced',
    resources: [
      ...base,
      {
        kind: 'StagedNetworkPolicy',
        metadata: { name: 'try-deny', namespace: 'ns1' },
        spec: { selector: 'all()', ingress: [{ action: 'Deny' }] },
      },
      {
        kind: 'StagedGlobalNetworkPolicy',
        metadata: { name: 'try-egress' },
        spec: { selector: "app == 'db'", types: ['Egress'] },
      },
      {
        kind: 'StagedKubernetesNetworkPolicy',
        metadata: { name: 'try-knp', namespace: 'ns1' },
        spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] },
      },
    ],
    expected: {
      endpoints: {
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          staged: ['in default: snp/default/ns1/try-deny sknp/default/ns1/try-knp'],
        },
        'wep/ns1/b': {
          ...profilesOnly['wep/ns1/b'],
          staged: ['in default: snp/default/ns1/try-deny', 'out default: sgnp/default/try-egress'],
        },
      },
      policies: {},
      profiles: { 'kns.ns1': allowAll },
      ipSets: hosts,
      staged: ['sgnp/default/try-egress', 'sknp/default/ns1/try-knp', 'snp/default/ns1/try-deny'],
    },
  },
  {
    name: 'network sets, global(), named ports, notSelector, SCTP, ICMP, notProtocol, notNets',
    resources: [
      ...base,
      netset('ext', 'ns1', ['192.168.0.0/16'], { kind: 'ext' }),
      netset('other-ns', 'ns2', ['172.16.0.0/12'], { kind: 'ext' }),
      gnetset('world', ['203.0.113.0/24', '2001:db8::/32'], { kind: 'ext' }),
      np('egress-ext', 'ns1', {
        selector: "app == 'web'",
        types: ['Egress'],
        egress: [{ action: 'Allow', destination: { selector: "kind == 'ext'" } }],
      }),
      gnp('global-ext', {
        selector: "app == 'db'",
        types: ['Egress'],
        egress: [{ action: 'Allow', destination: { selector: "kind == 'ext'", namespaceSelector: 'global()' } }],
      }),
      np('to-http', 'ns1', {
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http', 9090] } }],
      }),
      gnp('db-misc', {
        selector: "app == 'db'",
        ingress: [
          {
            action: 'Allow',
            protocol: 'SCTP',
            source: { notSelector: "role == 'client'" },
            destination: { ports: ['9000:9010'] },
          },
          { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
          { action: 'Deny', ipVersion: 4, notProtocol: 'UDP', source: { notNets: ['10.0.0.0/8'] } },
        ],
      }),
    ],
    expected: {
      endpoints: {
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          in: ['tier default: np/default/ns1/to-http', 'profile kns.ns1'],
          out: ['tier default: np/default/ns1/egress-ext', 'profile kns.ns1'],
        },
        'wep/ns1/b': {
          ...profilesOnly['wep/ns1/b'],
          in: ['tier default: gnp/default/db-misc', 'profile kns.ns1'],
          out: ['tier default: gnp/default/global-ext', 'profile kns.ns1'],
        },
      },
      policies: {
        'np/default/ns1/egress-ext': {
          in: [],
          out: ['allow dst in {(projectcalico.org/namespace == "ns1" && kind == "ext")}'],
        },
        'gnp/default/global-ext': {
          in: [],
          out: ['allow dst in {(!has(projectcalico.org/namespace) && kind == "ext")}'],
        },
        'np/default/ns1/to-http': { in: ['allow tcp dstport 9090 dstport in {all()}:tcp/http'], out: [] },
        'gnp/default/db-misc': {
          in: [
            'allow sctp src !in {role == "client"} dstport 9000-9010',
            'allow ipv4 icmp type 8 code 0',
            'deny ipv4 !udp src !net 10.0.0.0/8',
          ],
          out: [],
        },
      },
      profiles: { 'kns.ns1': allowAll },
      ipSets: {
        ...hosts,
        '{(projectcalico.org/namespace == "ns1" && kind == "ext")}': ['192.168.0.0/16'],
        '{(!has(projectcalico.org/namespace) && kind == "ext")}': ['203.0.113.0/24', '2001:db8::/32'],
        '{all()}:tcp/http': ['10.0.0.1,tcp:8080'],
        '{role == "client"}': ['10.0.1.1/32'],
      },
    },
  },
  {
    name: 'host endpoints: normal, applyOnForward, preDNAT, doNotTrack; other nodes ignored',
    resources: [
      ...base,
      hep('h-eth0', { interfaceName: 'eth0', expectedIPs: ['192.0.2.1'] }, { host: 'true' }),
      hep('h-all', { interfaceName: '*', profiles: ['kns.ns1'] }, { host: 'true', all: 'yes' }),
      { ...hep('h-other', { interfaceName: 'eth0', node: 'node2', expectedIPs: ['192.0.2.2'] }, { host: 'true' }) },
      gnp('host-normal', {
        selector: "host == 'true'",
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [22] } }],
      }),
      gnp('host-fwd', {
        selector: "host == 'true'",
        applyOnForward: true,
        types: ['Ingress', 'Egress'],
        egress: [{ action: 'Allow', destination: { selector: "host == 'true'" } }],
      }),
      gnp('host-prednat', {
        selector: 'has(all)',
        preDNAT: true,
        applyOnForward: true,
        ingress: [{ action: 'Deny', source: { nets: ['10.9.0.0/16'] } }],
      }),
      gnp('host-untracked', {
        selector: "host == 'true'",
        doNotTrack: true,
        applyOnForward: true,
        ingress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }],
      }),
    ],
    expected: {
      endpoints: {
        ...profilesOnly,
        'hep/h-eth0': {
          iface: 'eth0',
          ips: ['192.0.2.1/32'],
          in: ['tier default: gnp/default/host-fwd gnp/default/host-normal'],
          out: ['tier default: gnp/default/host-fwd'],
          fwdIn: ['tier default: gnp/default/host-fwd'],
          fwdOut: ['tier default: gnp/default/host-fwd'],
          untrackedIn: ['tier default (pass): gnp/default/host-untracked'],
        },
        'hep/h-all': {
          iface: '*',
          ips: [],
          in: ['tier default: gnp/default/host-fwd gnp/default/host-normal', 'profile kns.ns1'],
          out: ['tier default: gnp/default/host-fwd', 'profile kns.ns1'],
          fwdIn: ['tier default: gnp/default/host-fwd'],
          fwdOut: ['tier default: gnp/default/host-fwd'],
          preDnatIn: ['tier default (pass): gnp/default/host-prednat'],
          untrackedIn: ['tier default (pass): gnp/default/host-untracked'],
        },
      },
      policies: {
        'gnp/default/host-normal': { in: ['allow tcp dstport 22'], out: [] },
        'gnp/default/host-fwd': { in: [], out: ['allow dst in {host == "true"}'] },
        'gnp/default/host-prednat': { in: ['deny src net 10.9.0.0/16'], out: [] },
        'gnp/default/host-untracked': { in: ['allow udp dstport 53'], out: [] },
      },
      profiles: { 'kns.ns1': allowAll },
      ipSets: { ...hosts, '{host == "true"}': ['192.0.2.1/32', '192.0.2.2/32'] },
    },
  },
  {
    name: 'service accounts, default deny in both directions, missing profile programmed empty',
    resources: [
      ...base.filter((r) => r.metadata.name !== 'a'),
      wep('a', { labels: { app: 'web' }, ips: ['10.0.0.1/32'], sa: 'web-sa', profiles: ['kns.ns1', 'ksa.ns1.web-sa'] }),
      profile('ksa.ns1.web-sa', {
        labelsToApply: { 'pcsa.role': 'frontend', 'pcsa.projectcalico.org/name': 'web-sa' },
      }),
      wep('c', { labels: { app: 'cache' }, ips: ['10.0.0.3/32'], profiles: ['kns.missing'] }),
      np('deny-all', 'ns1', { selector: "app != 'cache'", types: ['Ingress', 'Egress'] }),
      np('from-sa', 'ns1', {
        order: 1,
        selector: "app == 'db'",
        ingress: [
          { action: 'Allow', source: { serviceAccounts: { names: ['web-sa'], selector: "role == 'frontend'" } } },
        ],
      }),
    ],
    expected: {
      endpoints: {
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          in: ['tier default: np/default/ns1/deny-all', 'profile kns.ns1', 'profile ksa.ns1.web-sa'],
          out: ['tier default: np/default/ns1/deny-all', 'profile kns.ns1', 'profile ksa.ns1.web-sa'],
        },
        'wep/ns1/b': {
          ...profilesOnly['wep/ns1/b'],
          in: ['tier default: np/default/ns1/from-sa np/default/ns1/deny-all', 'profile kns.ns1'],
          out: ['tier default: np/default/ns1/deny-all', 'profile kns.ns1'],
        },
        'wep/ns1/c': {
          iface: 'calic',
          ips: ['10.0.0.3/32'],
          in: ['profile kns.missing'],
          out: ['profile kns.missing'],
        },
      },
      policies: {
        'np/default/ns1/deny-all': { in: [], out: [] },
        'np/default/ns1/from-sa': {
          in: [
            'allow src in {(projectcalico.org/namespace == "ns1" && projectcalico.org/serviceaccount in {"web-sa"} && pcsa.role == "frontend")}',
          ],
          out: [],
        },
      },
      profiles: { 'kns.ns1': allowAll, 'kns.missing': { in: [], out: [] }, 'ksa.ns1.web-sa': { in: [], out: [] } },
      ipSets: {
        ...hosts,
        '{(projectcalico.org/namespace == "ns1" && projectcalico.org/serviceaccount in {"web-sa"} && pcsa.role == "frontend")}':
          ['10.0.0.1/32'],
      },
    },
  },
  {
    name: 'converted Kubernetes NetworkPolicies: stacked allows, ipBlock except, egress-only isolation',
    resources: [
      ...base,
      np('knp.default.db-from-web', 'ns1', {
        tier: 'default',
        order: 1000,
        selector: "projectcalico.org/orchestrator == 'k8s' && app == 'db'",
        types: ['Ingress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: "projectcalico.org/orchestrator == 'k8s' && app == 'web'" },
            destination: { ports: ['5432:5433'] },
          },
        ],
      }),
      np('knp.default.db-from-block', 'ns1', {
        tier: 'default',
        order: 1000,
        selector: "projectcalico.org/orchestrator == 'k8s' && app == 'db'",
        types: ['Ingress'],
        ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/16'], notNets: ['10.0.5.0/24'] } }],
      }),
      np('knp.default.web-egress', 'ns1', {
        tier: 'default',
        order: 1000,
        selector: "projectcalico.org/orchestrator == 'k8s' && app == 'web'",
        types: ['Egress'],
        egress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            destination: { selector: "projectcalico.org/orchestrator == 'k8s' && app == 'db'" },
          },
          { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
        ],
      }),
    ],
    expected: {
      endpoints: {
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          out: ['tier default: np/default/ns1/knp.default.web-egress', 'profile kns.ns1'],
        },
        'wep/ns1/b': {
          ...profilesOnly['wep/ns1/b'],
          in: [
            'tier default: np/default/ns1/knp.default.db-from-block np/default/ns1/knp.default.db-from-web',
            'profile kns.ns1',
          ],
        },
      },
      policies: {
        'np/default/ns1/knp.default.db-from-web': {
          in: [
            'allow tcp src in {(projectcalico.org/namespace == "ns1" && projectcalico.org/orchestrator == "k8s" && app == "web")} dstport 5432-5433',
          ],
          out: [],
        },
        'np/default/ns1/knp.default.db-from-block': { in: ['allow src net 10.0.0.0/16 src !net 10.0.5.0/24'], out: [] },
        'np/default/ns1/knp.default.web-egress': {
          in: [],
          out: [
            'allow tcp dst in {(projectcalico.org/namespace == "ns1" && projectcalico.org/orchestrator == "k8s" && app == "db")}',
            'allow udp dstport 53',
          ],
        },
      },
      profiles: { 'kns.ns1': allowAll },
      ipSets: {
        ...hosts,
        '{(projectcalico.org/namespace == "ns1" && projectcalico.org/orchestrator == "k8s" && app == "web")}': [
          '10.0.0.1/32',
        ],
        '{(projectcalico.org/namespace == "ns1" && projectcalico.org/orchestrator == "k8s" && app == "db")}': [
          '10.0.0.2/32',
          'fd00::2/128',
        ],
      },
    },
  },
  {
    name: 'IPv6: ICMPv6 type/code, notICMP, v6 nets, protocol numbers',
    resources: [
      ...base,
      gnp('v6', {
        selector: "app == 'db'",
        ingress: [
          { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128, code: 0 } },
          { action: 'Deny', protocol: 'ICMP', notICMP: { type: 8 } },
          { action: 'Allow', protocol: 47, source: { nets: ['fd00:1::/64'] } },
          { action: 'Allow', ipVersion: 6, notProtocol: 'TCP', destination: { notNets: ['fd00::/120'] } },
        ],
      }),
    ],
    expected: {
      endpoints: {
        ...profilesOnly,
        'wep/ns1/b': { ...profilesOnly['wep/ns1/b'], in: ['tier default: gnp/default/v6', 'profile kns.ns1'] },
      },
      policies: {
        'gnp/default/v6': {
          in: [
            'allow ipv6 icmpv6 type 128 code 0',
            'deny ipv4 icmp !type 8',
            'allow 47 src net fd00:1::/64',
            'allow ipv6 !tcp dst !net fd00::/120',
          ],
          out: [],
        },
      },
      profiles: { 'kns.ns1': allowAll },
      ipSets: hosts,
    },
  },
  {
    name: 'an invalid policy is reported and not programmed; a policy selecting only remote pods is not programmed',
    resources: [
      ...base,
      np('bad', 'ns1', {
        selector: 'all()',
        ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: ['80:70'] } }],
      }),
      np('bad-selector', 'ns1', { selector: "app = 'x'" }),
      np('remote-only', 'ns2', {
        selector: "role == 'client'",
        ingress: [{ action: 'Allow', source: { selector: "x == 'y'" } }],
      }),
    ],
    expected: {
      endpoints: profilesOnly,
      policies: {},
      profiles: { 'kns.ns1': allowAll },
      ipSets: hosts,
      problems: [
        'NetworkPolicy ns1/bad: spec.ingress[0].destination.ports[0]: range "80:70": start is greater than end',
        'NetworkPolicy ns1/bad-selector: spec.selector: invalid selector "app = \'x\'": PLACEHOLDER',
      ],
    },
  },
  {
    name: 'Felix configuration (node beats default), log prefix, floating IPs, spoofing exemptions',
    resources: [
      ...base.filter((r) => r.metadata.name !== 'a'),
      wep('a', {
        labels: { app: 'web' },
        ips: ['10.0.0.1/32'],
        extra: {
          ipNATs: [{ internalIP: '10.0.0.1', externalIP: '198.51.100.1' }],
          allowSpoofedSourcePrefixes: ['10.8.0.0/16'],
        },
      }),
      felixConfig('default', {
        logPrefix: 'from-default',
        floatingIPs: 'Enabled',
        defaultEndpointToHostAction: 'Accept',
      }),
      felixConfig('node.node1', { logPrefix: 'from-node' }),
      felixConfig('node.node2', { logPrefix: 'not-mine' }),
      gnp('log-web', { selector: "app == 'web'", ingress: [{ action: 'Log' }, { action: 'Allow' }] }),
    ],
    expected: {
      endpoints: {
        ...profilesOnly,
        'wep/ns1/a': {
          ...profilesOnly['wep/ns1/a'],
          in: ['tier default: gnp/default/log-web', 'profile kns.ns1'],
          spoof: ['10.8.0.0/16'],
          nat: ['198.51.100.1->10.0.0.1'],
        },
      },
      policies: { 'gnp/default/log-web': { in: ['log prefix from-node', 'allow'], out: [] } },
      profiles: { 'kns.ns1': allowAll },
      ipSets: hosts,
    },
  },
];
