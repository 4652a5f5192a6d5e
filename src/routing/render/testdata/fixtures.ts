// Named routing states for the renderer's golden tests: a full mesh, a route-reflector topology and external peers.
import type { RoutingState, RoutingNode } from '../state.js';

const node = (n: number, extra: Partial<RoutingNode> = {}): RoutingNode => ({
  name: `node${n}`,
  labels: { 'kubernetes.io/hostname': `node${n}` },
  ipv4Address: `172.31.255.1${n}/24`,
  ...extra,
});

const pools: RoutingState['pools'] = [
  {
    name: 'default-ipv4-ippool',
    cidr: '10.65.0.0/16',
    family: 4,
    vxlanMode: 'Never',
    ipipMode: 'Never',
    natOutgoing: true,
    disabled: false,
    disableBGPExport: false,
  },
  {
    name: 'private-pool',
    cidr: '10.66.0.0/16',
    family: 4,
    vxlanMode: 'Never',
    ipipMode: 'Never',
    natOutgoing: false,
    disabled: false,
    disableBGPExport: true,
  },
  {
    name: 'vxlan-pool',
    cidr: '10.67.0.0/16',
    family: 4,
    vxlanMode: 'Always',
    ipipMode: 'Never',
    natOutgoing: false,
    disabled: false,
    disableBGPExport: false,
  },
  {
    name: 'default-ipv6-ippool',
    cidr: 'fd10:0:0::/48',
    family: 6,
    vxlanMode: 'Never',
    ipipMode: 'Never',
    natOutgoing: false,
    disabled: false,
    disableBGPExport: false,
  },
];

const blocks: RoutingState['blocks'] = [
  { cidr: '10.65.1.0/26', affinityHost: 'node1', allocations: [{ ip: '10.65.1.1', node: 'node1' }] },
  { cidr: '10.65.1.64/26', affinityHost: 'node1', allocations: [{ ip: '10.65.1.70', node: 'node2' }] },
  { cidr: '10.66.1.0/26', affinityHost: 'node1', allocations: [] },
  { cidr: '10.65.2.0/26', affinityHost: 'node2', allocations: [] },
  { cidr: 'fd10::1:0:0:0/122', affinityHost: 'node1', allocations: [] },
];

const bgp: RoutingState['bgp'] = {
  nodeToNodeMeshEnabled: true,
  asNumber: 64512,
  logSeverityScreen: 'Info',
  nodeMeshMaxRestartTime: '30s',
  ignoredInterfaces: [],
  bindNodeIP: false,
  serviceCidrs: [],
  prefixCommunities: [],
};

export const meshState: RoutingState = {
  nodes: [
    node(1, { ipv6Address: 'fd00:255::11/64' }),
    node(2, { ipv6Address: 'fd00:255::12/64' }),
    node(3, { asNumber: 64513 }),
  ],
  pools,
  blocks,
  bgp,
  peers: [],
  workloads: [],
};

export const routeReflectorState: RoutingState = {
  nodes: [node(1, { routeReflectorClusterID: '224.0.0.1', labels: { 'route-reflector': 'true' } }), node(2), node(3)],
  pools: pools.filter((p) => p.family === 4),
  blocks,
  bgp: { ...bgp, nodeToNodeMeshEnabled: false },
  peers: [
    {
      name: 'peer-with-route-reflectors',
      nodeSelector: 'all()',
      peerSelector: "route-reflector == 'true'",
      sourceAddress: 'UseNodeIP',
      filters: [],
    },
  ],
  workloads: [],
};

export const externalPeerState: RoutingState = {
  nodes: [node(1), node(2)],
  pools: pools.filter((p) => p.family === 4),
  blocks,
  bgp: {
    ...bgp,
    nodeMeshPassword: { name: 'bgp-secrets', key: 'mesh' },
    bindNodeIP: true,
    serviceCidrs: ['10.96.0.0/12'],
    prefixCommunities: [
      { cidr: '10.65.1.0/26', communities: ['65000:100', '65000:1:2'] },
      { cidr: '10.96.0.0/12', communities: ['65000:300'] },
    ],
  },
  peers: [
    {
      name: 'tor',
      peerIP: '172.31.254.1',
      asNumber: 65000,
      keepaliveTime: '10s',
      holdTime: '30s',
      maxRestartTime: '1m',
      sourceAddress: 'UseNodeIP',
      passwordSecret: { name: 'bgp-secrets', key: 'tor' },
      numAllowedLocalASNumbers: 2,
      filters: ['tor-filter', 'missing-filter'],
      reachableBy: '172.31.255.1',
    },
    {
      name: 'node1-ttl',
      node: 'node1',
      peerIP: '172.31.255.250:1790',
      asNumber: 65001,
      ttlSecurity: 1,
      sourceAddress: 'None',
      filters: [],
    },
  ],
  filters: [
    {
      name: 'tor-filter',
      exportV4: [
        { action: 'Reject', matchOperator: 'Equal', cidr: '10.65.2.0/26' },
        { action: 'Accept', matchOperator: 'In', cidr: '10.65.0.0/16', prefixLength: { min: 26, max: 32 } },
        { action: 'Reject', interface: '*.calico' },
      ],
      importV4: [
        { action: 'Reject', matchOperator: 'In', cidr: '203.0.113.0/24', source: 'RemotePeers' },
        { action: 'Reject', matchOperator: 'NotIn', cidr: '0.0.0.0/0', prefixLength: { max: 8 } },
      ],
      exportV6: [],
      importV6: [{ action: 'Reject' }],
    },
  ],
  workloads: [],
};
